//! Who the client is behind a proxy, and which tokens are accepted.

use super::*;

/// Failed sign-ins of distinct logins from `forwarded` (as X-Forwarded-For).
async fn failed_logins(p: &Platform, forwarded: &str, logins: std::ops::Range<u32>) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in logins {
        let r = p
            .http
            .post(p.url("/api/v1/auth/login"))
            .header("X-Forwarded-For", forwarded)
            .json(&json!({"login": format!("nobody-{i}"), "password": "guess-guess"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn clients_behind_a_trusted_proxy_are_limited_one_by_one() {
    // One sign-in per login a minute, so ten per client address.
    let behind_ingress = Platform::start_with(true, |s| {
        s.gateway.login_attempts_per_minute = 1;
        s.gateway.trusted_proxies = vec!["127.0.0.0/8".into()];
    })
    .await
    .unwrap();
    let first = failed_logins(&behind_ingress, "203.0.113.7", 0..11).await;
    assert_eq!(first[..10], [401; 10]);
    assert_eq!(first[10], 429, "the first client is limited");
    // Another client of the same ingress is not.
    let second = failed_logins(&behind_ingress, "198.51.100.1, 127.0.0.1", 11..12).await;
    assert_eq!(second, vec![401]);
    // A proxy that adds its own header line: the client's forged first line
    // does not make it someone else.
    let mut statuses = Vec::new();
    for i in 0..11u32 {
        let r = behind_ingress
            .http
            .post(behind_ingress.url("/api/v1/auth/login"))
            .header("X-Forwarded-For", format!("192.0.2.{i}"))
            .header("X-Forwarded-For", "198.51.100.77")
            .json(&json!({"login": format!("other-{i}"), "password": "guess-guess"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses[10], 429, "{statuses:?}");
    behind_ingress.stop().await;

    // Without a trusted proxy the header is anyone's to write: ignored.
    let direct = Platform::start_with(true, |s| s.gateway.login_attempts_per_minute = 1)
        .await
        .unwrap();
    let spoofed: Vec<u16> = forged_addresses(&direct).await;
    assert_eq!(
        spoofed[10], 429,
        "a forged X-Forwarded-For escaped the limit"
    );
    direct.stop().await;
}

/// Eleven failed sign-ins, each claiming another client address.
async fn forged_addresses(p: &Platform) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in 0..11u32 {
        let forged = format!("192.0.2.{i}");
        statuses.extend(failed_logins(p, &forged, i..i + 1).await);
    }
    statuses
}

#[tokio::test]
async fn tokens_of_another_audience_or_unknown_key_are_refused_and_keys_rotate() {
    // The platform accepts a second (older) key while keys rotate.
    let (old_signing, old_public) = pd_runtime::tokens::generate_keypair();
    let p = Platform::start_with(true, |s| s.auth.verifying_keys = vec![old_public.clone()])
        .await
        .unwrap();
    let admin = pd_domain::Principal {
        user_id: uuid::Uuid::now_v7(),
        login: "rotating.admin".into(),
        grants: vec![pd_domain::Grant::new(pd_domain::Role::Admin, None)],
    };
    let sign = |signing: &str, audience: &str| {
        let mut auth = p.env.settings.auth.clone();
        auth.signing_key = signing.to_owned();
        auth.audience = audience.to_owned();
        pd_runtime::tokens::TokenIssuer::new(&auth)
            .unwrap()
            .issue(&admin)
            .unwrap()
    };
    let current = p.env.settings.auth.signing_key.clone();
    let (s, _) = call(
        &p,
        Method::GET,
        "/api/v1/regions",
        Some(&sign(&current, "pd-api")),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(
        &p,
        Method::GET,
        "/api/v1/regions",
        Some(&sign(&old_signing, "pd-api")),
        None,
    )
    .await;
    assert_eq!(s, 200, "a token of the key being rotated out is refused");
    let (s, body) = call(
        &p,
        Method::GET,
        "/api/v1/regions",
        Some(&sign(&current, "another-system")),
        None,
    )
    .await;
    assert_eq!(s, 401, "{body}");
    let (stranger, _) = pd_runtime::tokens::generate_keypair();
    let (s, _) = call(
        &p,
        Method::GET,
        "/api/v1/regions",
        Some(&sign(&stranger, "pd-api")),
        None,
    )
    .await;
    assert_eq!(s, 401);
    p.stop().await;
}

/// Every message of a stream, as raw bytes.
async fn stream_messages(p: &Platform, stream: &str) -> (Vec<Vec<u8>>, Duration) {
    let client = async_nats::connect(p.env.settings.nats.url.as_str())
        .await
        .unwrap();
    let js = async_nats::jetstream::new(client);
    let mut s = js.get_stream(stream).await.unwrap();
    let info = s.info().await.unwrap().clone();
    let mut out = Vec::new();
    for seq in info.state.first_sequence..=info.state.last_sequence {
        if let Ok(m) = s.get_raw_message(seq).await {
            out.push(m.payload.to_vec());
        }
    }
    (out, info.config.max_age)
}

#[tokio::test]
async fn identity_events_carry_no_snils_and_streams_expire() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let w = build_world(&p, &admin, "16").await;
    let number = snils(777);
    let (s, body) = call(
        &p,
        Method::POST,
        "/api/v1/educators",
        Some(&admin),
        Some(json!({"snils": number, "last_name": "Петрова", "first_name": "Анна", "position": "учитель", "organization_id": w.orgs[0]})),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    let educator = body["id"].as_str().unwrap().to_owned();
    // One row through the bulk import as well (its events are written apart).
    let csv = format!(
        "snils;last_name;first_name;middle_name;position;subjects;organization_inn;last_pd_completed_on\n{};Сидоров;Пётр;;учитель;;{};\n",
        snils(778),
        w.inns[0]
    );
    let job = import_csv(&p, &admin, "", csv.into_bytes()).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert!(walking_skeleton::count_events(&p, "educator_created", 2).await >= 2);

    let prefix = &p.env.settings.nats.stream_prefix;
    let (messages, max_age) = stream_messages(&p, &format!("{prefix}_IDENTITY")).await;
    let digits: Vec<String> = [snils(777), snils(778)]
        .iter()
        .map(|s| s.chars().filter(char::is_ascii_digit).collect())
        .collect();
    let mut with_educator = 0;
    for m in &messages {
        let text = String::from_utf8_lossy(m);
        with_educator += usize::from(text.contains(&educator));
        for d in &digits {
            assert!(!text.contains(d.as_str()), "a SNILS in an event: {text}");
        }
    }
    assert!(with_educator >= 1, "the educator's own event was not read");
    // Events are kept for a campaign year, dead letters for a month.
    assert_eq!(max_age, Duration::from_secs(400 * 86_400));
    let (_, dlq_age) = stream_messages(&p, &format!("{prefix}_DLQ")).await;
    assert_eq!(dlq_age, Duration::from_secs(30 * 86_400));
    p.stop().await;
}

#[tokio::test]
async fn each_service_signs_in_as_its_own_role_reaching_only_its_database() {
    let env = pd_testkit::TestEnv::new().unwrap();
    let mut settings = env.settings.clone();
    settings.database.service_roles = true;
    settings.database.admin_url = env.settings.database.url.clone();
    // The server URL without the administrator's user.
    settings.database.url = "postgres://127.0.0.1:5432".into();
    for s in ["identity", "registry"] {
        settings
            .database
            .passwords
            .insert(s.into(), format!("secret-of-{s}"));
    }
    // Created by the administrator, then used as the role.
    let identity =
        pd_runtime::db::open_service_db(&settings, "identity", &[&pd_identity::MIGRATOR])
            .await
            .unwrap();
    let registry = pd_runtime::db::open_service_db(&settings, "registry", &pd_registry::MIGRATORS)
        .await
        .unwrap();
    let me: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&identity)
        .await
        .unwrap();
    assert_eq!(me, settings.database_name("identity"));
    let owner: String = sqlx::query_scalar(
        "SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE relname = 'outbox'",
    )
    .fetch_one(&registry)
    .await
    .unwrap();
    assert_eq!(owner, settings.database_name("registry"));
    identity.close().await;
    registry.close().await;

    // Identity's role cannot open registry's database.
    let mut crossing = settings.clone();
    crossing.database.admin_url.clear();
    let registry_db = settings.database_name("registry");
    let identity_role = settings.database_name("identity");
    let opts = <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(
        "postgres://127.0.0.1:5432",
    )
    .unwrap()
    .database(&registry_db)
    .username(&identity_role)
    .password("secret-of-identity");
    let err = <sqlx::PgConnection as sqlx::Connection>::connect_with(&opts)
        .await
        .expect_err("identity's role opened registry's database");
    assert!(err.to_string().contains("permission denied"), "{err}");
    // Without the administrator URL a service uses what exists, as its role.
    let again = pd_runtime::db::open_service_db(&crossing, "identity", &[&pd_identity::MIGRATOR])
        .await
        .unwrap();
    again.close().await;
    env.cleanup().await;
}

#[tokio::test]
async fn the_public_catalog_is_rate_limited_per_client() {
    let p = Platform::start_with(true, |s| s.gateway.public_requests_per_minute = 3)
        .await
        .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let (s, _) = call(&p, Method::GET, "/api/v1/catalog", None, None).await;
        statuses.push(s);
    }
    assert_eq!(statuses, vec![200, 200, 200, 429]);
    p.stop().await;
}

/// A read-model older than a field (here a region's PD model, a council
/// member's login) is brought up to date by republishing identity's
/// snapshots (`pd admin republish identity`).
#[tokio::test]
async fn republished_snapshots_refresh_old_read_models() {
    let p = Platform::start().await.unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let w = build_world(&p, &admin, "77").await;
    let settings = &p.env.settings;
    let registry = pd_runtime::db::pool(
        &settings.database.url,
        &settings.database_name("registry"),
        2,
    )
    .await
    .unwrap();
    let region: uuid::Uuid = w.region.parse().unwrap();
    let model = || async {
        sqlx::query_scalar::<_, String>("SELECT pd_model FROM known_regions WHERE id = $1")
            .bind(region)
            .fetch_optional(&registry)
            .await
            .unwrap()
    };
    for _ in 0..200 {
        if model().await.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(model().await.as_deref(), Some("un_quota"));
    // As a registry that learnt the region before PD models existed.
    sqlx::query("UPDATE known_regions SET pd_model = '' WHERE id = $1")
        .bind(region)
        .execute(&registry)
        .await
        .unwrap();
    // And a council member whose revocation it never applied.
    let stale = uuid::Uuid::now_v7();
    sqlx::query(
        "INSERT INTO known_grants (user_id, role, scope_id, version, active) VALUES ($1, 'council_member', $2, 0, true)",
    )
    .bind(stale)
    .bind(region)
    .execute(&registry)
    .await
    .unwrap();
    let identity = p.identity_db.as_ref().unwrap();
    sqlx::query("INSERT INTO users (id, login, password_hash) VALUES ($1, 'former.member', 'x')")
        .bind(stale)
        .execute(identity)
        .await
        .unwrap();
    let done = pd_identity::republish(identity, &settings.nats.subject_prefix)
        .await
        .unwrap();
    assert!(done.regions >= 1 && done.municipalities >= 2, "{done:?}");
    let mut restored = None;
    for _ in 0..200 {
        restored = model().await;
        if restored.as_deref() == Some("un_quota") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(restored.as_deref(), Some("un_quota"));
    let mut active = true;
    for _ in 0..200 {
        active = sqlx::query_scalar("SELECT active FROM known_grants WHERE user_id = $1")
            .bind(stale)
            .fetch_one(&registry)
            .await
            .unwrap();
        if !active {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(!active, "a grant identity no longer holds stayed active");
    registry.close().await;
    p.stop().await;
}
