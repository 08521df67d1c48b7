//! `pd demo seed`: a Tatarstan-like demo region created through the
//! identity service's own requests (so every change also yields its
//! events), once; later runs print the logins and only finish the demo
//! campaign's allocation if it is not done yet (a region seeded before the
//! allocation service existed gets it then).

use anyhow::Context;
use pd_bus::{Bus, CallContext};
use pd_domain::ErrorKind;
use pd_domain::{Grant, Inn, Principal, Role, Snils};
use pd_proto::Operation;
use pd_proto::allocation::v1 as al;
use pd_proto::common::v1::Empty;
use pd_proto::identity::v1 as pb;
use pd_proto::ops::allocation as allocation_ops;
use pd_proto::ops::identity as identity_ops;
use pd_proto::ops::registry as registry_ops;
use pd_runtime::tokens::{TokenIssuer, TokenVerifier};
use pd_runtime::{Settings, Shutdown};
use std::path::Path;

const REGION_CODE: &str = "DEMO-16";

/// How long the allocation service may take to learn the demo's campaign
/// and educators from the registry's and identity's events.
const ALLOCATION_CATCH_UP: std::time::Duration = std::time::Duration::from_secs(120);
/// The demo's normative cost: 25,000 ₽ per educator (un_quota), 350 ₽ per
/// hour of a 72-hour voucher or plan-order (the other models), in kopecks.
const NORMATIVE_PER_EDUCATOR: i64 = 2_500_000;
const NORMATIVE_PER_HOUR: i64 = 35_000;

const MUNICIPALITIES: [&str; 3] = [
    "г. Казань",
    "г. Набережные Челны",
    "Альметьевский муниципальный район",
];

/// (municipality index, name, kind)
const ORGANIZATIONS: [(usize, &str, &str); 10] = [
    (0, "МБОУ «Гимназия № 1» г. Казани", "school"),
    (0, "МАОУ «Лицей № 2» г. Казани", "school"),
    (0, "МБОУ «Средняя общеобразовательная школа № 15»", "school"),
    (0, "МБДОУ «Детский сад № 7 «Солнышко»", "preschool"),
    (1, "МБОУ «Школа № 33» г. Набережные Челны", "school"),
    (1, "МАОУ «Гимназия № 26»", "school"),
    (
        1,
        "ГАПОУ «Набережночелнинский педагогический колледж»",
        "college",
    ),
    (2, "МБОУ «СОШ № 4» г. Альметьевска", "school"),
    (2, "МБДОУ «Детский сад № 12 «Ромашка»", "preschool"),
    (
        2,
        "МБУ ДО «Дом детского творчества»",
        "additional_education",
    ),
];

const SURNAMES: [&str; 20] = [
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Хабибуллин",
    "Гарипов",
    "Сафин",
    "Валиев",
    "Закиров",
    "Нуриев",
    "Галиев",
    "Шарипов",
    "Ахметов",
    "Зиганшин",
];
const MALE: [&str; 10] = [
    "Александр",
    "Дмитрий",
    "Айдар",
    "Ильдар",
    "Сергей",
    "Рустем",
    "Андрей",
    "Марат",
    "Алексей",
    "Тимур",
];
const FEMALE: [&str; 10] = [
    "Анна",
    "Елена",
    "Гульнара",
    "Альфия",
    "Ольга",
    "Лилия",
    "Наталья",
    "Алсу",
    "Ирина",
    "Эльмира",
];
const PATRONYMIC_ROOTS: [&str; 8] = [
    "Иван",
    "Рустам",
    "Петр",
    "Ринат",
    "Сергее",
    "Ильдар",
    "Николае",
    "Марат",
];
const POSITIONS: [(&str, &[&str]); 6] = [
    ("учитель", &["Математика"]),
    ("учитель", &["Русский язык", "Литература"]),
    ("учитель", &["Татарский язык"]),
    ("учитель", &["Физика", "Информатика"]),
    ("учитель начальных классов", &["Начальные классы"]),
    ("воспитатель", &[]),
];

fn patronymic(root: &str, female: bool) -> String {
    let base = root.trim_end_matches('е');
    match (root.ends_with('е'), female) {
        (true, false) => format!("{base}евич"),
        (true, true) => format!("{base}евна"),
        (false, false) => format!("{root}ович"),
        (false, true) => format!("{root}овна"),
    }
}

fn random_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789";
    (0..16)
        .map(|_| ALPHABET[rand::Rng::gen_range(&mut rand::thread_rng(), 0..ALPHABET.len())] as char)
        .collect()
}

/// The campaign's title names its own year (the year of its survey), as
/// the `year` field does; its training runs in the next one.
fn campaign_title(year: i32) -> String {
    format!("Персонифицированное повышение квалификации: кампания {year} года")
}

struct Seeder {
    bus: Bus,
    ctx: CallContext,
}

impl Seeder {
    async fn call<O: Operation>(&self, req: &O::Request) -> anyhow::Result<O::Response> {
        self.bus
            .call::<O>(req, &self.ctx)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {} {}", O::NAME, e.kind.as_str(), e.detail))
    }

    /// Calls the registry, retrying while it has not yet heard of what
    /// identity just did (its read-models follow identity's events).
    async fn registry<O: Operation>(&self, req: &O::Request) -> anyhow::Result<O::Response> {
        let op = O::NAME;
        for _ in 0..100 {
            match self.bus.call::<O>(req, &self.ctx).await {
                Ok(r) => return Ok(r),
                // An id the registry has not learnt yet is a 422 on it.
                Err(e) if e.kind == pd_domain::ErrorKind::Invalid => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => anyhow::bail!("{op}: {} {}", e.kind.as_str(), e.detail),
            }
        }
        anyhow::bail!("{op}: the registry did not catch up with identity")
    }

    /// This year's campaign with program submission open now, its criteria
    /// and the demo experts in its pool: its id and year.
    async fn campaign(&self, region: &str, experts: &[String]) -> anyhow::Result<(String, i32)> {
        use pd_proto::registry::v1 as reg;
        let today = chrono::Utc::now().date_naive();
        let span = [
            (-40, -31),
            (-30, 14),
            (15, 30),
            (31, 40),
            (41, 60),
            (61, 200),
        ];
        let phases: Vec<reg::Phase> = pd_calendar::PHASES
            .iter()
            .zip(span)
            .map(|(p, (a, b))| reg::Phase {
                phase: (*p).to_owned(),
                starts_on: (today + chrono::Duration::days(a)).to_string(),
                ends_on: (today + chrono::Duration::days(b)).to_string(),
            })
            .collect();
        // The campaign's year is the year its cycle starts (the survey);
        // its training runs after the December window, in the next one.
        let year: i32 = phases[0].starts_on[..4].parse()?;
        let campaign: reg::Campaign = self
            .registry::<registry_ops::CreateCampaign>(&reg::CreateCampaignRequest {
                region_id: region.to_owned(),
                year,
                title: campaign_title(year),
                phases,
            })
            .await?;
        let criterion = |code: &str, name: &str, max_score: i32| reg::Criterion {
            code: code.to_owned(),
            name: name.to_owned(),
            max_score,
            weight: 1.0,
            min_score: 0,
        };
        let _: reg::Campaign = self
            .registry::<registry_ops::SetCriteria>(&reg::SetCriteriaRequest {
                campaign_id: campaign.id.clone(),
                criteria: vec![
                    criterion("relevance", "Актуальность и соответствие приоритетам", 10),
                    criterion("content", "Качество содержания", 10),
                    criterion("outcomes", "Измеримость результатов", 5),
                ],
                pass_threshold_percent: 60.0,
            })
            .await?;
        for expert in experts {
            let _: reg::Campaign = self
                .registry::<registry_ops::AddExpert>(&reg::AddExpertRequest {
                    campaign_id: campaign.id.clone(),
                    user_id: expert.clone(),
                    affiliated_provider_ids: vec![],
                })
                .await?;
        }
        Ok((campaign.id, year))
    }

    /// Calls the surveys service, retrying while it has not yet heard of
    /// the campaign or the educator (its read-models follow events).
    async fn surveys<O: Operation>(&self, req: &O::Request) -> anyhow::Result<O::Response> {
        use pd_domain::ErrorKind;
        for _ in 0..100 {
            match self.bus.call::<O>(req, &self.ctx).await {
                Ok(r) => return Ok(r),
                Err(e) if matches!(e.kind, ErrorKind::Invalid | ErrorKind::NotFound) => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => anyhow::bail!("{}: {} {}", O::NAME, e.kind.as_str(), e.detail),
            }
        }
        anyhow::bail!("{}: the surveys service did not catch up", O::NAME)
    }

    /// The campaign's competence catalog, its needs survey (its phase is
    /// over in the demo calendar), a diagnostic test open for the demo
    /// teacher for 30 days, and the region's questionnaire after a course.
    async fn surveys_demo(
        &self,
        region: &str,
        campaign: &str,
        teacher: &str,
    ) -> anyhow::Result<()> {
        use pd_proto::ops::surveys as ops;
        use pd_proto::surveys::v1 as sv;
        let catalog = "code;name;group_code;group_name\n\
            A.1;Планирование и проведение учебных занятий;A;Общепедагогическая функция. Обучение\n\
            A.2;Формирование универсальных учебных действий;A;Общепедагогическая функция. Обучение\n\
            A.3;Объективная оценка знаний обучающихся;A;Общепедагогическая функция. Обучение\n\
            B.1;Реализация программ воспитания;B;Воспитательная деятельность\n\
            B.2;Работа с родителями;B;Воспитательная деятельность\n\
            C.1;Обучение детей с ОВЗ;C;Развивающая деятельность\n\
            D.1;Цифровые образовательные ресурсы;D;Цифровая среда\n";
        let _: sv::CompetenceImport = self
            .surveys::<ops::ImportCompetences>(&sv::ImportCompetencesRequest {
                campaign_id: campaign.to_owned(),
                data: catalog.as_bytes().to_vec(),
                dry_run: false,
            })
            .await?;
        let choice = |id: &str, text: &str, options: &[&str], dimension: &str, multiple: bool| {
            sv::Question {
                id: id.to_owned(),
                kind: if multiple {
                    "multiple_choice"
                } else {
                    "single_choice"
                }
                .to_owned(),
                text: text.to_owned(),
                options: options.iter().map(|o| (*o).to_owned()).collect(),
                required: dimension == "direction" || dimension == "form",
                dimension: dimension.to_owned(),
                ..Default::default()
            }
        };
        let needs = sv::SaveInstrumentRequest {
            campaign_id: campaign.to_owned(),
            kind: "questionnaire".into(),
            purpose: "needs_survey".into(),
            title: "Анкета образовательных потребностей педагога".into(),
            questions: vec![
                choice(
                    "direction",
                    "Какие направления повышения квалификации вам интересны?",
                    &[
                        "Функциональная грамотность",
                        "Цифровая образовательная среда",
                        "Инклюзивное образование",
                        "Воспитание",
                    ],
                    "direction",
                    true,
                ),
                choice(
                    "form",
                    "Предпочитаемая форма обучения",
                    &["очная", "очно-заочная", "дистанционная"],
                    "form",
                    false,
                ),
                choice(
                    "deficit",
                    "В чём вы испытываете затруднения?",
                    &["A.1", "A.2", "A.3", "B.1", "B.2", "C.1", "D.1"],
                    "deficit",
                    true,
                ),
            ],
            ..Default::default()
        };
        let _: sv::Instrument = self.surveys::<ops::CreateInstrument>(&needs).await?;
        let question = |id: &str, text: &str, competence: &str| sv::Question {
            id: id.to_owned(),
            kind: "single_choice".into(),
            text: text.to_owned(),
            options: vec!["верно".into(), "неверно".into()],
            correct: vec![0],
            competence: competence.to_owned(),
            ..Default::default()
        };
        let diagnostic = sv::SaveInstrumentRequest {
            campaign_id: campaign.to_owned(),
            kind: "test".into(),
            purpose: "diagnostic".into(),
            title: "Диагностика профессиональных дефицитов".into(),
            questions: vec![
                question(
                    "a1",
                    "Технологическая карта урока описывает этапы и деятельность учеников",
                    "A.1",
                ),
                question(
                    "a2",
                    "Цель урока формулируется через результат ученика",
                    "A.1",
                ),
                question(
                    "d1",
                    "Электронный журнал — цифровой образовательный ресурс",
                    "D.1",
                ),
                question(
                    "d2",
                    "Облачные документы позволяют работать над текстом вместе",
                    "D.1",
                ),
            ],
            time_limit_minutes: 20,
            pass_percent: 50,
            sections: ["A.1", "D.1"]
                .iter()
                .map(|c| sv::Section {
                    competence: (*c).to_owned(),
                    threshold_percent: 60,
                })
                .collect(),
            ..Default::default()
        };
        let test: sv::Instrument = self.surveys::<ops::CreateInstrument>(&diagnostic).await?;
        // The region's questionnaire after a course: surveys opens it for
        // each learner a provider reports as completed.
        let scale = ["1", "2", "3", "4", "5"];
        let after = sv::SaveInstrumentRequest {
            region_id: region.to_owned(),
            kind: "questionnaire".into(),
            purpose: "post_course_survey".into(),
            title: "Анкета слушателя по итогам курса".into(),
            questions: vec![
                choice(
                    "useful",
                    "Насколько курс полезен для вашей работы?",
                    &scale,
                    "",
                    false,
                ),
                choice(
                    "teachers",
                    "Оцените работу преподавателей",
                    &scale,
                    "",
                    false,
                ),
            ],
            ..Default::default()
        };
        let _: sv::Instrument = self.surveys::<ops::CreateInstrument>(&after).await?;
        let closes = chrono::Utc::now() + chrono::Duration::days(30);
        let _: sv::Window = self
            .surveys::<ops::OpenWindow>(&sv::OpenWindowRequest {
                instrument_id: test.id,
                educator_ids: vec![teacher.to_owned()],
                closes_at: closes.to_rfc3339(),
                attempts_limit: 2,
                ..Default::default()
            })
            .await?;
        Ok(())
    }

    /// The region's employed educators due for PD in the campaign `year`,
    /// by the allocation service's own rule: the candidates it must learn.
    async fn due_educators(&self, region: &pb::Region, year: i32) -> anyhow::Result<i64> {
        use pd_allocation::domain::eligibility::is_due;
        let (mut due, mut after) = (0, String::new());
        loop {
            let page: pb::EducatorList = self
                .call::<identity_ops::ListEducators>(&pb::ListEducatorsRequest {
                    region_id: region.id.clone(),
                    limit: 500,
                    after: after.clone(),
                    ..Default::default()
                })
                .await?;
            due += page
                .items
                .iter()
                .filter(|e| {
                    let last =
                        chrono::NaiveDate::parse_from_str(&e.last_pd_completed_on, "%Y-%m-%d").ok();
                    is_due(last, year, region.pd_interval_years)
                })
                .count() as i64;
            if page.next.is_empty() || page.items.is_empty() {
                return Ok(due);
            }
            after = page.next;
        }
    }

    /// Waits (bounded) until the allocation service, which learns the
    /// campaign and the educators from events, lists `expected` candidates.
    async fn allocation_candidates(&self, campaign: &str, expected: i64) -> anyhow::Result<i64> {
        let started = std::time::Instant::now();
        let mut known = 0;
        while started.elapsed() < ALLOCATION_CATCH_UP {
            let req = al::ListCandidatesRequest {
                campaign_id: campaign.to_owned(),
                limit: 1,
                ..Default::default()
            };
            match self
                .bus
                .call::<allocation_ops::ListCandidates>(&req, &self.ctx)
                .await
            {
                Ok(list) if list.total >= expected => return Ok(list.total),
                Ok(list) => known = list.total,
                // The campaign itself is a 404 until the registry's event arrives.
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => anyhow::bail!(
                    "{}: {} {}",
                    allocation_ops::ListCandidates::NAME,
                    e.kind.as_str(),
                    e.detail
                ),
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        anyhow::bail!(
            "allocation: after {} s it lists {known} of the demo campaign's {expected} candidates; \
             is it following identity's and the registry's events (`pd admin dlq list --consumer allocation`)?",
            ALLOCATION_CATCH_UP.as_secs()
        )
    }

    /// The demo campaign's allocation, each step skipped when done: every
    /// organization's list confirmed as it stands, funding for about half
    /// the candidates with a 10 % regional reserve (unless funding is set
    /// already), then the allocation run (409 once allocated: done). Returns
    /// a line saying where the demo teacher sees the outcome.
    async fn allocation_demo(
        &self,
        region: &pb::Region,
        campaign: &str,
        year: i32,
    ) -> anyhow::Result<String> {
        let expected = self.due_educators(region, year).await?;
        self.allocation_candidates(campaign, expected).await?;
        let campaign_req = al::CampaignRequest {
            campaign_id: campaign.to_owned(),
        };
        let funding = match self
            .bus
            .call::<allocation_ops::GetFunding>(&campaign_req, &self.ctx)
            .await
        {
            Ok(f) => Some(f),
            Err(e) if e.kind == ErrorKind::NotFound => None,
            Err(e) => anyhow::bail!(
                "{}: {} {}",
                allocation_ops::GetFunding::NAME,
                e.kind.as_str(),
                e.detail
            ),
        };
        if funding.as_ref().is_none_or(|f| f.allocated_at.is_empty()) {
            self.confirm_lists(campaign).await?;
        }
        let funding = match funding {
            Some(f) => f,
            None => {
                let lists: al::ListStates = self
                    .call::<allocation_ops::ListStates>(&al::ListStatesRequest {
                        campaign_id: campaign.to_owned(),
                        limit: 1,
                        ..Default::default()
                    })
                    .await?;
                let places = (i64::from(lists.included) + 1) / 2;
                let (normative, per_place) = match region.pd_model.as_str() {
                    "un_quota" => (NORMATIVE_PER_EDUCATOR, 1),
                    _ => (
                        NORMATIVE_PER_HOUR,
                        pd_allocation::domain::vouchers::STANDARD_HOURS,
                    ),
                };
                self.call::<allocation_ops::SetFunding>(&al::SetFundingRequest {
                    campaign_id: campaign.to_owned(),
                    budget_kopecks: places * per_place * normative,
                    normative_cost_kopecks: normative,
                    reserve_percent: 10,
                })
                .await?
            }
        };
        if funding.allocated_at.is_empty() {
            match self
                .bus
                .call_with_deadline::<allocation_ops::Allocate>(
                    &campaign_req,
                    &self.ctx,
                    std::time::Duration::from_secs(60),
                )
                .await
            {
                Ok(_) => {}
                // Allocated already.
                Err(e) if e.kind == ErrorKind::Conflict => {}
                Err(e) => anyhow::bail!(
                    "{}: {} {}",
                    allocation_ops::Allocate::NAME,
                    e.kind.as_str(),
                    e.detail
                ),
            }
        }
        let numbers: al::NumberList = self
            .call::<allocation_ops::ListNumbers>(&al::ListNumbersRequest {
                campaign_id: campaign.to_owned(),
                status: "assigned".into(),
                limit: 1,
                ..Default::default()
            })
            .await?;
        Ok(format!(
            "Allocation (campaign {campaign}): {} funded places, {} in the region's reserve, {} unique numbers assigned; \
             the teacher's: GET /api/v1/campaigns/{campaign}/allocation/me\n",
            funding.funded_places, funding.reserve_places, numbers.total
        ))
    }

    /// Confirms every organization's list that is not confirmed yet (409:
    /// someone confirmed it meanwhile).
    async fn confirm_lists(&self, campaign: &str) -> anyhow::Result<()> {
        let lists: al::ListStates = self
            .call::<allocation_ops::ListStates>(&al::ListStatesRequest {
                campaign_id: campaign.to_owned(),
                state: "unconfirmed".into(),
                limit: 500,
                ..Default::default()
            })
            .await?;
        for list in lists.items {
            let req = al::OrganizationListRequest {
                campaign_id: campaign.to_owned(),
                organization_id: list.organization_id,
            };
            match self
                .bus
                .call::<allocation_ops::ConfirmList>(&req, &self.ctx)
                .await
            {
                Ok(_) => {}
                Err(e) if e.kind == ErrorKind::Conflict => {}
                Err(e) => anyhow::bail!(
                    "{}: {} {}",
                    allocation_ops::ConfirmList::NAME,
                    e.kind.as_str(),
                    e.detail
                ),
            }
        }
        Ok(())
    }

    /// On a later run: the demo campaign (the region's campaign with the
    /// demo's title), if there is one.
    async fn demo_campaign(&self, region: &str) -> anyhow::Result<Option<(String, i32)>> {
        use pd_proto::registry::v1 as reg;
        let list: reg::CampaignList = self
            .call::<registry_ops::ListCampaigns>(&reg::ListCampaignsRequest {
                region_id: region.to_owned(),
                limit: 200,
                offset: 0,
            })
            .await?;
        Ok(list
            .items
            .into_iter()
            .find(|c| c.title == campaign_title(c.year))
            .map(|c| (c.id, c.year)))
    }

    async fn user(
        &self,
        login: &str,
        role: &str,
        scope: &str,
        educator_id: &str,
    ) -> anyhow::Result<(String, String, String)> {
        let password = random_password();
        let user: pb::User = self
            .call::<identity_ops::CreateUser>(&pb::CreateUserRequest {
                login: login.to_owned(),
                password: password.clone(),
                display_name: login.to_owned(),
                educator_id: educator_id.to_owned(),
            })
            .await?;
        if role != "educator" {
            let _: pb::User = self
                .call::<identity_ops::GrantRole>(&pb::GrantRoleRequest {
                    user_id: user.id.clone(),
                    role: role.to_owned(),
                    scope_id: scope.to_owned(),
                })
                .await?;
        }
        Ok((login.to_owned(), password, user.id))
    }
}

pub async fn seed(settings: Settings, logins_file: &str) -> anyhow::Result<()> {
    // Every service behind the gateway, so that the events the seeding
    // causes reach their consumers.
    let shutdown = Shutdown::new();
    let mut running = Vec::new();
    for def in pd::SERVICES.iter().filter(|d| d.has_database()) {
        running.push((def.start)(settings.clone(), shutdown.clone()).await?);
    }
    let result = seed_with_identity(&settings, logins_file).await;
    shutdown.cancel();
    for r in running {
        r.wait().await;
    }
    result
}

async fn seed_with_identity(settings: &Settings, logins_file: &str) -> anyhow::Result<()> {
    let pool =
        pd_runtime::db::open_service_db(settings, pd_identity::SERVICE, &[&pd_identity::MIGRATOR])
            .await?;
    let verifier = TokenVerifier::new(&settings.auth)?;
    let bus = Bus::connect(&settings.nats, verifier).await?;
    let issuer = TokenIssuer::new(&settings.auth)?;
    // The seeding acts as a system admin with a short-lived token.
    let system = Principal {
        user_id: uuid::Uuid::nil(),
        login: "demo-seed".into(),
        grants: vec![Grant::new(Role::Admin, None)],
    };
    let token = issuer.issue_with_ttl(&system, 600)?;
    let s = Seeder {
        bus,
        ctx: CallContext {
            authorization: Some(format!("Bearer {token}")),
            ..Default::default()
        },
    };
    let regions: pb::RegionList = s.call::<identity_ops::ListRegions>(&Empty {}).await?;
    if let Some(region) = regions.items.iter().find(|r| r.code == REGION_CODE) {
        pool.close().await;
        match std::fs::read_to_string(logins_file) {
            Ok(logins) => print!("{logins}"),
            Err(_) => println!(
                "The demo region exists, but its logins file {logins_file} is gone; create a user with `pd admin create-user`."
            ),
        }
        // Only what is not done yet; a failure here leaves the demo usable.
        let allocation = match s.demo_campaign(&region.id).await {
            Ok(Some((campaign, year))) => s.allocation_demo(region, &campaign, year).await,
            Ok(None) => return Ok(()),
            Err(e) => Err(e),
        };
        match allocation {
            Ok(line) => print!("{line}"),
            Err(e) => println!("The demo campaign's allocation is not finished: {e:#}"),
        }
        return Ok(());
    }

    let region: pb::Region = s
        .call::<identity_ops::CreateRegion>(&pb::CreateRegionRequest {
            code: REGION_CODE.into(),
            name: "Республика Татарстан (демо)".into(),
            time_zone: "Europe/Moscow".into(),
            pd_model: "un_quota".into(),
            pd_interval_years: Some(3),
        })
        .await?;
    let mut municipalities = Vec::new();
    for name in MUNICIPALITIES {
        let m: pb::Municipality = s
            .call::<identity_ops::CreateMunicipality>(&pb::CreateMunicipalityRequest {
                region_id: region.id.clone(),
                name: name.into(),
                ..Default::default()
            })
            .await?;
        municipalities.push(m);
    }
    let mut orgs = Vec::new();
    for (i, (m, name, kind)) in ORGANIZATIONS.iter().enumerate() {
        let inn = Inn::from_body(165_000_100 + i as u32).context("demo INN")?;
        let o: pb::Organization = s
            .call::<identity_ops::CreateOrganization>(&pb::CreateOrganizationRequest {
                municipality_id: municipalities[*m].id.clone(),
                name: (*name).into(),
                kind: (*kind).into(),
                inn: inn.as_str().into(),
            })
            .await?;
        orgs.push(o);
    }
    let mut providers = Vec::new();
    for (i, (name, licence)) in [
        (
            "ГАОУ ДПО «Институт развития образования Республики Татарстан»",
            "Л035-01220-16/00237615",
        ),
        (
            "ФГАОУ ВО «Казанский (Приволжский) федеральный университет»",
            "Л035-00115-77/00097365",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let inn = Inn::from_body(165_500_200 + i as u32).context("demo INN")?;
        let p: pb::Provider = s
            .call::<identity_ops::CreateProvider>(&pb::CreateProviderRequest {
                region_id: region.id.clone(),
                name: name.into(),
                inn: inn.as_str().into(),
                licence_number: licence.into(),
            })
            .await?;
        providers.push(p);
    }
    let mut first_educator = String::new();
    for n in 0..200u32 {
        let female = n % 3 != 0;
        let surname = SURNAMES[(n as usize * 7 + n as usize / 20) % SURNAMES.len()];
        let last_name = if female {
            if surname.ends_with("ий") {
                surname.replace("ий", "ая")
            } else {
                format!("{surname}а")
            }
        } else {
            surname.to_owned()
        };
        let first_name = if female {
            FEMALE[(n as usize * 3) % 10]
        } else {
            MALE[(n as usize * 3) % 10]
        };
        let org = &orgs[n as usize % orgs.len()];
        let (position, subjects) = if org.kind == "preschool" {
            POSITIONS[5]
        } else {
            POSITIONS[n as usize % 5]
        };
        // Some have trained recently, some long ago, some never (historical data).
        let last_pd = match n % 4 {
            0 => String::new(),
            k => format!("{}-0{}-15", 2018 + k * 2, 3 + k),
        };
        let snils = Snils::from_body(100_200_300 + n * 7919).context("demo SNILS")?;
        let e: pb::Educator = s
            .call::<identity_ops::CreateEducator>(&pb::CreateEducatorRequest {
                snils: snils.as_str().into(),
                last_name,
                first_name: first_name.into(),
                middle_name: patronymic(
                    PATRONYMIC_ROOTS[(n as usize + n as usize / 8) % 8],
                    female,
                ),
                position: position.into(),
                subjects: subjects.iter().map(|x| (*x).to_owned()).collect(),
                organization_id: org.id.clone(),
                last_pd_completed_on: last_pd,
                birth_date: format!("{}-0{}-1{}", 1970 + n % 30, 1 + n % 9, n % 10),
                sex: if female { "female" } else { "male" }.into(),
            })
            .await?;
        if n == 0 {
            first_educator = e.id;
        }
    }

    let admin_password = random_password();
    pd_identity::create_user_direct(
        &pool,
        &settings.nats.subject_prefix,
        "admin",
        &admin_password,
        "admin",
        None,
    )
    .await?;
    let mut logins = vec![("admin".to_owned(), admin_password, "admin".to_owned())];
    let roles = [
        (
            "region.operator",
            "regional_operator",
            region.id.clone(),
            String::new(),
        ),
        ("ministry", "ministry", region.id.clone(), String::new()),
        (
            "kazan.operator",
            "municipal_operator",
            municipalities[0].id.clone(),
            String::new(),
        ),
        (
            "gymnasium1.operator",
            "org_operator",
            orgs[0].id.clone(),
            String::new(),
        ),
        // Two experts and two council members: a program is reviewed by
        // at least two experts, and a council session has a chair and a
        // secretary.
        ("expert", "expert", region.id.clone(), String::new()),
        ("expert2", "expert", region.id.clone(), String::new()),
        (
            "council",
            "council_member",
            region.id.clone(),
            String::new(),
        ),
        (
            "council2",
            "council_member",
            region.id.clone(),
            String::new(),
        ),
        (
            "provider.admin",
            "provider_admin",
            providers[0].id.clone(),
            String::new(),
        ),
        ("teacher", "educator", String::new(), first_educator.clone()),
    ];
    let mut experts = Vec::new();
    let teacher_educator = first_educator.clone();
    for (login, role, scope, educator) in roles {
        let (login, password, id) = s.user(login, role, &scope, &educator).await?;
        if role == "expert" {
            experts.push(id);
        }
        logins.push((login, password, role.to_owned()));
    }
    pool.close().await;
    let (campaign, year) = s.campaign(&region.id, &experts).await?;
    s.surveys_demo(&region.id, &campaign, &teacher_educator)
        .await?;

    let mut text = String::from("Demo logins (region DEMO-16, «Республика Татарстан (демо)»):\n");
    for (login, password, role) in &logins {
        text.push_str(&format!("  {login:<22} {password:<18} {role}\n"));
    }
    if let Some(dir) = Path::new(logins_file).parent() {
        std::fs::create_dir_all(dir).ok();
    }
    std::fs::write(logins_file, &text).with_context(|| format!("writing {logins_file}"))?;
    print!("{text}");
    // After the logins are kept: a run that fails here finishes it next time.
    print!("{}", s.allocation_demo(&region, &campaign, year).await?);
    Ok(())
}

/// `pd demo sandbox`: the demo region on a platform of its own (fresh
/// databases and subjects, as the tests make them), for the portal's
/// browser tests; everything is dropped when it stops.
pub async fn sandbox(info_file: &str, portal_dir: &str) -> anyhow::Result<()> {
    let mut env = pd_testkit::TestEnv::new()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    env.settings.gateway.listen = format!("127.0.0.1:{port}");
    let dir = std::fs::canonicalize(portal_dir)
        .with_context(|| format!("the built portal {portal_dir} (npm run build in portal)"))?;
    anyhow::ensure!(
        dir.join("index.html").is_file(),
        "{portal_dir} has no index.html: build the portal first"
    );
    env.settings.gateway.portal_dir = dir.to_string_lossy().into_owned();
    // Browser tests sign in often and click fast.
    env.settings.gateway.login_attempts_per_minute = 1_000;
    env.settings.gateway.client_requests_per_second = 1_000;
    env.settings.gateway.client_burst = 2_000;
    let shutdown = Shutdown::new();
    let result = async {
        for def in pd::SERVICES.iter().filter(|d| d.has_database()) {
            env.database(def.name, def.migrators).await?;
        }
        let logins = format!("{info_file}.logins");
        seed(env.settings.clone(), &logins).await?;
        let mut running = Vec::new();
        for def in pd::SERVICES {
            let r = (def.start)(env.settings.clone(), shutdown.clone()).await?;
            running.push(tokio::spawn(r.wait()));
        }
        std::fs::write(
            info_file,
            format!("PORTAL_URL=http://127.0.0.1:{port}\nPORTAL_LOGINS={logins}\n"),
        )?;
        println!("sandbox: http://127.0.0.1:{port}/ (Ctrl-C stops it)");
        pd_runtime::cancel_on_signal(shutdown.clone()).await;
        shutdown.cancel();
        for r in running {
            let _ = r.await;
        }
        anyhow::Ok(())
    }
    .await;
    env.cleanup().await;
    result
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_campaign_title_names_the_campaign_year() {
        let title = super::campaign_title(2026);
        assert!(title.contains("2026") && !title.contains("2027"), "{title}");
    }
}
