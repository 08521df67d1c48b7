//! Every user-facing string of the registry service, in one place.

pub const FORBIDDEN: &str = "недостаточно прав для этого действия";
pub const CAMPAIGN_NOT_FOUND: &str = "кампания не найдена";
pub const PROGRAM_NOT_FOUND: &str = "программа не найдена";
pub const SESSION_NOT_FOUND: &str = "заседание не найдено";
pub const GROUP_NOT_FOUND: &str = "группа не найдена";
pub const REGION_UNKNOWN: &str = "регион ещё не известен реестру; повторите через несколько секунд";
pub const PROVIDER_UNKNOWN: &str =
    "организация-разработчик ещё не известна реестру; повторите через несколько секунд";
pub const PROVIDER_OTHER_REGION: &str = "организация зарегистрирована в другом регионе";
pub const CAMPAIGN_EXISTS: &str = "кампания этого региона на этот год уже есть";
pub const YEAR: &str = "год от 2000 до 2100";
pub const REQUIRED: &str = "обязательное поле";
pub const NOT_EDITABLE: &str =
    "программу можно изменять только в статусах «черновик» и «возвращена»";
pub const NOT_SUBMITTABLE: &str = "подать можно черновик или возвращённую программу";
pub const NOT_WITHDRAWABLE: &str = "отозвать можно только поданную программу до начала экспертизы";
pub const NOT_SUBMITTED: &str = "техническую экспертизу проходят только поданные программы";
pub const DECISION: &str = "допустимые значения: accept, return";
pub const REMARKS_REQUIRED: &str = "при возврате программы нужны замечания";
pub const NOT_ENOUGH_EXPERTS: &str = "недостаточно экспертов без конфликта интересов";
pub const EXPERT_UNKNOWN: &str = "у пользователя нет роли эксперта в этом регионе";
pub const NOT_ASSIGNED: &str = "эксперт не назначен на эту программу";
pub const ALREADY_REVIEWED: &str = "заключение уже подано";
pub const CONFLICT_OF_INTEREST: &str = "эксперт аффилирован с организацией-разработчиком";
pub const CONCLUSION: &str = "допустимые значения: include, exclude";
pub const NOT_IN_REVIEW: &str = "программа не на содержательной экспертизе";
pub const NO_CRITERIA: &str = "у кампании не заданы критерии оценки";
pub const MEMBER_UNKNOWN: &str = "у пользователя нет роли члена совета в этом регионе";
pub const NOT_A_MEMBER: &str = "вы не входите в состав этого заседания";
pub const NOT_ON_AGENDA: &str = "программы нет в повестке заседания";
pub const VOTE: &str = "допустимые значения: for, against, abstain";
pub const SESSION_CLOSED: &str = "заседание уже закрыто";
pub const SESSION_OPEN: &str = "протокол появится после закрытия заседания";
pub const NO_QUORUM: &str = "нет кворума по программам";
pub const ALREADY_APPROVED: &str = "протокол уже утверждён";
pub const NOT_IN_REGISTRY: &str = "группы добавляются только к программам реестра";
pub const GROUP_CANCELLED: &str = "группа отменена";
pub const CAPACITY_IN_USE: &str = "пока идёт подача заявлений, мест в опубликованной группе можно сделать больше, но не меньше: их могли уже занять";
pub const DATE: &str = "ожидается дата ГГГГ-ММ-ДД";
pub const INTERNSHIP_SITE: &str = "для стажировки нужна стажировочная площадка";
pub const MODULES_REQUIRED: &str = "нужен хотя бы один модуль";
pub const CUMULATIVE_MODULES: &str = "накопительная программа состоит не менее чем из двух модулей";
pub const CRITERIA_REQUIRED: &str = "нужен хотя бы один критерий";
pub const CRITERION_CODE: &str = "код обязателен и уникален";
pub const WEIGHT: &str = "вес больше 0 и не больше 100 (0 — вес по умолчанию, 1)";
pub const MIN_SCORE: &str = "от 0 до max_score";
pub const SCORE_TWICE: &str = "критерий оценён дважды";
pub const SCORE_UNKNOWN: &str = "нет такого критерия в кампании";
pub const SCORE_MISSING: &str = "критерий не оценён";
pub const MEMBERS_REQUIRED: &str = "нужен состав заседания";
pub const NOTHING_CONSIDERED: &str = "нет программ, завершивших экспертизу, для заседания";
pub const NOT_SEATED: &str = "не входит в состав заседания";
pub const CHAIR_REQUIRED: &str = "нужен председатель заседания из его состава";
pub const SECRETARY_REQUIRED: &str = "нужен секретарь заседания из его состава";
pub const VOTER_ABSENT: &str = "член совета голосовал, но не отмечен присутствующим";
pub const NOT_AWAITING_APPROVAL: &str = "протокол не ожидает утверждения президиумом";
pub const NOT_ON_PROTOCOL: &str = "программы нет в протоколе заседания";
pub const NOT_INCLUDED: &str = "исключить можно только программу, которую совет включил в реестр";
pub const ALREADY_EXCLUDED: &str = "программа уже исключена";
pub const REASON_REQUIRED: &str = "укажите причину";
pub const NOT_DELETABLE: &str = "удалить можно только черновик программы";
pub const PUBLISHED_GROUP: &str =
    "опубликованную группу нельзя удалить: её отменяют с указанием причины";
pub const CANCEL_PENDING: &str = "отмена группы уже ожидает решения регионального оператора";
pub const NO_CANCEL_REQUEST: &str = "нет запроса на отмену группы";
pub const UNCHANGED_RESUBMISSION: &str =
    "программа не изменилась после возврата: устраните замечания технической экспертизы";
pub const REVIEW_SUBMITTED: &str = "заключение уже подано: отказаться от экспертизы нельзя";
pub const SUBMISSION_REOPENED: &str =
    "реестр кампании опубликован: приём программ нельзя открыть снова";

/// A program's hours at an internship.
pub fn internship_hours(hours: i32) -> String {
    format!("стажировка — {hours} часа")
}

/// Module hours that do not add up to the program's.
pub fn module_hours_sum(sum: i64, hours: i32) -> String {
    format!("сумма часов модулей ({sum}) не равна объёму программы ({hours})")
}

/// A phase outside the years a campaign may span.
pub fn phase_years(from: i64, to: i64) -> String {
    format!("фазы кампании — в {from}–{to} годах")
}

/// A score outside its criterion's range.
pub fn score_range(max: i32) -> String {
    format!("оценка от 0 до {max}")
}

/// A value outside a fixed set.
pub fn one_of(values: &[&str]) -> String {
    format!("допустимые значения: {}", values.join(", "))
}

/// A group starting before the applications phase.
pub fn group_starts_before(opens: chrono::NaiveDate) -> String {
    format!(
        "обучение начинается не раньше открытия приёма заявлений ({})",
        opens.format("%d.%m.%Y")
    )
}

/// A group ending after the post-course phase.
pub fn group_ends_after(closes: chrono::NaiveDate) -> String {
    format!(
        "обучение заканчивается не позже окончания посткурсового мониторинга ({})",
        closes.format("%d.%m.%Y")
    )
}

/// A date in the past.
pub fn past_date(today: chrono::NaiveDate) -> String {
    format!("дата уже прошла (сегодня {})", today.format("%d.%m.%Y"))
}

/// A program that does not fit a voucher block.
pub fn voucher_block(hours: i32) -> String {
    format!("в регионе именных образовательных чеков программа — блок {hours} ч")
}

pub const GROUPS_OUTSIDE_WINDOW: &str = "в новых сроках запланированные группы оказались бы вне периода обучения (от приёма заявлений до конца посткурсового мониторинга); сначала перенесите или отмените их";
