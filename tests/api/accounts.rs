//! Issue 6: who may grant what to whom, and an account's life after it is
//! created (listing, revoking, deactivating, passwords, sessions, audit).

use super::fixtures::until_known;
use super::walking_skeleton::count_events;
use super::*;

const PASSWORD: &str = "password-12345";

/// `creator` makes a login; returns its id.
async fn new_user(p: &Platform, creator: &str, login: &str) -> String {
    let (s, u) = call(
        p,
        Method::POST,
        "/api/v1/users",
        Some(creator),
        Some(json!({"login": login, "password": PASSWORD})),
    )
    .await;
    assert_eq!(s, 201, "{u}");
    u["id"].as_str().unwrap().to_owned()
}

async fn grant(p: &Platform, granter: &str, user: &str, role: &str, scope: &str) -> (u16, Value) {
    call(
        p,
        Method::POST,
        &format!("/api/v1/users/{user}/roles"),
        Some(granter),
        Some(json!({"role": role, "scope_id": scope})),
    )
    .await
}

/// A user made by the admin with one role; returns (id, token).
async fn staff(
    p: &Platform,
    admin: &str,
    login: &str,
    role: &str,
    scope: &str,
) -> (String, String) {
    let id = new_user(p, admin, login).await;
    let (s, u) = grant(p, admin, &id, role, scope).await;
    assert_eq!(s, 200, "{u}");
    (id, p.login(login, PASSWORD).await.unwrap())
}

async fn provider(p: &Platform, admin: &str, region: &str, n: u32) -> String {
    let inn = pd_domain::Inn::from_body(165_800_000 + n).unwrap();
    let (s, pr) = call(
        p,
        Method::POST,
        "/api/v1/providers",
        Some(admin),
        Some(json!({"region_id": region, "name": format!("ДПО {n}"), "inn": inn.as_str(), "licence_number": "Л035-01"})),
    )
    .await;
    assert_eq!(s, 201, "{pr}");
    pr["id"].as_str().unwrap().to_owned()
}

async fn educator(p: &Platform, admin: &str, org: &str, n: u32) -> String {
    let (s, e) = call(
        p,
        Method::POST,
        "/api/v1/educators",
        Some(admin),
        Some(json!({"snils": snils(n), "last_name": "Учителева", "first_name": "Анна", "position": "учитель", "organization_id": org})),
    )
    .await;
    assert_eq!(s, 201, "{e}");
    e["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn grants_respect_the_account_its_scope_and_separation_of_duties() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let w = build_world(&p, &admin, "AC1").await;
    let prov = provider(&p, &admin, &w.region, 1).await;
    let (prov_admin_id, prov_admin) =
        staff(&p, &admin, "provider.admin", "provider_admin", &prov).await;
    let (_, municipal) = staff(
        &p,
        &admin,
        "municipal",
        "municipal_operator",
        &w.municipalities[0],
    )
    .await;
    let (regional_id, regional) =
        staff(&p, &admin, "regional", "regional_operator", &w.region).await;
    let (_, ministry) = staff(&p, &admin, "ministry", "ministry", &w.region).await;
    let admin_id = {
        let (_, me) = call(&p, Method::GET, "/api/v1/me", Some(&admin), None).await;
        me["user"]["id"].as_str().unwrap().to_owned()
    };

    // The municipal operator may grant org_operator of their school, but not
    // to the provider's admin nor to the admin (outside their scope: 404).
    for target in [&prov_admin_id, &admin_id] {
        let (s, body) = grant(&p, &municipal, target, "org_operator", &w.orgs[0]).await;
        assert_eq!(s, 404, "{body}");
    }
    // ... so the provider admin still cannot read the school's staff.
    let e = educator(&p, &admin, &w.orgs[0], 1).await;
    let (s, _) = call(
        &p,
        Method::GET,
        &format!("/api/v1/educators/{e}"),
        Some(&prov_admin),
        None,
    )
    .await;
    assert_eq!(s, 404);
    // To an account they created, inside their municipality: yes; a school
    // of another municipality: no.
    let clerk = new_user(&p, &municipal, "school.clerk").await;
    let (s, body) = grant(&p, &municipal, &clerk, "org_operator", &w.orgs[0]).await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = grant(&p, &municipal, &clerk, "org_operator", &w.orgs[2]).await;
    assert_eq!(s, 403);
    // Revoking follows the same account rule: the admin's org_operator
    // grant is not the municipal operator's to take (the account holds a
    // role outside their scope).
    let (s, a) = grant(&p, &admin, &admin_id, "org_operator", &w.orgs[0]).await;
    assert_eq!(s, 403, "not to oneself, even for an admin: {a}");
    let (_, boss) = staff(&p, &admin, "boss", "admin", "").await;
    let (s, a) = grant(&p, &boss, &admin_id, "org_operator", &w.orgs[0]).await;
    assert_eq!(s, 200, "{a}");
    let admin_grant = a["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["role"] == "org_operator")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, _) = call(
        &p,
        Method::DELETE,
        &format!("/api/v1/users/{admin_id}/roles/{admin_grant}"),
        Some(&municipal),
        None,
    )
    .await;
    assert_eq!(s, 403);
    // Peers are outside one's scope: no password reset of another
    // municipal operator of the same municipality.
    let (peer, _) = staff(
        &p,
        &admin,
        "municipal.two",
        "municipal_operator",
        &w.municipalities[0],
    )
    .await;
    let (s, _) = call(
        &p,
        Method::POST,
        &format!("/api/v1/users/{peer}/password-reset"),
        Some(&municipal),
        None,
    )
    .await;
    assert_eq!(s, 404);
    // Never to oneself.
    let (s, body) = grant(
        &p,
        &regional,
        &regional_id,
        "municipal_operator",
        &w.municipalities[1],
    )
    .await;
    assert_eq!(s, 403, "{body}");

    // Experts, council members and provider admins come from the ministry.
    let judge = new_user(&p, &regional, "judge").await;
    for role in ["expert", "council_member"] {
        let (s, body) = grant(&p, &regional, &judge, role, &w.region).await;
        assert_eq!(s, 403, "{role}: {body}");
    }
    let (s, _) = grant(&p, &regional, &judge, "provider_admin", &prov).await;
    assert_eq!(s, 403);
    let expert = new_user(&p, &ministry, "expert.one").await;
    let (s, body) = grant(&p, &ministry, &expert, "expert", &w.region).await;
    assert_eq!(s, 200, "{body}");
    // Separation of duties, even for the admin: no provider admin who is an
    // expert or council member of the same region, in either order.
    let (s, body) = grant(&p, &ministry, &expert, "provider_admin", &prov).await;
    assert_eq!(s, 409, "{body}");
    let (s, body) = grant(&p, &admin, &prov_admin_id, "council_member", &w.region).await;
    assert_eq!(s, 409, "{body}");

    // One account per educator on both paths.
    let (s, body) = call(
        &p,
        Method::POST,
        "/api/v1/users",
        Some(&admin),
        Some(json!({"login": "anna", "password": PASSWORD, "educator_id": e})),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    let second = new_user(&p, &admin, "anna.two").await;
    let (s, body) = grant(&p, &admin, &second, "educator", &e).await;
    assert_eq!(s, 409, "{body}");
    let e2 = educator(&p, &admin, &w.orgs[0], 2).await;
    let (s, body) = grant(&p, &admin, &second, "educator", &e2).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["educator_id"], e2.as_str());
    let (s, body) = call(
        &p,
        Method::POST,
        "/api/v1/users",
        Some(&admin),
        Some(json!({"login": "anna.three", "password": PASSWORD, "educator_id": e2})),
    )
    .await;
    assert_eq!(s, 409, "{body}");
    p.stop().await;
}

#[tokio::test]
async fn another_regions_campaign_shows_only_its_public_fields() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let home = build_world(&p, &admin, "AC2").await;
    let (s, other) = call(
        &p,
        Method::POST,
        "/api/v1/regions",
        Some(&admin),
        Some(json!({"code": "AC3", "name": "Самарская область", "time_zone": "Europe/Samara", "pd_model": "voucher_hours"})),
    )
    .await;
    assert_eq!(s, 201, "{other}");
    let (_, ministry) = staff(&p, &admin, "ministry", "ministry", &home.region).await;
    let (_, foreign) = staff(
        &p,
        &admin,
        "samara.operator",
        "regional_operator",
        other["id"].as_str().unwrap(),
    )
    .await;
    let e = educator(&p, &admin, &home.orgs[0], 3).await;
    let (_, teacher) = staff(&p, &admin, "teacher", "educator", &e).await;
    let year = chrono::Utc::now().date_naive().format("%Y").to_string();
    let y: i32 = year.parse().unwrap();
    let phases = [
        "needs_survey",
        "program_submission",
        "expert_review",
        "schedule",
        "applications",
        "post_course",
    ]
    .iter()
    .enumerate()
    .map(|(i, ph)| {
        let m = i as u32 * 2 + 1;
        json!({"phase": ph, "starts_on": format!("{}-{m:02}-01", y + 1), "ends_on": format!("{}-{m:02}-20", y + 1)})
    })
    .collect::<Vec<_>>();
    // Retried while the registry has not yet heard of the region.
    let created = until_known(
        &p,
        Method::POST,
        "/api/v1/campaigns",
        &ministry,
        json!({"region_id": home.region, "year": y + 1, "title": "ПК", "phases": phases}),
    )
    .await;
    assert_eq!(created.0, 201, "{}", created.1);
    let id = created.1["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/campaigns/{id}");
    for own in [&ministry, &teacher] {
        let (s, c) = call(&p, Method::GET, &path, Some(own), None).await;
        assert_eq!(s, 200);
        assert_eq!(c["phases"].as_array().map(Vec::len), Some(6), "{c}");
    }
    let (s, c) = call(&p, Method::GET, &path, Some(&foreign), None).await;
    assert_eq!(s, 200);
    assert_eq!(c["title"], "ПК");
    assert!(c["phases"].as_array().is_none_or(Vec::is_empty), "{c}");
    assert!(c["criteria"].as_array().is_none_or(Vec::is_empty), "{c}");
    p.stop().await;
}

async fn login_pair(p: &Platform, login: &str, password: &str) -> (u16, Value) {
    call(
        p,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"login": login, "password": password})),
    )
    .await
}

async fn refresh(p: &Platform, token: &Value) -> (u16, Value) {
    call(
        p,
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": token})),
    )
    .await
}

/// The platform with room for the many sign-ins of one login these tests make.
async fn platform() -> Platform {
    Platform::start_with(true, |s| s.gateway.login_attempts_per_minute = 100)
        .await
        .unwrap()
}

#[tokio::test]
async fn operators_list_deactivate_reset_and_revoke_and_the_admin_reads_the_trail() {
    let p = platform().await;
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let w = build_world(&p, &admin, "AC4").await;
    let (_, municipal) = staff(
        &p,
        &admin,
        "municipal",
        "municipal_operator",
        &w.municipalities[0],
    )
    .await;
    let clerk = new_user(&p, &municipal, "school.clerk").await;
    let (s, u) = grant(&p, &municipal, &clerk, "org_operator", &w.orgs[0]).await;
    assert_eq!(s, 200);
    let grant_id = u["grants"][0]["id"].as_str().unwrap().to_owned();
    let (_, other) = staff(&p, &admin, "far.clerk", "org_operator", &w.orgs[2]).await;
    drop(other);

    // The municipal operator lists the accounts of their scope only.
    let (s, list) = call(&p, Method::GET, "/api/v1/users", Some(&municipal), None).await;
    assert_eq!(s, 200, "{list}");
    let logins: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["login"].as_str().unwrap())
        .collect();
    assert_eq!(logins, ["municipal", "school.clerk"], "{list}");
    let (_, list) = call(
        &p,
        Method::GET,
        "/api/v1/users?login=CLERK&role=org_operator",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(list["total"], 2, "{list}");
    let (_, list) = call(
        &p,
        Method::GET,
        &format!("/api/v1/users?organization_id={}", w.orgs[0]),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(list["items"][0]["login"], "school.clerk", "{list}");
    assert_eq!(list["total"], 1);
    let (s, _) = call(
        &p,
        Method::GET,
        "/api/v1/users?status=gone",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(s, 422);

    // Deactivation needs a reason and ends the sessions at once.
    let clerk_token = p.login("school.clerk", PASSWORD).await.unwrap();
    let (_, pair) = login_pair(&p, "school.clerk", PASSWORD).await;
    let path = format!("/api/v1/users/{clerk}/deactivate");
    let (s, body) = call(&p, Method::POST, &path, Some(&municipal), Some(json!({}))).await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "reason");
    let (s, u) = call(
        &p,
        Method::POST,
        &path,
        Some(&municipal),
        Some(json!({"reason": "уволена"})),
    )
    .await;
    assert_eq!(s, 200, "{u}");
    assert_eq!(u["active"], false);
    let (s, _) = call(&p, Method::GET, "/api/v1/me", Some(&clerk_token), None).await;
    assert_eq!(
        s, 401,
        "the token of a deactivated account stops working at once"
    );
    let (s, body) = login_pair(&p, "school.clerk", PASSWORD).await;
    assert_eq!(s, 401);
    assert_eq!(body["reason"], "account_disabled");
    let (s, _) = refresh(&p, &pair["refresh_token"]).await;
    assert_eq!(s, 401);
    let (_, list) = call(
        &p,
        Method::GET,
        "/api/v1/users?status=inactive",
        Some(&municipal),
        None,
    )
    .await;
    assert_eq!(list["items"][0]["login"], "school.clerk");
    // One cannot deactivate oneself, nor an account outside one's scope.
    let (_, me) = call(&p, Method::GET, "/api/v1/me", Some(&municipal), None).await;
    let me = me["user"]["id"].as_str().unwrap().to_owned();
    let (s, _) = call(
        &p,
        Method::POST,
        &format!("/api/v1/users/{me}/deactivate"),
        Some(&municipal),
        Some(json!({"reason": "x"})),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = call(
        &p,
        Method::POST,
        &format!("/api/v1/users/{clerk}/reactivate"),
        Some(&municipal),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let clerk_token = p.login("school.clerk", PASSWORD).await.unwrap();

    // Revoking the grant: the old token (which carries it) stops working;
    // a new sign-in has no roles left.
    let (s, u) = call(
        &p,
        Method::DELETE,
        &format!("/api/v1/users/{clerk}/roles/{grant_id}"),
        Some(&municipal),
        None,
    )
    .await;
    assert_eq!(s, 200, "{u}");
    assert_eq!(u["grants"].as_array().map(Vec::len), Some(0));
    let (s, _) = call(&p, Method::GET, "/api/v1/me", Some(&clerk_token), None).await;
    assert_eq!(s, 401);
    let clerk_token = p.login("school.clerk", PASSWORD).await.unwrap();
    let (s, me) = call(&p, Method::GET, "/api/v1/me", Some(&clerk_token), None).await;
    assert_eq!(s, 200);
    assert_eq!(me["user"]["grants"].as_array().map(Vec::len), Some(0));

    // A reset gives a one-time password that only sets a new one.
    let (s, reset) = call(
        &p,
        Method::POST,
        &format!("/api/v1/users/{clerk}/password-reset"),
        Some(&municipal),
        None,
    )
    .await;
    assert_eq!(s, 200, "{reset}");
    let otp = reset["one_time_password"].as_str().unwrap().to_owned();
    let (s, _) = call(&p, Method::GET, "/api/v1/me", Some(&clerk_token), None).await;
    assert_eq!(s, 401);
    let (s, _) = login_pair(&p, "school.clerk", PASSWORD).await;
    assert_eq!(s, 401, "the old password is gone");
    let (s, body) = login_pair(&p, "school.clerk", &otp).await;
    assert_eq!(s, 403, "{body}");
    assert_eq!(body["reason"], "password_change_required");
    let (s, body) = call(
        &p,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"login": "school.clerk", "password": otp, "new_password": "short"})),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    let (s, body) = call(
        &p,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(
            json!({"login": "school.clerk", "password": otp, "new_password": "my-own-password-1"}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = login_pair(&p, "school.clerk", &otp).await;
    assert_eq!(s, 401, "a one-time password works once");
    p.login("school.clerk", "my-own-password-1").await.unwrap();

    // Each change is an event and a line of the audit trail, for the admin only.
    assert_eq!(count_events(&p, "user_deactivated", 1).await, 1);
    assert_eq!(count_events(&p, "user_reactivated", 1).await, 1);
    assert_eq!(count_events(&p, "role_revoked", 1).await, 1);
    assert_eq!(count_events(&p, "password_reset", 1).await, 1);
    assert!(count_events(&p, "sessions_revoked", 3).await >= 3);
    let (s, trail) = call(
        &p,
        Method::GET,
        &format!("/api/v1/audit?user_id={clerk}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(s, 200, "{trail}");
    let actions: Vec<&str> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "password_changed",
            "password_reset",
            "role_revoked",
            "user_reactivated",
            "user_deactivated",
            "role_granted",
            "user_created"
        ],
        "{trail}"
    );
    assert!(
        trail["items"][4]["details"]
            .as_str()
            .unwrap()
            .contains("уволена")
    );
    let (s, _) = call(&p, Method::GET, "/api/v1/audit", Some(&municipal), None).await;
    assert_eq!(s, 403);

    // A role filter matches only grants the caller sees: a school's clerk
    // who also sits on the region's council is not a council member in the
    // municipality's list, though the clerk is in it.
    let (member, _) = staff(&p, &admin, "council.clerk", "org_operator", &w.orgs[0]).await;
    let (s, body) = grant(&p, &admin, &member, "council_member", &w.region).await;
    assert_eq!(s, 200, "{body}");
    let listed = |caller: &str, role: &str| {
        let (p, caller, path) = (&p, caller.to_owned(), format!("/api/v1/users?role={role}"));
        async move {
            let (s, list) = call(p, Method::GET, &path, Some(&caller), None).await;
            assert_eq!(s, 200, "{list}");
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["login"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let clerk = "council.clerk".to_owned();
    assert!(!listed(&municipal, "council_member").await.contains(&clerk));
    assert!(listed(&municipal, "org_operator").await.contains(&clerk));
    assert!(listed(&admin, "council_member").await.contains(&clerk));
    p.stop().await;
}

#[tokio::test]
async fn passwords_logout_and_refresh_token_reuse() {
    let p = platform().await;
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let user = new_user(&p, &admin, "someone").await;
    let (s, first) = login_pair(&p, "someone", PASSWORD).await;
    assert_eq!(s, 200);

    // Rotation: each refresh token works once; presenting a used one ends
    // the whole family, so the thief's newer token dies too.
    let (s, second) = refresh(&p, &first["refresh_token"]).await;
    assert_eq!(s, 200, "{second}");
    let (s, _) = refresh(&p, &first["refresh_token"]).await;
    assert_eq!(s, 401);
    let (s, _) = refresh(&p, &second["refresh_token"]).await;
    assert_eq!(s, 401, "the family was revoked on reuse");
    let (_, trail) = call(
        &p,
        Method::GET,
        &format!("/api/v1/audit?user_id={user}&action=refresh_reuse_detected"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(trail["total"], 1, "{trail}");

    // Logout revokes the refresh token; twice is fine.
    let (_, pair) = login_pair(&p, "someone", PASSWORD).await;
    for _ in 0..2 {
        let r = p
            .http
            .post(p.url("/api/v1/auth/logout"))
            .json(&json!({"refresh_token": pair["refresh_token"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }
    let (s, _) = refresh(&p, &pair["refresh_token"]).await;
    assert_eq!(s, 401);

    // Changing one's password: the wrong current one is a 422 naming it;
    // afterwards other sessions end and the answer is a working new pair.
    let (_, other_session) = login_pair(&p, "someone", PASSWORD).await;
    let (_, this) = login_pair(&p, "someone", PASSWORD).await;
    let token = this["access_token"].as_str().unwrap();
    let (s, body) = call(
        &p,
        Method::POST,
        "/api/v1/auth/password",
        Some(token),
        Some(json!({"current_password": "not-it-at-all", "new_password": "a-new-password-1"})),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(body["errors"][0]["field"], "current_password");
    let (s, fresh) = call(
        &p,
        Method::POST,
        "/api/v1/auth/password",
        Some(token),
        Some(json!({"current_password": PASSWORD, "new_password": "a-new-password-1"})),
    )
    .await;
    assert_eq!(s, 200, "{fresh}");
    let (s, _) = call(
        &p,
        Method::GET,
        "/api/v1/me",
        Some(fresh["access_token"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = refresh(&p, &other_session["refresh_token"]).await;
    assert_eq!(s, 401);
    // The other session's access token dies as soon as the event arrives.
    let old = other_session["access_token"].as_str().unwrap();
    let mut status = 200;
    for _ in 0..100 {
        status = call(&p, Method::GET, "/api/v1/me", Some(old), None).await.0;
        if status == 401 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 401);
    let (s, _) = login_pair(&p, "someone", PASSWORD).await;
    assert_eq!(s, 401);
    p.login("someone", "a-new-password-1").await.unwrap();
    p.stop().await;
}
