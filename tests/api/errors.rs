//! Bad tokens, bad bodies and unreachable services: always problem+json,
//! never a 500 or a hang.

use super::*;

fn assert_problem(status: u16, body: &Value, want: u16) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["status"], want, "{body}");
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
}

#[tokio::test]
async fn tampered_and_expired_tokens_get_401() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let (s, _) = call(&p, Method::GET, "/api/v1/me", Some(&admin), None).await;
    assert_eq!(s, 200);

    // Change one character of the payload: the signature no longer matches.
    let mut parts: Vec<String> = admin.split('.').map(str::to_owned).collect();
    let mut payload = parts[1].clone().into_bytes();
    payload[5] = if payload[5] == b'A' { b'B' } else { b'A' };
    parts[1] = String::from_utf8(payload).unwrap();
    let (s, body) = call(&p, Method::GET, "/api/v1/me", Some(&parts.join(".")), None).await;
    assert_problem(s, &body, 401);

    // Signed with the right key, but expired.
    let issuer = pd_runtime::tokens::TokenIssuer::new(&p.env.settings.auth).unwrap();
    let principal = pd_domain::Principal {
        user_id: uuid::Uuid::now_v7(),
        login: "root".into(),
        grants: vec![pd_domain::Grant::new(pd_domain::Role::Admin, None)],
    };
    let expired = issuer.issue_with_ttl(&principal, -120).unwrap();
    let (s, body) = call(&p, Method::GET, "/api/v1/regions", Some(&expired), None).await;
    assert_problem(s, &body, 401);

    // Signed by someone else's key.
    let mut other = p.env.settings.auth.clone();
    let (k, _) = pd_runtime::tokens::generate_keypair();
    other.signing_key = k;
    let forged = pd_runtime::tokens::TokenIssuer::new(&other)
        .unwrap()
        .issue(&principal)
        .unwrap();
    let (s, body) = call(&p, Method::GET, "/api/v1/regions", Some(&forged), None).await;
    assert_problem(s, &body, 401);

    // No token at all.
    let (s, body) = call(&p, Method::GET, "/api/v1/educators", None, None).await;
    assert_problem(s, &body, 401);

    // Refresh tokens work once.
    let r: Value = p
        .http
        .post(p.url("/api/v1/auth/login"))
        .json(&json!({"login": "root", "password": "root-password-123"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["token_type"], "Bearer");
    let refresh = r["refresh_token"].as_str().unwrap();
    let (s, pair) = call(
        &p,
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": refresh})),
    )
    .await;
    assert_eq!(s, 200, "{pair}");
    let (s, _) = call(
        &p,
        Method::GET,
        "/api/v1/me",
        Some(pair["access_token"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = call(
        &p,
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": refresh})),
    )
    .await;
    assert_problem(s, &body, 401);
    p.stop().await;
}

#[tokio::test]
async fn malformed_bodies_get_400_or_422_problems_naming_the_field() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let post = |body: &'static str, ct: &'static str| {
        p.http
            .post(p.url("/api/v1/regions"))
            .bearer_auth(&admin)
            .header("content-type", ct)
            .body(body)
            .send()
    };
    // Broken JSON: 400.
    let r = post("{\"code\": ", "application/json").await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert!(r.headers().contains_key("x-request-id"));
    // A field of the wrong type: 422 naming it.
    let r = post("{\"code\": 16, \"name\": \"X\"}", "application/json")
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "code");
    // Not JSON at all.
    let r = post("code=16", "application/x-www-form-urlencoded")
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // Invalid values: 422 naming every field.
    let (s, body) = call(&p, Method::POST, "/api/v1/regions", Some(&admin), Some(json!({"code": "", "name": "", "time_zone": "Moscow", "pd_model": "quota", "pd_interval_years": 0}))).await;
    assert_problem(s, &body, 422);
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        vec!["code", "name", "pd_interval_years", "pd_model", "time_zone"]
    );

    let w = build_world(&p, &admin, "E1").await;
    let (s, body) = call(&p, Method::POST, "/api/v1/organizations", Some(&admin), Some(json!({"municipality_id": w.municipalities[0], "name": "Школа", "kind": "school", "inn": "7707083894"}))).await;
    assert_problem(s, &body, 422);
    assert_eq!(body["errors"][0]["field"], "inn");
    let (s, body) = call(&p, Method::POST, "/api/v1/educators", Some(&admin), Some(json!({"snils": "123", "last_name": "X", "first_name": "Y", "position": "учитель", "organization_id": "not-a-uuid"}))).await;
    assert_problem(s, &body, 422);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["snils", "organization_id"]);

    // Unknown ids and routes: 404 problems.
    let (s, body) = call(
        &p,
        Method::GET,
        "/api/v1/educators/not-an-id",
        Some(&admin),
        None,
    )
    .await;
    assert_problem(s, &body, 404);
    let (s, body) = call(&p, Method::GET, "/api/v1/nothing-here", Some(&admin), None).await;
    assert_problem(s, &body, 404);
    let (s, body) = call(&p, Method::DELETE, "/api/v1/regions", Some(&admin), None).await;
    assert_problem(s, &body, 405);
    // A municipality of an unknown region: the region is not found.
    let unknown = uuid::Uuid::now_v7();
    let (s, body) = call(
        &p,
        Method::POST,
        &format!("/api/v1/regions/{unknown}/municipalities"),
        Some(&admin),
        Some(json!({"name": "X"})),
    )
    .await;
    assert_problem(s, &body, 404);
    // A body over the limit: 413.
    let big = "x".repeat(p.env.settings.gateway.body_limit_bytes + 10);
    let r = p
        .http
        .post(p.url("/api/v1/regions"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    p.stop().await;
}

#[tokio::test]
async fn a_service_that_is_down_gives_503_at_once() {
    let p = Platform::start_gateway_only().await.unwrap();
    let issuer = pd_runtime::tokens::TokenIssuer::new(&p.env.settings.auth).unwrap();
    let principal = pd_domain::Principal {
        user_id: uuid::Uuid::now_v7(),
        login: "root".into(),
        grants: vec![pd_domain::Grant::new(pd_domain::Role::Admin, None)],
    };
    let token = issuer.issue(&principal).unwrap();
    let started = std::time::Instant::now();
    let (s, body) = call(&p, Method::GET, "/api/v1/regions", Some(&token), None).await;
    assert_problem(s, &body, 503);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    let (s, body) = call(
        &p,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"login": "a", "password": "b"})),
    )
    .await;
    assert_problem(s, &body, 503);
    p.stop().await;
}

#[tokio::test]
async fn login_attempts_are_rate_limited() {
    let p = Platform::start_with(true, |s| s.gateway.login_attempts_per_minute = 3)
        .await
        .unwrap();
    p.user_token("root", "admin", None).await.unwrap();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let (s, _) = call(
            &p,
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"login": "victim", "password": "guess-guess"})),
        )
        .await;
        statuses.push(s);
    }
    assert_eq!(statuses, vec![401, 401, 401, 429]);
    p.stop().await;
}

#[tokio::test]
async fn the_first_admin_comes_from_the_bootstrap_secret() {
    let p = Platform::start_with(true, |s| {
        s.auth.bootstrap_admin_login = "first.admin".into();
        s.auth.bootstrap_admin_password = "a-long-bootstrap-secret".into();
    })
    .await
    .unwrap();
    let token = p
        .login("first.admin", "a-long-bootstrap-secret")
        .await
        .unwrap();
    let (s, me) = call(&p, Method::GET, "/api/v1/me", Some(&token), None).await;
    assert_eq!(s, 200);
    assert_eq!(me["user"]["grants"][0]["role"], "admin");
    p.stop().await;
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let p = Platform::start_with(false, |s| {
        s.gateway.cors_origins = vec!["https://pd.example.ru".into()];
    })
    .await
    .unwrap();
    let preflight = |origin: &'static str| {
        p.http
            .request(Method::OPTIONS, p.url("/api/v1/regions"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let allowed = preflight("https://pd.example.ru").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://pd.example.ru"
    );
    let other = preflight("https://evil.example.com").await.unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
    p.stop().await;
}
