//! The monitoring service through the gateway: an admin issues provider
//! API keys; the provider pushes completions for a formed group (a forged
//! or revoked key is a 401, another provider's group a 403, a batch with
//! a stranger refused whole with that learner named); the post-course
//! windows open in surveys, the educator takes the test twice (the best
//! kept, a third refused) and answers the questionnaire; the certificate
//! is printable and verifies publicly; allocation sees the new PD.

use super::enrollment::Window;
use super::fixtures::{day, eventually};
use super::*;

/// `POST /api/v1/providers/{provider}/completions` with an `X-Api-Key`.
async fn push(p: &Platform, provider: &str, key: &str, body: Value) -> (u16, Value) {
    let r = p
        .http
        .post(p.url(&format!("/api/v1/providers/{provider}/completions")))
        .header("x-api-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn completed(educator: &str, number: &str) -> Value {
    json!({"educator_id": educator, "status": "completed", "document_type": "pk_certificate",
           "document_series": "16", "document_number": number, "issued_on": day(-1), "hours": 36,
           "registration_number": format!("РН-{number}")})
}

/// Five single-choice questions (seed 001: a 5-question survey).
fn questions(correct: bool) -> Vec<Value> {
    (0..5)
        .map(|i| {
            let mut q = json!({"id": format!("q{i}"), "kind": "single_choice", "text": format!("Вопрос {i}"),
                               "options": ["нет", "да"]});
            if correct {
                q["correct"] = json!([1]);
            }
            q
        })
        .collect()
}

fn answers(attempt_or_window: &Value, choice: i32) -> Value {
    let answers: Vec<Value> = attempt_or_window["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| json!({"question_id": q["id"], "choices": [choice]}))
        .collect();
    json!({"answers": answers})
}

#[tokio::test]
async fn a_provider_pushes_completions_and_the_certificate_follows_the_questionnaire() {
    let p = Platform::start().await.unwrap();
    let w = Window::funded_with(&p, &[(3, 1), (3, 1)]).await;
    let c = &w.c;
    let admin = p.login("root", "root-password-123").await.unwrap();
    let (provider_a, provider_b) = (c.providers[0].clone(), c.providers[1].clone());

    // The region's post-course questionnaire and test (surveys runs them).
    for (kind, purpose, correct) in [
        ("questionnaire", "post_course_survey", false),
        ("test", "post_course_test", true),
    ] {
        let body = json!({"region_id": c.world.region, "kind": kind, "purpose": purpose,
                          "title": "Итоги курса", "questions": questions(correct), "pass_percent": 60});
        let body = if correct {
            body
        } else {
            let mut b = body;
            b.as_object_mut().unwrap().remove("pass_percent");
            b
        };
        let (s, b) = call(
            &p,
            Method::POST,
            "/api/v1/instruments",
            Some(&c.operator),
            Some(body),
        )
        .await;
        assert_eq!(s, 201, "{b}");
    }
    // That questionnaire is the independent assessment (seed 001): the
    // provider who ran the course does not write its own.
    let (s, seats) = call(
        &p,
        Method::GET,
        &format!("/api/v1/groups/{}/availability", w.g1),
        Some(&c.operator),
        None,
    )
    .await;
    assert_eq!(s, 200, "{seats}");
    let body = json!({"region_id": c.world.region, "kind": "questionnaire", "purpose": "post_course_survey",
                      "program_id": seats["group"]["program_id"], "title": "От организации", "questions": questions(false)});
    let (s, b) = call(
        &p,
        Method::POST,
        "/api/v1/instruments",
        Some(&c.prov_a),
        Some(body),
    )
    .await;
    assert_eq!(s, 403, "{b}");

    // Two learners enrolled; the window closes into a formed roster.
    c.move_to("applications").await;
    let (_, andreeva_id, andreeva, number) = w.person("Андреева").clone();
    let body = json!({"group_id": w.g1, "unique_number": number});
    let (_, s, b) = w.apply_once_open(&andreeva, "m-0", body).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = w.apply_as("Белова", &w.g1, false).await;
    assert_eq!(s, 201, "{b}");
    let belova_id = w.person("Белова").1.clone();
    let (s, b) = w.apply_as("Галкина", &w.g1, false).await;
    assert_eq!(s, 201, "{b}");
    let galkina_id = w.person("Галкина").1.clone();
    w.close_window().await;
    eventually(&p, &c.operator, &c.path("/formation"), |s, _| s == 200).await;

    // Keys: issued by an admin only, shown once, listed without the secret.
    let keys = format!("/api/v1/providers/{provider_a}/api-keys");
    let (s, _) = call(
        &p,
        Method::POST,
        &keys,
        Some(&c.prov_a),
        Some(json!({"label": "СДО"})),
    )
    .await;
    assert_eq!(s, 403, "a provider does not issue its own keys");
    let (s, key) = call(
        &p,
        Method::POST,
        &keys,
        Some(&admin),
        Some(json!({"label": "СДО"})),
    )
    .await;
    assert_eq!(s, 200, "{key}");
    let secret = key["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("pdk_"), "{key}");
    let (s, list) = call(&p, Method::GET, &keys, Some(&admin), None).await;
    assert_eq!(s, 200);
    assert_eq!(
        list["items"][0]["prefix"],
        secret[..12].to_owned().as_str(),
        "{list}"
    );
    assert_eq!(list["items"][0]["secret"], "", "{list}");
    let keys_b = format!("/api/v1/providers/{provider_b}/api-keys");
    let (_, key_b) = call(&p, Method::POST, &keys_b, Some(&admin), Some(json!({}))).await;
    let secret_b = key_b["secret"].as_str().unwrap().to_owned();

    // Forged keys, and a key of another provider than the path's: 401.
    let one = json!({"group_id": w.g1, "learners": [completed(&andreeva_id, "160001")]});
    let (s, b) = push(&p, &provider_a, "pdk_forged", one.clone()).await;
    assert_eq!(s, 401, "{b}");
    let (s, _) = push(&p, &provider_a, &secret_b, one.clone()).await;
    assert_eq!(s, 401);
    // Provider B's own key on provider A's group: 403.
    let (s, b) = push(&p, &provider_b, &secret_b, one.clone()).await;
    assert_eq!(s, 403, "{b}");

    // A stranger in the batch: refused whole, the stranger named.
    let stranger = w.person("Волкова").1.clone();
    let with_stranger = json!({"group_id": w.g1, "learners": [completed(&andreeva_id, "160001"), completed(&stranger, "160003")]});
    let mut refused = (0, Value::Null);
    for _ in 0..100 {
        // Monitoring learns the roster from enrollment's event.
        refused = push(&p, &provider_a, &secret, with_stranger.clone()).await;
        if refused.0 != 409 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(refused.0, 422, "{}", refused.1);
    assert_eq!(
        refused.1["errors"][0]["field"], "learners[1].educator_id",
        "{}",
        refused.1
    );

    let batch = json!({"group_id": w.g1, "learners": [
        completed(&andreeva_id, "160001"),
        completed(&galkina_id, "160002"),
        {"educator_id": belova_id, "status": "not_completed", "reason": "не защитила итоговую работу"}
    ]});
    let (s, out) = push(&p, &provider_a, &secret, batch.clone()).await;
    assert_eq!((s, &out["recorded"]), (200, &json!(3)), "{out}");
    let completion = out["learners"][0]["completion_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, again) = push(&p, &provider_a, &secret, batch).await;
    assert_eq!((s, &again["unchanged"]), (200, &json!(3)), "{again}");
    // The regional operator sees who did not complete.
    let path = format!(
        "/api/v1/completions?region_id={}&status=not_completed",
        c.world.region
    );
    let (s, nc) = call(&p, Method::GET, &path, Some(&c.operator), None).await;
    assert_eq!((s, &nc["total"]), (200, &json!(1)), "{nc}");
    assert_eq!(nc["items"][0]["reason"], "не защитила итоговую работу");

    // Surveys opened the questionnaire and the test for the educator.
    let mine = eventually(&p, &andreeva, "/api/v1/windows?status=open", |s, b| {
        s == 200
            && b["items"]
                .as_array()
                .is_some_and(|i| i.iter().filter(|w| w["source"] == "monitoring").count() == 2)
    })
    .await;
    let window = |purpose: &str| {
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["purpose"] == purpose)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (survey, test) = (window("post_course_survey"), window("post_course_test"));
    assert_eq!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["purpose"] == "post_course_test")
            .unwrap()["attempts_limit"],
        2
    );

    // The test twice: 0 %, then 100 %; a third attempt is refused.
    for choice in [0, 1] {
        let (s, a) = call(
            &p,
            Method::POST,
            &format!("/api/v1/windows/{test}/attempts"),
            Some(&andreeva),
            None,
        )
        .await;
        assert_eq!(s, 201, "{a}");
        let submit = format!("/api/v1/attempts/{}/submit", a["id"].as_str().unwrap());
        let (s, b) = call(
            &p,
            Method::POST,
            &submit,
            Some(&andreeva),
            Some(answers(&a, choice)),
        )
        .await;
        assert_eq!(s, 200, "{b}");
    }
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("/api/v1/windows/{test}/attempts"),
        Some(&andreeva),
        None,
    )
    .await;
    assert_eq!(s, 409, "{b}");
    let score = format!("/api/v1/post-course-windows/{completion}");
    let wnd = eventually(&p, &andreeva, &score, |s, b| {
        s == 200 && b["attempts_used"] == 2
    })
    .await;
    assert_eq!(
        (&wnd["best_percent"], &wnd["best_passed"]),
        (&json!(100), &json!(true)),
        "{wnd}"
    );
    // The organization's operator sees it too.
    let org0 = &w.org0;
    let (s, _) = call(&p, Method::GET, &score, Some(org0), None).await;
    assert_eq!(s, 200);

    // No certificate before the questionnaire.
    let (_, docs) = call(&p, Method::GET, "/api/v1/documents", Some(&andreeva), None).await;
    assert_eq!(docs["items"], json!([]), "{docs}");
    let (_, sw) = call(
        &p,
        Method::GET,
        &format!("/api/v1/windows/{survey}"),
        Some(&andreeva),
        None,
    )
    .await;
    let (s, b) = call(
        &p,
        Method::PUT,
        &format!("/api/v1/windows/{survey}/response"),
        Some(&andreeva),
        Some(answers(&sw, 1)),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let docs = eventually(&p, &andreeva, "/api/v1/documents", |s, b| {
        s == 200 && b["items"].as_array().is_some_and(|i| i.len() == 1)
    })
    .await;
    let doc = &docs["items"][0];
    assert_eq!(
        (&doc["kind"], &doc["document_number"], &doc["hours"]),
        (&json!("certificate"), &json!("160001"), &json!(36))
    );
    let code = doc["code"].as_str().unwrap().to_owned();

    // Printable, and verifiable by anyone at the link it prints.
    let print = p
        .http
        .get(p.url(&format!(
            "/api/v1/documents/{}/print",
            doc["id"].as_str().unwrap()
        )))
        .bearer_auth(&andreeva)
        .send()
        .await
        .unwrap();
    assert_eq!(print.status().as_u16(), 200);
    let html = print.text().await.unwrap();
    assert!(
        html.contains(&code) && html.contains(&format!("/verify/{code}")),
        "{html}"
    );
    let page = p
        .http
        .get(p.url(&format!("/verify/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Документ действителен") && html.contains("А******* А."),
        "{html}"
    );
    assert!(!html.contains("Андреева"), "the name is masked: {html}");
    let page = p
        .http
        .get(p.url("/verify/2222-2222-2222"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 404);
    assert!(page.text().await.unwrap().contains("не найден"));
    let (s, v) = call(
        &p,
        Method::GET,
        &format!("/api/v1/verify/{code}"),
        None,
        None,
    )
    .await;
    assert_eq!((s, &v["status"]), (200, &json!("valid")), "{v}");

    // Quality: of 3 enrolled, 2 completed; one questionnaire (each answer
    // the second option: 2.0), one test scored 100 %.
    let quality = format!("/api/v1/regions/{}/quality", c.world.region);
    let (s, b) = call(&p, Method::GET, &quality, Some(&c.prov_b), None).await;
    assert_eq!(s, 403, "{b}");
    let (s, mine) = call(
        &p,
        Method::GET,
        &format!("{quality}?provider_id={provider_a}"),
        Some(&c.prov_a),
        None,
    )
    .await;
    assert_eq!(
        (s, mine["programs"].as_array().map(Vec::len)),
        (200, Some(1)),
        "{mine}"
    );
    let report = eventually(&p, &c.operator, &quality, |s, b| {
        s == 200 && b["programs"][0]["surveyed"] == 1
    })
    .await;
    let q = &report["programs"][0];
    assert_eq!(
        (
            &q["enrolled"],
            &q["completed"],
            &q["not_completed"],
            &q["completion_percent"]
        ),
        (&json!(3), &json!(2), &json!(1), &json!(66)),
        "{q}"
    );
    assert_eq!(q["questions"].as_array().unwrap().len(), 5, "{q}");
    assert_eq!(
        (&q["questions"][0]["average"], &q["questions"][0]["answers"]),
        (&json!(2.0), &json!(1))
    );
    assert_eq!(
        (&q["tested"], &q["score_bands"], &q["passed"]),
        (&json!(1), &json!([0, 0, 0, 0, 1]), &json!(1)),
        "{q}"
    );
    let xlsx = p
        .http
        .get(p.url(&format!("{quality}?format=xlsx")))
        .bearer_auth(&c.operator)
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status().as_u16(), 200);
    assert!(
        xlsx.bytes().await.unwrap().starts_with(b"PK"),
        "an xlsx file is a zip archive"
    );
    // Who is in which state of the window, per organization.
    let states = format!("/api/v1/regions/{}/post-course-states", c.world.region);
    let (s, st) = call(&p, Method::GET, &states, Some(org0), None).await;
    assert_eq!(s, 200, "{st}");
    let row = &st["rows"][0];
    assert_eq!(
        (
            &row["unit_id"],
            &row["open"],
            &row["answered"],
            &row["tested"],
            &row["total"]
        ),
        (
            &json!(c.world.orgs[0]),
            &json!(1),
            &json!(1),
            &json!(1),
            &json!(2)
        ),
        "{st}"
    );

    // Allocation learns of the PD: the educator (a funded candidate until
    // now) trained yesterday, so she is no longer due; Белова still is.
    let candidates = c.path(&format!("/candidates?organization_id={}", c.world.orgs[0]));
    eventually(&p, &c.operator, &candidates, |s, b| {
        let listed = |id: &str| {
            b["items"]
                .as_array()
                .is_some_and(|i| i.iter().any(|x| x["educator_id"] == id))
        };
        s == 200 && !listed(&andreeva_id) && listed(&belova_id)
    })
    .await;

    // ФИС ФРДО: Андреева's birth date and sex are known, Галкина's are not.
    let patch = json!({"birth_date": "1985-04-12", "sex": "female"});
    let (s, e) = call(
        &p,
        Method::PATCH,
        &format!("/api/v1/educators/{andreeva_id}"),
        Some(&admin),
        Some(patch),
    )
    .await;
    assert_eq!((s, &e["birth_date"]), (200, &json!("1985-04-12")), "{e}");
    let frdo = format!("/api/v1/regions/{}/frdo-export", c.world.region);
    let (s, b) = call(&p, Method::GET, &frdo, Some(&c.prov_a), None).await;
    assert_eq!(s, 403, "{b}");
    let (s, page) = call(&p, Method::GET, &frdo, Some(&c.operator), None).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(
        (&page["total"], &page["valid"], &page["invalid"]),
        (&json!(2), &json!(1), &json!(1)),
        "{page}"
    );
    let problems: Vec<(&str, &str)> = page["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["document_number"].as_str().unwrap(),
                p["column"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            ("160002", "Дата рождения получателя"),
            ("160002", "Пол получателя")
        ]
    );
    let columns: Vec<&str> = page["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let cells: Vec<&str> = page["rows"][0]["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let snils = w.person("Андреева").1.clone();
    let (_, educator) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators/{snils}"),
        Some(&admin),
        None,
    )
    .await;
    let issued = chrono::NaiveDate::parse_from_str(&day(-1), "%Y-%m-%d")
        .unwrap()
        .format("%d.%m.%Y")
        .to_string();
    let expected = [
        (
            "Название документа",
            "Удостоверение о повышении квалификации",
        ),
        ("Вид документа", "Удостоверение о повышении квалификации"),
        ("Статус документа", "Оригинал"),
        ("Подтверждение утраты", "Нет"),
        ("Подтверждение обмена", "Нет"),
        ("Подтверждение уничтожения", "Нет"),
        ("Серия документа", "16"),
        ("Номер документа", "160001"),
        ("Дата выдачи документа", issued.as_str()),
        ("Регистрационный номер", "РН-160001"),
        (
            "Дополнительная профессиональная программа (наименование)",
            "Математическая грамотность",
        ),
        ("Срок обучения, часов", "36"),
        ("Фамилия получателя", "Андреева"),
        ("Имя получателя", "Анна"),
        ("Отчество получателя", ""),
        ("Дата рождения получателя", "12.04.1985"),
        ("Пол получателя", "Жен"),
        ("СНИЛС", educator["snils"].as_str().unwrap()),
        ("Форма обучения", "Очно-заочная"),
        ("Гражданство получателя (код страны по ОКСМ)", "643"),
    ];
    for (column, value) in expected {
        let i = columns
            .iter()
            .position(|c| *c == column)
            .unwrap_or_else(|| panic!("no column {column}"));
        assert_eq!(cells[i], value, "{column}");
    }
    // The upload file holds the valid row only; the report the other's problems.
    let file = p
        .http
        .get(p.url(&format!("{frdo}?format=csv")))
        .bearer_auth(&c.operator)
        .send()
        .await
        .unwrap();
    let csv = file.text().await.unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(
        csv.starts_with("\u{FEFF}Название документа;") && csv.contains(";160001;"),
        "{csv}"
    );
    let report = p
        .http
        .get(p.url(&format!("{frdo}?format=report")))
        .bearer_auth(&c.operator)
        .send()
        .await
        .unwrap();
    let report = report.text().await.unwrap();
    assert!(
        report.contains(";160002;") && report.contains("Дата рождения получателя"),
        "{report}"
    );
    let xlsx = p
        .http
        .get(p.url(&format!("{frdo}?format=xlsx")))
        .bearer_auth(&c.operator)
        .send()
        .await
        .unwrap();
    assert_eq!(
        xlsx.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        xlsx.bytes().await.unwrap().starts_with(b"PK"),
        "an xlsx file is a zip archive"
    );

    // A revoked key is refused at once.
    let revoke = format!("{keys}/{}/revoke", key["id"].as_str().unwrap());
    let (s, k) = call(&p, Method::POST, &revoke, Some(&admin), None).await;
    assert_eq!(s, 200, "{k}");
    assert_ne!(k["revoked_at"], "");
    let (s, _) = push(&p, &provider_a, &secret, one).await;
    assert_eq!(s, 401);

    // Nor does the provider rewrite a questionnaire the region wrote for
    // its program: to the provider it is the region's, not theirs to see.
    let body = json!({"region_id": c.world.region, "kind": "questionnaire", "purpose": "post_course_survey",
                      "program_id": seats["group"]["program_id"], "title": "Анкета по программе", "questions": questions(false)});
    let (s, q) = call(
        &p,
        Method::POST,
        "/api/v1/instruments",
        Some(&c.operator),
        Some(body.clone()),
    )
    .await;
    assert_eq!(s, 201, "{q}");
    let path = format!(
        "/api/v1/instruments/{}",
        q["id"].as_str().unwrap_or_default()
    );
    let (s, b) = call(&p, Method::PUT, &path, Some(&c.prov_a), Some(body)).await;
    assert_eq!(s, 404, "{b}");
    p.stop().await;
}
