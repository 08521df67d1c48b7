//! Issue 6, "bounds on every input": over-long, out-of-range, unknown and
//! malformed input is a 422 (or 400) naming the field, never a 500; list
//! paging outside its range is refused; imports hold the same bounds per
//! row and report rather than fail.

use super::*;

fn field(body: &Value) -> &str {
    body["errors"][0]["field"].as_str().unwrap_or("")
}

#[tokio::test]
async fn identity_inputs_are_bounded_and_named() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let w = build_world(&p, &admin, "BD1").await;
    let long = "Я".repeat(3000);

    for (body, expected) in [
        (
            json!({"code": "BD2", "name": "Регион", "time_zone": "Mars/Olympus", "pd_model": "un_quota"}),
            "time_zone",
        ),
        (
            json!({"code": "BD2", "name": long, "time_zone": "Europe/Moscow", "pd_model": "un_quota"}),
            "name",
        ),
        // Unknown keys are refused rather than ignored.
        (
            json!({"code": "BD2", "name": "Регион", "time_zone": "Europe/Moscow", "pd_model": "un_quota", "colour": "red"}),
            "colour",
        ),
        // A wrong type names the field, in Russian, without Rust type names.
        (
            json!({"code": "BD2", "name": 5, "time_zone": "Europe/Moscow", "pd_model": "un_quota"}),
            "name",
        ),
    ] {
        let (s, b) = call(
            &p,
            Method::POST,
            "/api/v1/regions",
            Some(&admin),
            Some(body),
        )
        .await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(field(&b), expected, "{b}");
        assert!(!b["detail"].as_str().unwrap().contains("String"), "{b}");
    }
    let (s, b) = call(
        &p,
        Method::POST,
        "/api/v1/regions",
        Some(&admin),
        Some(json!([1, 2])),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("объект"), "{b}");
    assert!(!b["detail"].as_str().unwrap().contains("struct"), "{b}");
    assert_eq!(
        b["errors"][0]["field"], "body",
        "a 400 names what was malformed: {b}"
    );

    // A 3,000-character municipality name used to break an index (500).
    let (s, b) = call(
        &p,
        Method::POST,
        &format!("/api/v1/regions/{}/municipalities", w.region),
        Some(&admin),
        Some(json!({"name": long})),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(field(&b), "name");

    for (body, expected) in [
        (json!({"last_name": long}), "last_name"),
        (json!({"first_name": long}), "first_name"),
        (
            json!({"last_pd_completed_on": "1800-01-01"}),
            "last_pd_completed_on",
        ),
        (
            json!({"last_pd_completed_on": "01.02.24"}),
            "last_pd_completed_on",
        ),
        (json!({"snils": "000-000-000 00"}), "snils"),
        (json!({"subjects": vec!["Математика"; 101]}), "subjects"),
    ] {
        let mut e = json!({"snils": snils(500), "last_name": "Иванова", "first_name": "Анна", "position": "учитель", "organization_id": w.orgs[0]});
        for (k, v) in body.as_object().unwrap() {
            e[k] = v.clone();
        }
        let (s, b) = call(&p, Method::POST, "/api/v1/educators", Some(&admin), Some(e)).await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(field(&b), expected, "{b}");
    }
    let (s, b) = call(
        &p,
        Method::POST,
        "/api/v1/organizations",
        Some(&admin),
        Some(json!({"municipality_id": w.municipalities[0], "name": "Школа", "kind": "school", "inn": "0000000000"})),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(field(&b), "inn");

    // Paging outside its range is refused, not clamped.
    for (query, expected) in [
        ("limit=-1", "limit"),
        ("limit=501", "limit"),
        ("offset=-1", "offset"),
        ("limit=abc", "limit"),
    ] {
        let (s, b) = call(
            &p,
            Method::GET,
            &format!("/api/v1/educators?{query}"),
            Some(&admin),
            None,
        )
        .await;
        assert_eq!(s, 422, "{query}: {b}");
        assert_eq!(field(&b), expected);
    }
    // An over-long address is a problem too, not a bare status line.
    let r = p
        .http
        .get(p.url(&format!(
            "/api/v1/educators?region_id={}",
            "x".repeat(10_000)
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 414);
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    // "Not in the future" is judged by the services' clock: a PD ending in
    // three days is refused today and accepted once the clock has moved on
    // (as monitoring, which records the completion, judges it).
    let ahead = (chrono::Utc::now() + chrono::Duration::days(3)).date_naive();
    let educator = json!({"snils": snils(500), "last_name": "Иванова", "first_name": "Анна", "position": "учитель", "organization_id": w.orgs[0], "last_pd_completed_on": ahead.to_string()});
    let (s, b) = call(
        &p,
        Method::POST,
        "/api/v1/educators",
        Some(&admin),
        Some(educator.clone()),
    )
    .await;
    assert_eq!((s, field(&b)), (422, "last_pd_completed_on"), "{b}");
    p.env.settings.clock.advance(chrono::Duration::days(3));
    let (s, b) = call(
        &p,
        Method::POST,
        "/api/v1/educators",
        Some(&admin),
        Some(educator),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["last_pd_completed_on"], ahead.to_string(), "{b}");
    p.stop().await;
}

fn staff_csv(inns: &[String], from: u32, to: u32, ending: &str) -> Vec<u8> {
    let mut csv = String::from("snils;last_name;first_name;position;organization_inn");
    csv.push_str(ending);
    for i in from..to {
        csv.push_str(&format!(
            "{};Петрова{i};Анна;учитель;{}{ending}",
            snils(1000 + i),
            inns[0]
        ));
    }
    csv.into_bytes()
}

#[tokio::test]
async fn imports_report_rows_whatever_the_line_endings_and_concurrency() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let w = build_world(&p, &admin, "BD3").await;

    // Excel's CRLF and old CR-only files report the same rows as LF files;
    // an over-long cell is a row error in the dry run, not a failed import.
    for ending in ["\n", "\r\n", "\r"] {
        let mut csv = staff_csv(&w.inns, 0, 3, ending);
        csv.extend(
            format!(
                "{};{};Анна;учитель;{}{ending}",
                snils(1999),
                "Я".repeat(3000),
                w.inns[0]
            )
            .bytes(),
        );
        let job = import_csv(&p, &admin, "?dry_run=true", csv).await;
        assert_eq!(job["status"], "rejected", "{ending:?}: {job}");
        assert_eq!(job["errors"][0]["row"], 5, "{ending:?}: {job}");
        assert_eq!(job["errors"][0]["column"], "last_name");
    }
    // An empty file says so: at once when nothing was sent, in the report
    // when it holds only blank lines.
    let r = p
        .http
        .post(p.url("/api/v1/educators/imports"))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let job = import_csv(&p, &admin, "", b"  \r\n\r\n".to_vec()).await;
    assert_eq!(job["status"], "rejected", "{job}");
    assert!(job["message"].as_str().unwrap().contains("пуст"), "{job}");

    // Two overlapping lists uploaded at once: one imports, the other (if it
    // lost the race) reports the rows the first took; neither fails.
    let (a, b) = tokio::join!(
        import_csv(&p, &admin, "", staff_csv(&w.inns, 0, 3000, "\n")),
        import_csv(&p, &admin, "", staff_csv(&w.inns, 2000, 5000, "\n")),
    );
    let mut statuses = [a["status"].as_str().unwrap(), b["status"].as_str().unwrap()];
    statuses.sort();
    assert_eq!(statuses, ["completed", "rejected"], "{a}\n{b}");
    for job in [&a, &b] {
        if job["status"] == "rejected" {
            assert_eq!(job["error_count"], 1000, "{job}");
            assert_eq!(job["errors"][0]["column"], "snils");
        }
        assert!(job["finished_at"].as_str().unwrap_or("") >= job["created_at"].as_str().unwrap());
    }
    let (_, list) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators?organization_id={}&limit=1", w.orgs[0]),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(list["total"], 3000, "one file's rows, never both");
    p.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_makes_a_retry_return_the_first_answer() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let post = |key: &'static str, body: Value| {
        let req = p
            .http
            .post(p.url("/api/v1/regions"))
            .bearer_auth(&admin)
            .header("idempotency-key", key)
            .json(&body);
        async move {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let region = json!({"code": "ID1", "name": "Регион", "time_zone": "Europe/Moscow", "pd_model": "un_quota"});
    let (s1, first) = post("key-1", region.clone()).await;
    let (s2, again) = post("key-1", region.clone()).await;
    assert_eq!((s1, s2), (201, 201), "{first} {again}");
    assert_eq!(
        first["id"], again["id"],
        "the retry answered with the first region"
    );
    let (_, regions) = call(&p, Method::GET, "/api/v1/regions", Some(&admin), None).await;
    assert_eq!(
        regions["items"].as_array().map(Vec::len),
        Some(1),
        "{regions}"
    );
    // The same key with another body is refused, naming the header.
    let mut other = region.clone();
    other["code"] = json!("ID2");
    let (s, body) = post("key-1", other.clone()).await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "Idempotency-Key");
    let (s, _) = post("key-3", other).await;
    assert_eq!(s, 201);
    // An error is replayed too: the first answer, not a second attempt,
    // even when a second attempt would now succeed.
    let (s, u) = call(
        &p,
        Method::POST,
        "/api/v1/users",
        Some(&admin),
        Some(json!({"login": "newcomer", "password": "newcomer-password"})),
    )
    .await;
    assert_eq!(s, 201, "{u}");
    let newcomer = p.login("newcomer", "newcomer-password").await.unwrap();
    let third = json!({"code": "ID3", "name": "Регион", "time_zone": "Europe/Moscow", "pd_model": "un_quota"});
    let as_newcomer = |token: String, key: &'static str, body: Value| {
        let req = p
            .http
            .post(p.url("/api/v1/regions"))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&body);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        as_newcomer(newcomer.clone(), "key-9", third.clone()).await,
        403
    );
    let (s, _) = call(
        &p,
        Method::POST,
        &format!("/api/v1/users/{}/roles", u["id"].as_str().unwrap()),
        Some(&admin),
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(s, 200);
    let newcomer = p.login("newcomer", "newcomer-password").await.unwrap();
    assert_eq!(
        as_newcomer(newcomer.clone(), "key-9", third.clone()).await,
        403,
        "replayed"
    );
    assert_eq!(as_newcomer(newcomer, "key-10", third).await, 201);
    p.stop().await;
}
