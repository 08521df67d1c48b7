//! The story of issue 2: an admin sets up a region and its people, an org
//! operator sees only their organization.

use super::*;

fn staff_csv(inns: &[String], bad: bool) -> Vec<u8> {
    let mut csv = String::from(
        "snils;last_name;first_name;middle_name;position;subjects;organization_inn;last_pd_completed_on\n",
    );
    for i in 0..30u32 {
        let inn = &inns[(i % 3) as usize];
        csv.push_str(&format!(
            "{};Иванова{i};Мария;Петровна;учитель;Математика|Физика;{inn};2021-06-30\n",
            snils(i)
        ));
    }
    if bad {
        // Line 32: bad SNILS checksum; line 33: no last name and a date in
        // the future; line 34: unknown organization.
        csv.push_str(&format!(
            "112-233-445 96;Петров;Пётр;;учитель;;{};\n",
            inns[0]
        ));
        csv.push_str(&format!(
            "{};;Пётр;;учитель;;{};2999-01-01\n",
            snils(100),
            inns[0]
        ));
        csv.push_str(&format!(
            "{};Сидоров;Олег;;учитель;;7707083893;\n",
            snils(101)
        ));
    }
    csv.into_bytes()
}

#[tokio::test]
async fn admin_sets_up_a_region_and_an_org_operator_sees_only_their_organization() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();

    // A wrong password is 401 problem+json.
    let (s, body) = call(
        &p,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"login": "root", "password": "wrong-password"})),
    )
    .await;
    assert_eq!(s, 401);
    assert_eq!(body["status"], 401);

    let w = build_world(&p, &admin, "T16").await;

    // A file with bad rows is refused with a report per row; nothing imported.
    let job = import_csv(&p, &admin, "", staff_csv(&w.inns, true)).await;
    assert_eq!(job["status"], "rejected", "{job}");
    assert_eq!(job["error_count"], 4);
    let errors: Vec<(i64, String)> = job["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().unwrap(),
                e["column"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            (32, "snils".to_owned()),
            (33, "last_name".to_owned()),
            (33, "last_pd_completed_on".to_owned()),
            (34, "organization_inn".to_owned()),
        ]
    );
    let (_, list) = call(&p, Method::GET, "/api/v1/educators", Some(&admin), None).await;
    assert_eq!(list["total"], 0);

    // A dry run of the corrected file passes and imports nothing.
    let job = import_csv(&p, &admin, "?dry_run=true", staff_csv(&w.inns, false)).await;
    assert_eq!(
        (job["status"].as_str(), job["imported_rows"].as_i64()),
        (Some("completed"), Some(0)),
        "{job}"
    );
    let (_, list) = call(&p, Method::GET, "/api/v1/educators", Some(&admin), None).await;
    assert_eq!(list["total"], 0);

    // The corrected file imports, all of it.
    let job = import_csv(&p, &admin, "", staff_csv(&w.inns, false)).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["imported_rows"], 30);
    assert_eq!(job["processed_rows"], 30);
    let (_, list) = call(
        &p,
        Method::GET,
        "/api/v1/educators?limit=500",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(list["total"], 30);

    // Each import row became an educator_created event on the stream.
    let events = count_events(&p, "educator_created", 30).await;
    assert_eq!(events, 30);

    // An org operator for the first organization.
    let (s, user) = call(
        &p,
        Method::POST,
        "/api/v1/users",
        Some(&admin),
        Some(json!({"login": "school1.operator", "password": "operator-password-1", "display_name": "Оператор школы № 1"})),
    )
    .await;
    assert_eq!(s, 201, "{user}");
    let user_id = user["id"].as_str().unwrap();
    let (s, user) = call(
        &p,
        Method::POST,
        &format!("/api/v1/users/{user_id}/roles"),
        Some(&admin),
        Some(json!({"role": "org_operator", "scope_id": w.orgs[0]})),
    )
    .await;
    assert_eq!(s, 200, "{user}");
    assert_eq!(user["grants"][0]["role"], "org_operator");

    let operator = p
        .login("school1.operator", "operator-password-1")
        .await
        .unwrap();
    let (s, me) = call(&p, Method::GET, "/api/v1/me", Some(&operator), None).await;
    assert_eq!(s, 200);
    assert_eq!(me["user"]["login"], "school1.operator");

    // They list only their organization's educators.
    let (s, mine) = call(
        &p,
        Method::GET,
        "/api/v1/educators?limit=500",
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(mine["total"], 10);
    assert!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["organization_id"] == w.orgs[0].as_str())
    );
    // SNILS in full for the operator of the educator's organization.
    assert!(
        mine["items"][0]["snils"]
            .as_str()
            .unwrap()
            .chars()
            .filter(|c| c.is_ascii_digit())
            .count()
            == 11
    );

    // Another organization's educator does not exist for them; asking for
    // that organization's list is forbidden; so is adding people there.
    let (_, all) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators?organization_id={}", w.orgs[1]),
        Some(&admin),
        None,
    )
    .await;
    let foreign = all["items"][0]["id"].as_str().unwrap().to_owned();
    let (s, body) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators/{foreign}"),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(s, 404, "{body}");
    assert_eq!(body["code"], "not_found");
    let (s, _) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators?organization_id={}", w.orgs[1]),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(s, 403);
    let (s, body) = call(
        &p,
        Method::POST,
        "/api/v1/educators",
        Some(&operator),
        Some(json!({"snils": snils(500), "last_name": "Новикова", "first_name": "Анна", "position": "учитель", "organization_id": w.orgs[1]})),
    )
    .await;
    assert_eq!(s, 403, "{body}");
    let (s, _) = call(
        &p,
        Method::PATCH,
        &format!("/api/v1/educators/{foreign}"),
        Some(&operator),
        Some(json!({"position": "директор"})),
    )
    .await;
    assert_eq!(s, 404);

    // In their own organization they add and edit.
    let (s, created) = call(
        &p,
        Method::POST,
        "/api/v1/educators",
        Some(&operator),
        Some(json!({"snils": snils(501), "last_name": "Новикова", "first_name": "Анна", "position": "учитель", "subjects": ["Химия"], "organization_id": w.orgs[0]})),
    )
    .await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let (s, edited) = call(
        &p,
        Method::PATCH,
        &format!("/api/v1/educators/{id}"),
        Some(&operator),
        Some(json!({"position": "заместитель директора"})),
    )
    .await;
    assert_eq!(s, 200, "{edited}");
    assert_eq!(edited["position"], "заместитель директора");
    let (_, again) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators/{id}"),
        Some(&operator),
        None,
    )
    .await;
    assert_eq!(again["position"], "заместитель директора");

    // A duplicate SNILS is a conflict.
    let (s, body) = call(
        &p,
        Method::POST,
        "/api/v1/educators",
        Some(&operator),
        Some(json!({"snils": snils(501), "last_name": "X", "first_name": "Y", "position": "учитель", "organization_id": w.orgs[0]})),
    )
    .await;
    assert_eq!(s, 409, "{body}");

    // An org operator may not create regions or grant roles beyond their reach.
    let (s, _) = call(
        &p,
        Method::POST,
        "/api/v1/regions",
        Some(&operator),
        Some(json!({"code": "X", "name": "X", "time_zone": "UTC", "pd_model": "un_quota"})),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = call(
        &p,
        Method::POST,
        &format!("/api/v1/users/{user_id}/roles"),
        Some(&operator),
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(s, 403);

    // The ministry reads educators of its region with SNILS masked.
    let ministry = p
        .user_token("minister", "ministry", Some(w.region.parse().unwrap()))
        .await
        .unwrap();
    let (s, seen) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators/{foreign}"),
        Some(&ministry),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert!(seen["snils"].as_str().unwrap().starts_with("***-***-***"));

    // Moving an educator between organizations (regional operator).
    let regional = p
        .user_token(
            "region.op",
            "regional_operator",
            Some(w.region.parse().unwrap()),
        )
        .await
        .unwrap();
    let (s, moved) = call(
        &p,
        Method::PATCH,
        &format!("/api/v1/educators/{foreign}"),
        Some(&regional),
        Some(json!({"organization_id": w.orgs[0]})),
    )
    .await;
    assert_eq!(s, 200, "{moved}");
    assert_eq!(moved["organization_id"], w.orgs[0].as_str());
    assert_eq!(count_events(&p, "educator_moved", 1).await, 1);
    // Every grant is an event, the ones made with a user too.
    assert!(count_events(&p, "role_granted", 4).await >= 4);

    // Logins for every educator of an organization, usable at once.
    let (s, issued) = call(
        &p,
        Method::POST,
        &format!("/api/v1/organizations/{}/educator-logins", w.orgs[2]),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(s, 201, "{issued}");
    let items = issued["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    assert_eq!(issued["remaining"], 0);
    let teacher = p
        .login(
            items[0]["login"].as_str().unwrap(),
            items[0]["password"].as_str().unwrap(),
        )
        .await
        .unwrap();
    let (s, me) = call(&p, Method::GET, "/api/v1/me", Some(&teacher), None).await;
    assert_eq!(s, 200);
    assert_eq!(me["educator"]["id"], items[0]["educator_id"]);
    let (_, own) = call(&p, Method::GET, "/api/v1/educators", Some(&teacher), None).await;
    assert_eq!(own["total"], 1);

    p.stop().await;
}

/// Counts the events of one type on identity's stream, waiting for the
/// outbox relay to publish at least `want`.
pub async fn count_events(p: &Platform, event: &str, want: usize) -> usize {
    count_service_events(p, "identity", event, want).await
}

/// Counts the events of one type on a service's stream, waiting for at
/// least `want`.
pub async fn count_service_events(p: &Platform, service: &str, event: &str, want: usize) -> usize {
    let mut seen = 0;
    for _ in 0..100 {
        seen = p.env.event_count(service, event).await.unwrap() as usize;
        if seen >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    seen
}
