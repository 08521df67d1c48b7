//! Issue 6, "an operator needs": their import jobs, search of educators and
//! organizations, editing organizations and regions, an educator leaving
//! (kept, with history), lists in Russian order.

use super::walking_skeleton::count_events;
use super::*;

async fn educator(p: &Platform, token: &str, org: &str, n: u32, last: &str, first: &str) -> Value {
    let (s, e) = call(
        p,
        Method::POST,
        "/api/v1/educators",
        Some(token),
        Some(json!({"snils": snils(n), "last_name": last, "first_name": first, "position": "учитель", "organization_id": org})),
    )
    .await;
    assert_eq!(s, 201, "{e}");
    e
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["last_name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn operators_search_sort_edit_and_record_leavers() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let w = build_world(&p, &admin, "OP1").await;
    let org = &w.orgs[0];
    for (n, last, first) in [
        (1, "Жуков", "Иван"),
        (2, "Ёлкин", "Пётр"),
        (3, "Абрамов", "Олег"),
        (4, "Еленин", "Сергей"),
        (5, "Ёлкина", "Анна"),
    ] {
        educator(&p, &admin, org, n, last, first).await;
    }
    let list_path = format!("/api/v1/educators?organization_id={org}");
    let (_, list) = call(&p, Method::GET, &list_path, Some(&admin), None).await;
    // Ё sorts with Е (the C collation would put it before А).
    assert_eq!(
        names(&list),
        ["Абрамов", "Еленин", "Ёлкин", "Ёлкина", "Жуков"]
    );

    // Search by the start of the last name (and of the first name), or SNILS.
    let (_, found) = call(
        &p,
        Method::GET,
        &format!("{list_path}&q=ёлк"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(names(&found), ["Ёлкин", "Ёлкина"]);
    let (_, found) = call(
        &p,
        Method::GET,
        &format!("{list_path}&q=Ёлкина%20ан"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(names(&found), ["Ёлкина"]);
    let (_, found) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators?q={}", snils(3).replace(' ', "%20")),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(names(&found), ["Абрамов"]);
    assert_eq!(found["total"], 1);

    // Leaving: kept, marked, out of the default list, in the history.
    let (_, zhukov) = call(
        &p,
        Method::GET,
        &format!("{list_path}&q=Жуков"),
        Some(&admin),
        None,
    )
    .await;
    let id = zhukov["items"][0]["id"].as_str().unwrap().to_owned();
    let leave = format!("/api/v1/educators/{id}/leave");
    let (s, b) = call(
        &p,
        Method::POST,
        &leave,
        Some(&admin),
        Some(json!({"reason": "fired", "left_on": "2026-09-01"})),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["field"], "reason");
    let (s, e) = call(&p, Method::POST, &leave, Some(&admin), Some(json!({"reason": "dismissal", "left_on": "2026-09-01", "comment": "по собственному желанию"}))).await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(e["employment_status"], "left");
    assert_eq!(e["left_on"], "2026-09-01");
    let (s, _) = call(
        &p,
        Method::POST,
        &leave,
        Some(&admin),
        Some(json!({"reason": "dismissal", "left_on": "2026-09-01"})),
    )
    .await;
    assert_eq!(s, 409);
    let (_, list) = call(&p, Method::GET, &list_path, Some(&admin), None).await;
    assert!(!names(&list).contains(&"Жуков".to_owned()));
    let (_, left) = call(
        &p,
        Method::GET,
        &format!("{list_path}&status=left"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(names(&left), ["Жуков"]);
    let (s, e) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators/{id}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(s, 200, "never deleted: {e}");
    let (s, h) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators/{id}/history"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(s, 200, "{h}");
    let changes: Vec<&str> = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["created", "left"]);
    assert!(
        h["items"][1]["details"]
            .as_str()
            .unwrap()
            .contains("dismissal")
    );
    assert_eq!(count_events(&p, "educator_left", 1).await, 1);

    // Organizations: by INN start or part of the name; edited by operators
    // of their place only.
    let (_, orgs) = call(
        &p,
        Method::GET,
        &format!("/api/v1/organizations?q={}", &w.inns[1][..9]),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(orgs["total"], 1, "{orgs}");
    assert_eq!(orgs["items"][0]["id"], w.orgs[1].as_str());
    let (_, orgs) = call(
        &p,
        Method::GET,
        "/api/v1/organizations?q=%D0%A8%D0%9A%D0%9E%D0%9B%D0%90%20%E2%84%96%203",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(orgs["items"][0]["id"], w.orgs[2].as_str(), "{orgs}");
    let (s, o) = call(
        &p,
        Method::PATCH,
        &format!("/api/v1/organizations/{org}"),
        Some(&admin),
        Some(json!({"name": "Гимназия № 1"})),
    )
    .await;
    assert_eq!(s, 200, "{o}");
    assert_eq!(o["name"], "Гимназия № 1");
    let other = p
        .user_token(
            "far.municipal",
            "municipal_operator",
            Some(w.municipalities[1].parse().unwrap()),
        )
        .await
        .unwrap();
    let (s, _) = call(
        &p,
        Method::PATCH,
        &format!("/api/v1/organizations/{org}"),
        Some(&other),
        Some(json!({"name": "X"})),
    )
    .await;
    assert_eq!(s, 403);

    // Regions: corrected by admins, time zones checked.
    let region_path = format!("/api/v1/regions/{}", w.region);
    let (s, b) = call(
        &p,
        Method::PATCH,
        &region_path,
        Some(&admin),
        Some(json!({"time_zone": "Mars/Olympus"})),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    let (s, r) = call(
        &p,
        Method::PATCH,
        &region_path,
        Some(&admin),
        Some(json!({"time_zone": "Europe/Samara", "pd_interval_years": 5})),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["time_zone"].as_str(), r["pd_interval_years"].as_i64()),
        (Some("Europe/Samara"), Some(5))
    );
    assert_eq!(count_events(&p, "region_updated", 1).await, 1);

    // The operator's import jobs, newest first, with their first errors.
    let csv = format!(
        "snils;last_name;first_name;position\n{};;Анна;учитель\n",
        snils(99)
    )
    .into_bytes();
    let job = import_csv(
        &p,
        &admin,
        &format!("?organization_id={org}&dry_run=true"),
        csv,
    )
    .await;
    assert_eq!(job["status"], "rejected");
    let (s, jobs) = call(
        &p,
        Method::GET,
        "/api/v1/educators/imports",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(s, 200, "{jobs}");
    assert_eq!(jobs["total"], 1);
    assert_eq!(jobs["items"][0]["id"], job["id"]);
    assert_eq!(jobs["items"][0]["error_count"], 1);
    assert_eq!(jobs["items"][0]["errors"][0]["column"], "last_name");
    p.stop().await;
}

/// Keyset paging of a large list: pages follow `next`, none is skipped or
/// repeated, in the same order as offset paging.
#[tokio::test]
async fn educator_pages_follow_the_next_cursor() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let w = build_world(&p, &admin, "63").await;
    let mut csv = String::from(
        "snils;last_name;first_name;middle_name;position;subjects;organization_inn;last_pd_completed_on\n",
    );
    for (i, name) in [
        "Ёлкина",
        "Авдеева",
        "Елина",
        "Жукова",
        "Борисова",
        "Ершова",
        "Иванова",
    ]
    .iter()
    .enumerate()
    {
        csv.push_str(&format!(
            "{};{name};Анна;;учитель;;{};\n",
            snils(900 + i as u32),
            w.inns[0]
        ));
    }
    let job = import_csv(&p, &admin, "", csv.into_bytes()).await;
    assert_eq!(job["status"], "completed", "{job}");
    let all = format!("/api/v1/educators?organization_id={}", w.orgs[0]);
    let base = format!("{all}&limit=3");
    let (_, by_offset) = call(
        &p,
        Method::GET,
        &format!("{all}&limit=100"),
        Some(&admin),
        None,
    )
    .await;
    let expected: Vec<Value> = by_offset["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].clone())
        .collect();
    assert_eq!(expected.len(), 7);
    let mut seen = Vec::new();
    let mut after = String::new();
    for _ in 0..5 {
        let (s, page) = call(
            &p,
            Method::GET,
            &format!("{base}&after={after}"),
            Some(&admin),
            None,
        )
        .await;
        assert_eq!(s, 200, "{page}");
        assert_eq!(page["total"], 7);
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].clone()),
        );
        after = page["next"].as_str().unwrap().to_owned();
        if after.is_empty() {
            break;
        }
    }
    assert_eq!(seen, expected);
    // Ё sorts with Е: Авдеева, Борисова, Елина, Ёлкина, Ершова, ...
    let names: Vec<&str> = by_offset["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["last_name"].as_str().unwrap())
        .collect();
    assert_eq!(names[..4], ["Авдеева", "Борисова", "Елина", "Ёлкина"]);
    let first = expected[0].as_str().unwrap();
    let (s, body) = call(
        &p,
        Method::GET,
        &format!("{base}&after={first}&offset=3"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "offset");
    // A cursor the caller cannot see is refused, not answered with a page.
    let unseen = uuid::Uuid::now_v7();
    let (s, body) = call(
        &p,
        Method::GET,
        &format!("{base}&after={unseen}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        (s, &body["errors"][0]["field"]),
        (422, &json!("after")),
        "{body}"
    );
    p.stop().await;
}
