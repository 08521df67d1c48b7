//! Load shedding at the gateway: when every request slot is taken and the
//! queue is full, a request is answered 503 with Retry-After at once; one
//! signed-in client sending too fast gets 429 with Retry-After; both are
//! counted on /metrics, and the platform answers normally again after.

use super::*;
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn a_full_gateway_answers_503_at_once_and_a_hasty_client_429() {
    let p = Platform::start_with(true, |s| {
        s.gateway.max_in_flight = 1;
        s.gateway.max_queued = 0;
        s.gateway.client_requests_per_second = 1;
        s.gateway.client_burst = 3;
    })
    .await
    .unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let other = p.user_token("other", "admin", None).await.unwrap();

    // A client that sends its headers and then nothing of its body holds
    // the only slot.
    let addr = p.url("").trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/regions HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {admin}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n"
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let mut shed = None;
    for _ in 0..100 {
        let started = std::time::Instant::now();
        let r = p
            .http
            .get(p.url("/api/v1/regions"))
            .bearer_auth(&other)
            .send()
            .await
            .unwrap();
        if r.status() == 503 {
            shed = Some((started.elapsed(), r));
            break;
        }
        // The held request has not reached the gateway yet.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (took, r) = shed.expect("a 503 while the slot is held");
    assert!(took < Duration::from_secs(1), "at once: {took:?}");
    assert_eq!(r.headers()["retry-after"], "1");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "unavailable", "{body}");

    // The held request completes; the gateway serves again.
    slow.write_all(b"{}").await.unwrap();
    let mut ok = false;
    for _ in 0..100 {
        let (s, _) = call(&p, Method::GET, "/api/v1/regions", Some(&admin), None).await;
        if s == 200 {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "served again once the slot is free");

    // A burst of one client's requests beyond its share: 429 with Retry-After.
    let mut limited = None;
    for _ in 0..8 {
        let r = p
            .http
            .get(p.url("/api/v1/regions"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("a 429 within the burst");
    assert_eq!(r.headers()["retry-after"], "1");
    // The platform runs in this process: its metrics are this page.
    let metrics = pd_runtime::metrics::render();
    assert!(
        metrics.contains("pd_requests_shed_total{at=\"gateway\",reason=\"full\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("pd_requests_shed_total{at=\"gateway\",reason=\"client\"}"),
        "{metrics}"
    );
    p.stop().await;
}

/// The seats-left reads that program screens poll give way: with three
/// of the gateway's four slots taken they are refused at once (Retry-After
/// 5 s), while a request of any other kind still gets the last slot.
#[tokio::test]
async fn polled_seat_reads_leave_the_last_slots_to_other_requests() {
    let p = Platform::start_with(true, |s| {
        s.gateway.max_in_flight = 4;
        s.gateway.max_queued = 4;
    })
    .await
    .unwrap();
    let admin = p.user_token("root", "admin", None).await.unwrap();
    let addr = p.url("").trim_start_matches("http://").to_owned();
    // Three clients send their headers and nothing of their bodies: each
    // holds a slot.
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /api/v1/regions HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {admin}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n"
        );
        slow.write_all(head.as_bytes()).await.unwrap();
        held.push(slow);
    }
    let poll = format!("/api/v1/groups/{}/availability", uuid::Uuid::now_v7());
    let mut refused = None;
    for _ in 0..100 {
        let r = p
            .http
            .get(p.url(&poll))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        if r.status() == 503 {
            refused = Some(r);
            break;
        }
        // Not all three held slots have reached the gateway yet (the read
        // itself was let in: an unknown group is a 404).
        assert_eq!(r.status(), 404);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let r = refused.expect("a 503 for the poll once three slots are held");
    assert_eq!(r.headers()["retry-after"], "5");
    // Any other request takes the fourth slot.
    let (s, body) = call(&p, Method::GET, "/api/v1/regions", Some(&admin), None).await;
    assert_eq!(s, 200, "{body}");
    assert!(
        pd_runtime::metrics::render()
            .contains("pd_requests_shed_total{at=\"gateway\",reason=\"background\"}"),
        "the refused poll is counted"
    );
    for mut slow in held {
        slow.write_all(b"{}").await.unwrap();
    }
    p.stop().await;
}
