use super::*;
use pd_domain::Role;

fn settings() -> AuthSettings {
    let (signing_key, verifying_key) = generate_keypair();
    AuthSettings {
        issuer: "test".into(),
        audience: "pd-api".into(),
        signing_key,
        verifying_key,
        verifying_keys: vec![],
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

#[test]
fn tokens_name_their_key_and_audience() {
    let s = settings();
    let token = TokenIssuer::new(&s).unwrap().issue(&principal()).unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    let public = B64.decode(&s.verifying_key).unwrap();
    assert_eq!(header.kid.as_deref(), Some(key_id(&public).as_str()));
    // A token for another audience (same key) is refused.
    let mut other = s.clone();
    other.audience = "another-system".into();
    let foreign = TokenIssuer::new(&other)
        .unwrap()
        .issue(&principal())
        .unwrap();
    assert!(TokenVerifier::new(&s).unwrap().verify(&foreign).is_err());
}

#[test]
fn keys_rotate_without_refusing_tokens_in_flight() {
    let old = settings();
    let (new_signing, new_public) = generate_keypair();
    // Step 1: every verifier learns the new public key beside the old one.
    let mut verifier_settings = old.clone();
    verifier_settings.verifying_keys = vec![new_public.clone()];
    let verifier = TokenVerifier::new(&verifier_settings).unwrap();
    let before = TokenIssuer::new(&old).unwrap().issue(&principal()).unwrap();
    // Step 2: identity signs with the new key; the old one stays accepted.
    let mut rotated = old.clone();
    rotated.signing_key = new_signing;
    rotated.verifying_key = new_public;
    rotated.verifying_keys = vec![old.verifying_key.clone()];
    let after = TokenIssuer::new(&rotated)
        .unwrap()
        .issue(&principal())
        .unwrap();
    assert!(verifier.verify(&before).is_ok());
    assert!(verifier.verify(&after).is_ok());
    let rotated_verifier = TokenVerifier::new(&rotated).unwrap();
    assert!(rotated_verifier.verify(&before).is_ok());
    // Step 3: once the old key is dropped, its tokens are refused.
    rotated.verifying_keys.clear();
    let final_verifier = TokenVerifier::new(&rotated).unwrap();
    assert!(final_verifier.verify(&after).is_ok());
    assert!(final_verifier.verify(&before).is_err());
    // A token without a key id (or with an unknown one) is refused.
    assert!(TokenVerifier::new(&old).unwrap().verify(&after).is_err());
}

#[test]
fn a_token_seen_before_is_still_refused_once_expired() {
    let s = settings();
    let token = TokenIssuer::new(&s).unwrap().issue(&principal()).unwrap();
    let verifier = TokenVerifier::new(&s).unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(verifier.verify_at(&token, now).is_ok());
    assert_eq!(verifier.verified.len(), 1, "remembered after its first use");
    // The remembered token, past its lifetime (60 s) and the leeway.
    assert!(verifier.verify_at(&token, now + 30).is_ok());
    let late = verifier.verify_at(&token, now + 60 + LEEWAY_SECS + 2);
    assert_eq!(late.unwrap_err().detail, msg::EXPIRED);
}

#[test]
fn a_token_seen_before_is_refused_after_its_session_is_revoked() {
    let s = settings();
    let who = principal();
    let token = TokenIssuer::new(&s).unwrap().issue(&who).unwrap();
    let verifier = TokenVerifier::new(&s).unwrap();
    assert!(verifier.verify(&token).is_ok());
    verifier
        .revocations()
        .revoke(who.user_id, chrono::Utc::now().timestamp_millis() + 1);
    assert_eq!(verifier.verify(&token).unwrap_err().detail, msg::REVOKED);
}

#[test]
fn a_tampered_copy_of_a_remembered_token_is_refused() {
    let s = settings();
    let token = TokenIssuer::new(&s).unwrap().issue(&principal()).unwrap();
    let verifier = TokenVerifier::new(&s).unwrap();
    assert!(verifier.verify(&token).is_ok());
    // The same signature over other claims (an admin's grants).
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged = B64
        .encode(r#"{"sub":"00000000-0000-0000-0000-000000000001","login":"x","grants":[],"iat":1,"exp":99999999999,"iss":"test","aud":"pd-api","jti":"00000000-0000-0000-0000-000000000002"}"#)
        .trim_end_matches('=')
        .to_owned();
    parts[1] = &forged;
    assert!(verifier.verify(&parts.join(".")).is_err());
    assert!(verifier.verify(&token).is_ok(), "the real one still works");
}

#[test]
fn remembered_tokens_are_bounded_and_those_in_use_stay() {
    let cache = verified::Verified::new(2);
    let checked = || {
        Arc::new(verified::Checked {
            principal: principal(),
            expires: 0,
            issued_ms: 0,
        })
    };
    let [a, b, c, d] = ["a", "b", "c", "d"].map(verified::key);
    cache.insert(a, checked());
    cache.insert(b, checked());
    cache.insert(c, checked()); // a and b become the previous generation
    assert!(cache.get(&a).is_some(), "a moves back to the current one");
    cache.insert(d, checked()); // current {c, a} full: it becomes the previous
    assert!(cache.get(&b).is_none(), "b, unused, is dropped");
    assert!(cache.get(&a).is_some() && cache.get(&c).is_some());
    assert!(cache.len() <= 4);
}
