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
