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
