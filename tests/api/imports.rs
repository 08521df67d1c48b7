//! CSV imports: encodings, scope and progress.

use super::*;

#[tokio::test]
async fn windows_1251_files_import_correctly_and_other_encodings_are_refused() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let w = build_world(&p, &admin, "I1").await;
    let text = format!(
        "СНИЛС;Фамилия;Имя;Отчество;Должность;Предметы\r\n{};Хабибуллина;Гульнара;Ринатовна;учитель;Татарский язык\r\n",
        snils(1)
    );
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(&text);
    let query = format!("?organization_id={}", w.orgs[0]);
    let job = import_csv(&p, &admin, &query, cp1251.into_owned()).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["encoding"], "windows-1251");
    let (_, list) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators?organization_id={}", w.orgs[0]),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(list["items"][0]["last_name"], "Хабибуллина");
    assert_eq!(list["items"][0]["subjects"][0], "Татарский язык");

    let other_text = text.replace(&snils(1), &snils(2));
    let (koi8, _, _) = encoding_rs::KOI8_R.encode(&other_text);
    let job = import_csv(&p, &admin, &query, koi8.into_owned()).await;
    assert_eq!(job["status"], "rejected", "{job}");
    assert!(job["message"].as_str().unwrap().contains("UTF-8"), "{job}");
    let (_, list) = call(&p, Method::GET, "/api/v1/educators", Some(&admin), None).await;
    assert_eq!(list["total"], 1);
    p.stop().await;
}

#[tokio::test]
async fn org_operators_import_only_into_their_organization() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let w = build_world(&p, &admin, "I2").await;
    let operator = p
        .user_token("op1", "org_operator", Some(w.orgs[0].parse().unwrap()))
        .await
        .unwrap();
    // Naming another organization is forbidden outright.
    let r = p
        .http
        .post(p.url(&format!(
            "/api/v1/educators/imports?organization_id={}",
            w.orgs[1]
        )))
        .bearer_auth(&operator)
        .header("content-type", "text/csv")
        .body("snils;last_name;first_name;position\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Rows for another organization are reported, nothing imported.
    let csv = format!(
        "snils,last_name,first_name,position,organization_inn\n{},А,Б,учитель,{}\n{},В,Г,учитель,{}\n",
        snils(1),
        w.inns[0],
        snils(2),
        w.inns[1]
    );
    let job = import_csv(&p, &operator, "", csv.into_bytes()).await;
    assert_eq!(job["status"], "rejected", "{job}");
    assert_eq!(job["errors"][0]["row"], 3);
    assert_eq!(job["errors"][0]["column"], "organization_inn");
    // Another user's import is unknown to them.
    let (s, _) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators/imports/{}", job["id"].as_str().unwrap()),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let other = p
        .user_token("op2", "org_operator", Some(w.orgs[1].parse().unwrap()))
        .await
        .unwrap();
    let (s, _) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators/imports/{}", job["id"].as_str().unwrap()),
        Some(&other),
        None,
    )
    .await;
    assert_eq!(s, 404);
    // Birth date and sex (for the ФИС ФРДО export) come with the staff
    // list: Russian headings, м/ж; a bad cell is reported, the file is refused.
    let bad = format!(
        "СНИЛС;Фамилия;Имя;Должность;Дата рождения;Пол\n{};Ким;Ирина;учитель;12.04.1985;x\n",
        snils(3)
    );
    let own = format!("?organization_id={}", w.orgs[0]);
    let job = import_csv(&p, &operator, &own, bad.into_bytes()).await;
    assert_eq!(
        (&job["status"], &job["errors"][0]["column"]),
        (&json!("rejected"), &json!("sex")),
        "{job}"
    );
    let good = format!(
        "СНИЛС;Фамилия;Имя;Должность;Дата рождения;Пол\n{};Ким;Ирина;учитель;12.04.1985;ж\n",
        snils(3)
    );
    let job = import_csv(&p, &operator, &own, good.into_bytes()).await;
    assert_eq!(job["status"], "completed", "{job}");
    let (_, list) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators?organization_id={}", w.orgs[0]),
        Some(&operator),
        None,
    )
    .await;
    let kim = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["last_name"] == "Ким")
        .unwrap();
    assert_eq!(
        (&kim["birth_date"], &kim["sex"]),
        (&json!("1985-04-12"), &json!("female")),
        "{kim}"
    );
    p.stop().await;
}

#[tokio::test]
async fn a_large_file_arrives_in_chunks_and_imports_in_full() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let w = build_world(&p, &admin, "I3").await;
    // ~1.5 MB: more than one NATS message.
    let mut csv =
        String::from("snils;last_name;first_name;middle_name;position;subjects;organization_inn\n");
    for i in 0..12_000u32 {
        csv.push_str(&format!(
            "{};Константинопольская{i};Анастасия;Александровна;учитель начальных классов;Начальные классы;{}\n",
            snils(i),
            w.inns[(i % 3) as usize]
        ));
    }
    assert!(csv.len() > 1_100_000);
    let job = import_csv(&p, &admin, "", csv.into_bytes()).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["imported_rows"], 12_000);
    let (_, list) = call(
        &p,
        Method::GET,
        "/api/v1/educators?limit=1",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(list["total"], 12_000);
    p.stop().await;
}

/// Core NATS subscription to one of identity's events (the relay publishes
/// committed outbox rows on these subjects).
async fn subscribe(p: &Platform, event: &str) -> (async_nats::Client, async_nats::Subscriber) {
    let nats = &p.env.settings.nats;
    let client = async_nats::connect(&nats.url).await.unwrap();
    let subject = format!("{}.identity.evt.{event}.v1", nats.subject_prefix);
    let sub = client.subscribe(subject).await.unwrap();
    (client, sub)
}

/// The next event of a subscription, decoded (10 s at most).
async fn next_event<M: pd_proto::Message + Default>(sub: &mut async_nats::Subscriber) -> M {
    use futures::StreamExt;
    use pd_proto::Message;
    let msg = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("an event within 10 s")
        .unwrap();
    let envelope = pd_proto::common::v1::EventEnvelope::decode(msg.payload).unwrap();
    M::decode(envelope.payload.as_slice()).unwrap()
}

/// One organization's line of an import's report: new, changed, moved in,
/// unchanged, absent.
fn diff(job: &Value, org: &str) -> (i64, i64, i64, i64, i64) {
    let d = job["report"]
        .as_array()
        .and_then(|r| r.iter().find(|d| d["organization_id"] == org))
        .unwrap_or_else(|| panic!("no report for {org}: {job}"));
    let n = |k: &str| d[k].as_i64().unwrap_or(0);
    (
        n("new"),
        n("changed"),
        n("moved_in"),
        n("unchanged"),
        n("absent"),
    )
}

#[tokio::test]
async fn update_mode_reloads_a_staff_list_and_reports_the_difference_per_organization() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let w = build_world(&p, &admin, "I4").await;
    let mut csv = String::from("snils;last_name;first_name;position;organization_inn\n");
    for i in 1..=3 {
        csv.push_str(&format!(
            "{};Галиева{i};Алсу;учитель;{}\n",
            snils(i),
            w.inns[0]
        ));
    }
    let job = import_csv(&p, &admin, "", csv.into_bytes()).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(diff(&job, &w.orgs[0]), (3, 0, 0, 0, 0));

    // 1 changes position, 2 moves to the second school, 3 is gone, 4 is new.
    let reload = format!(
        "snils;last_name;first_name;position;organization_inn\n\
         {};Галиева1;Алсу;методист;{}\n{};Галиева2;Алсу;учитель;{}\n{};Юсупов;Ильдар;учитель;{}\n",
        snils(1),
        w.inns[0],
        snils(2),
        w.inns[1],
        snils(4),
        w.inns[0]
    );
    // Without update mode a known SNILS is a bad row, as before.
    let job = import_csv(&p, &admin, "", reload.clone().into_bytes()).await;
    assert_eq!(job["status"], "rejected", "{job}");
    assert_eq!(job["errors"][0]["column"], "snils");
    assert_eq!(job["errors"].as_array().unwrap().len(), 2);
    // An unknown mode is refused by name.
    let r = p
        .http
        .post(p.url("/api/v1/educators/imports?mode=merge"))
        .bearer_auth(&admin)
        .body(reload.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "mode", "{body}");

    let dry = import_csv(
        &p,
        &admin,
        "?mode=update&dry_run=true",
        reload.clone().into_bytes(),
    )
    .await;
    assert_eq!(dry["status"], "completed", "{dry}");
    assert_eq!(dry["update_existing"], true);
    assert_eq!(diff(&dry, &w.orgs[0]), (1, 1, 0, 0, 1));
    assert_eq!(diff(&dry, &w.orgs[1]), (0, 1, 1, 0, 0));
    let (_, list) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators?organization_id={}", w.orgs[1]),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(list["total"], 0, "a dry run changes nothing");

    let (_nats, mut moved) = subscribe(&p, "educator_moved").await;
    let (_nats2, mut updated) = subscribe(&p, "educator_updated").await;
    let job = import_csv(&p, &admin, "?mode=update", reload.into_bytes()).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["imported_rows"], 3);
    assert_eq!(diff(&job, &w.orgs[0]), (1, 1, 0, 0, 1));
    let event: pd_proto::identity::v1::EducatorMoved = next_event(&mut moved).await;
    assert_eq!(event.from_organization_id, w.orgs[0]);
    let moved_educator = event.educator.unwrap();
    assert_eq!(moved_educator.organization_id, w.orgs[1]);
    assert_eq!(moved_educator.last_name, "Галиева2");
    let event: pd_proto::identity::v1::EducatorUpdated = next_event(&mut updated).await;
    let changed = event.educator.unwrap();
    assert_eq!(changed.position, "методист");
    assert_eq!(changed.organization_id, w.orgs[0]);
    let (_, e) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators/{}", changed.id),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(e["position"], "методист");
    let (_, e) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators/{}", moved_educator.id),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(e["organization_id"], w.orgs[1].as_str());
    // The absent educator is only reported: still employed where they were.
    let (_, list) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators?organization_id={}", w.orgs[0]),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(list["total"], 3, "{list}");

    // The region's operator reloads the region with a file that leaves the
    // first school out altogether: all its staff are reported absent.
    let region_op = p
        .user_token("ro1", "regional_operator", Some(w.region.parse().unwrap()))
        .await
        .unwrap();
    let only_second = format!(
        "snils;last_name;first_name;position;organization_inn\n{};Галиева2;Алсу;учитель;{}\n",
        snils(2),
        w.inns[1]
    );
    let dry = import_csv(
        &p,
        &region_op,
        "?mode=update&dry_run=true",
        only_second.into_bytes(),
    )
    .await;
    assert_eq!(dry["status"], "completed", "{dry}");
    assert_eq!(diff(&dry, &w.orgs[1]), (0, 0, 0, 1, 0));
    assert_eq!(diff(&dry, &w.orgs[0]), (0, 0, 0, 0, 3), "{dry}");
    let first = dry["report"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["organization_id"] == w.orgs[0].as_str())
        .unwrap();
    assert_eq!(first["organization_inn"], w.inns[0].as_str());
    p.stop().await;
}

/// Posts an organizations CSV.
async fn import_orgs(p: &Platform, token: &str, query: &str, body: Vec<u8>) -> (u16, Value) {
    let r = p
        .http
        .post(p.url(&format!("/api/v1/organizations/imports{query}")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn organizations_total(p: &Platform, token: &str, region: &str) -> i64 {
    let (s, list) = call(
        p,
        Method::GET,
        &format!("/api/v1/organizations?region_id={region}&limit=1"),
        Some(token),
        None,
    )
    .await;
    assert_eq!(s, 200, "{list}");
    list["total"].as_i64().unwrap()
}

#[tokio::test]
async fn organizations_import_reports_bad_rows_creates_and_then_updates() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let w = build_world(&p, &admin, "I5").await;
    let region = format!("?region_id={}", w.region);
    let inn = |n: u32| pd_domain::Inn::from_body(165_900_000 + n).unwrap();
    let bad_inn = {
        let good = inn(1);
        let s = good.as_str();
        let last = s.chars().last().unwrap().to_digit(10).unwrap();
        format!("{}{}", &s[..s.len() - 1], (last + 1) % 10)
    };
    // A bad INN checksum and an unknown municipality: both named, nothing written.
    let bad = format!(
        "Наименование;ИНН;Муниципальный район;Тип\n\
         Гимназия № 7;{bad_inn};г. Казань;школа\n\
         Детский сад № 3;{};Бугульминский район;детский сад\n\
         Лицей № 2;{};г. Казань;school\n",
        inn(2).as_str(),
        inn(3).as_str()
    );
    let (s, body) = import_orgs(&p, &admin, &region, bad.into_bytes()).await;
    assert_eq!(s, 422, "{body}");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["rows[2].inn", "rows[3].municipality"],
        "{body}"
    );
    assert_eq!(organizations_total(&p, &admin, &w.region).await, 3);

    // A good file in Windows-1251: two new organizations and a known INN
    // renamed; the municipality's name in another case.
    let good = format!(
        "Наименование;ИНН;Муниципальный район;Тип\r\n\
         Гимназия № 7;{};Г. КАЗАНЬ;школа\r\n\
         Детский сад № 3;{};г. Набережные Челны;детский сад\r\n\
         Школа № 1 им. Г. Тукая;{};г. Казань;\r\n",
        inn(1).as_str(),
        inn(2).as_str(),
        w.inns[0]
    );
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(&good);
    let (s, dry) = import_orgs(
        &p,
        &admin,
        &format!("{region}&dry_run=true"),
        cp1251.to_vec(),
    )
    .await;
    assert_eq!(s, 200, "{dry}");
    assert_eq!(
        (&dry["status"], &dry["created"], &dry["updated"]),
        (&json!("checked"), &json!(2), &json!(1))
    );
    assert_eq!(organizations_total(&p, &admin, &w.region).await, 3);

    let (_nats, mut created) = subscribe(&p, "organization_created").await;
    let (_nats2, mut updated) = subscribe(&p, "organization_updated").await;
    let (s, done) = import_orgs(&p, &admin, &region, cp1251.to_vec()).await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["status"], "imported");
    assert_eq!(done["encoding"], "windows-1251");
    assert_eq!((&done["created"], &done["updated"]), (&json!(2), &json!(1)));
    assert_eq!(organizations_total(&p, &admin, &w.region).await, 5);
    let mut names = Vec::new();
    while names.len() < 2 {
        let e: pd_proto::identity::v1::OrganizationCreated = next_event(&mut created).await;
        let o = e.organization.unwrap();
        if w.orgs.contains(&o.id) {
            continue; // the world's own, if the relay was late
        }
        assert_eq!(o.region_id, w.region);
        names.push((o.name, o.kind, o.municipality_id));
    }
    names.sort();
    assert_eq!(
        names,
        vec![
            (
                "Гимназия № 7".to_owned(),
                "school".to_owned(),
                w.municipalities[0].clone()
            ),
            (
                "Детский сад № 3".to_owned(),
                "preschool".to_owned(),
                w.municipalities[1].clone()
            ),
        ]
    );
    let e: pd_proto::identity::v1::OrganizationUpdated = next_event(&mut updated).await;
    let o = e.organization.unwrap();
    assert_eq!(
        (o.id.as_str(), o.name.as_str()),
        (w.orgs[0].as_str(), "Школа № 1 им. Г. Тукая")
    );
    assert_eq!(o.kind, "school", "an empty kind keeps it");

    // The same file again changes nothing; a renamed row updates its organization.
    let (s, again) = import_orgs(&p, &admin, &region, cp1251.to_vec()).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(
        (&again["created"], &again["updated"], &again["unchanged"]),
        (&json!(0), &json!(0), &json!(3))
    );
    let renamed = format!(
        "name,inn,municipality,kind\nГимназия № 7 имени Н. Лобачевского,{},г. Казань,school\n",
        inn(1).as_str()
    );
    let (s, r) = import_orgs(&p, &admin, &region, renamed.into_bytes()).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!((&r["created"], &r["updated"]), (&json!(0), &json!(1)));
    let e: pd_proto::identity::v1::OrganizationUpdated = next_event(&mut updated).await;
    assert_eq!(
        e.organization.unwrap().name,
        "Гимназия № 7 имени Н. Лобачевского"
    );

    // A municipal operator imports into their municipality only; an org
    // operator not at all.
    let mo = p
        .user_token(
            "mo1",
            "municipal_operator",
            Some(w.municipalities[0].parse().unwrap()),
        )
        .await
        .unwrap();
    let other = format!(
        "name;inn;municipality;kind\nШкола № 9;{};г. Набережные Челны;school\n",
        inn(4).as_str()
    );
    let (s, body) = import_orgs(&p, &mo, &region, other.clone().into_bytes()).await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "rows[2].municipality");
    let oo = p
        .user_token("oo1", "org_operator", Some(w.orgs[0].parse().unwrap()))
        .await
        .unwrap();
    let (s, _) = import_orgs(&p, &oo, &region, other.into_bytes()).await;
    assert_eq!(s, 403);

    // A municipality with its OKTMO code: a region-wide file may name it so.
    let path = format!("/api/v1/regions/{}/municipalities", w.region);
    let new = |name: &str, code: &str| json!({"name": name, "code": code});
    let (s, b) = call(
        &p,
        Method::POST,
        &path,
        Some(&admin),
        Some(new("Елабужский район", "9262")),
    )
    .await;
    assert_eq!((s, &b["errors"][0]["field"]), (422, &json!("code")), "{b}");
    let (s, m) = call(
        &p,
        Method::POST,
        &path,
        Some(&admin),
        Some(new("Елабужский район", "92626000")),
    )
    .await;
    assert_eq!((s, &m["code"]), (201, &json!("92626000")), "{m}");
    let (s, b) = call(
        &p,
        Method::POST,
        &path,
        Some(&admin),
        Some(new("Другой район", "92626000")),
    )
    .await;
    assert_eq!(s, 409, "the code is taken in the region: {b}");
    let by_code = format!(
        "name;inn;oktmo;kind\nШкола № 1 г. Елабуги;{};92626000;school\n",
        inn(5).as_str()
    );
    let (s, r) = import_orgs(&p, &admin, &region, by_code.into_bytes()).await;
    assert_eq!((s, &r["created"]), (200, &json!(1)), "{r}");
    let e: pd_proto::identity::v1::OrganizationCreated = next_event(&mut created).await;
    assert_eq!(
        e.organization.unwrap().municipality_id,
        m["id"].as_str().unwrap()
    );
    // A municipality that existed before codes is given its code.
    let kazan = format!("/api/v1/municipalities/{}", w.municipalities[0]);
    let code = |c: &str| Some(json!({"code": c}));
    let (s, b) = call(&p, Method::PATCH, &kazan, Some(&mo), code("92701000")).await;
    assert_eq!(s, 403, "a municipal operator does not: {b}");
    let (s, b) = call(&p, Method::PATCH, &kazan, Some(&admin), code("92626000")).await;
    assert_eq!(s, 409, "Елабуга's code: {b}");
    let (s, k) = call(&p, Method::PATCH, &kazan, Some(&admin), code("92701000")).await;
    assert_eq!(s, 200, "{k}");
    assert_eq!(
        (&k["code"], &k["name"]),
        (&json!("92701000"), &json!("г. Казань"))
    );
    let by_kazan_code = format!(
        "name;inn;oktmo;kind\nЛицей № 5;{};92701000;school\n",
        inn(6).as_str()
    );
    let (s, r) = import_orgs(&p, &admin, &region, by_kazan_code.into_bytes()).await;
    assert_eq!((s, &r["created"]), (200, &json!(1)), "{r}");
    let e: pd_proto::identity::v1::OrganizationCreated = next_event(&mut created).await;
    assert_eq!(e.organization.unwrap().municipality_id, w.municipalities[0]);
    p.stop().await;
}

#[tokio::test]
async fn a_region_of_organizations_imports_in_one_request() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let w = build_world(&p, &admin, "I6").await;
    // Samara's 2,146 organizations with full official names: more than a
    // NATS message holds.
    // Columns the import does not know (the address) are ignored.
    let mut csv = String::from("name;inn;municipality;kind;address\n");
    for i in 0..2_146u32 {
        let inn = pd_domain::Inn::from_body(630_000_000 + i * 7).unwrap();
        csv.push_str(&format!(
            "Государственное бюджетное общеобразовательное учреждение Самарской области средняя общеобразовательная школа № {i} имени Героя Советского Союза муниципального района;{};г. Набережные Челны;school;446430, Самарская область, муниципальный район Кинельский, улица Советская, дом {i}\n",
            inn.as_str()
        ));
    }
    assert!(csv.len() > 1_048_576, "{}", csv.len());
    let (s, done) = import_orgs(
        &p,
        &admin,
        &format!("?region_id={}", w.region),
        csv.into_bytes(),
    )
    .await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["created"], 2_146);
    assert_eq!(organizations_total(&p, &admin, &w.region).await, 2_149);
    p.stop().await;
}
