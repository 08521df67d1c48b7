use super::*;
use pd_domain::Role;

fn settings() -> AuthSettings {
    let (signing_key, verifying_key) = generate_keypair();
    AuthSettings {
        issuer: "test".into(),
        signing_key,
        verifying_key,
        access_ttl_secs: 60,
        refresh_ttl_secs: 60,
        bootstrap_admin_login: String::new(),
        bootstrap_admin_password: String::new(),
    }
}

fn principal() -> Principal {
    Principal {
        user_id: Uuid::now_v7(),
        login: "admin".into(),
        grants: vec![Grant::new(Role::Admin, None)],
    }
}

#[test]
fn issued_tokens_verify_and_carry_the_grants() {
    let s = settings();
    let token = TokenIssuer::new(&s).unwrap().issue(&principal()).unwrap();
    let p = TokenVerifier::new(&s).unwrap().verify(&token).unwrap();
    assert!(p.is_admin());
}

#[test]
fn expired_tampered_and_foreign_tokens_are_refused() {
    let s = settings();
    let issuer = TokenIssuer::new(&s).unwrap();
    let verifier = TokenVerifier::new(&s).unwrap();
    let expired = issuer.issue_with_ttl(&principal(), -60).unwrap();
    assert!(verifier.verify(&expired).is_err());

    let token = issuer.issue(&principal()).unwrap();
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = B64.encode("{\"sub\":\"x\"}");
    assert!(verifier.verify(&parts.join(".")).is_err());

    let other = TokenIssuer::new(&settings())
        .unwrap()
        .issue(&principal())
        .unwrap();
    assert!(verifier.verify(&other).is_err());
}

#[test]
fn revoked_sessions_refuse_older_tokens_only() {
    let s = settings();
    let issuer = TokenIssuer::new(&s).unwrap();
    let verifier = TokenVerifier::new(&s).unwrap();
    let who = principal();
    let old = issuer.issue(&who).unwrap();
    let other = issuer.issue(&principal()).unwrap();
    // A clone shares the list: the feed updates one, every request sees it.
    verifier
        .clone()
        .revocations()
        .revoke(who.user_id, chrono::Utc::now().timestamp_millis() + 1);
    assert_eq!(
        verifier.verify(&old).unwrap_err().kind,
        pd_domain::ErrorKind::Unauthenticated
    );
    assert!(
        verifier.verify(&other).is_ok(),
        "another user is unaffected"
    );
    std::thread::sleep(std::time::Duration::from_millis(3));
    let fresh = issuer.issue(&who).unwrap();
    assert!(verifier.verify(&fresh).is_ok(), "a new sign-in works");
    verifier.revocations().prune(i64::MAX);
    assert!(verifier.revocations().is_empty());
    assert!(verifier.verify(&old).is_ok());
}
