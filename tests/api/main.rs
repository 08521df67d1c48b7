//! End-to-end tests through the gateway, one binary (see STACK.md: every
//! test binary links the whole stack).

mod accounts;
mod allocation;
mod bounds;
mod deploy;
mod docs;
mod enrollment;
mod errors;
mod fixtures;
mod imports;
mod monitoring;
mod operators;
mod overload;
mod registry;
mod registry_bounds;
mod registry_rules;
mod security;
mod surveys;
mod walking_skeleton;

use pd_e2e::{Platform, call};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// Region + two municipalities + three organizations, created by `admin`.
pub struct World {
    pub region: String,
    pub municipalities: Vec<String>,
    pub orgs: Vec<String>,
    pub inns: Vec<String>,
}

pub async fn build_world(p: &Platform, admin: &str, code: &str) -> World {
    build_world_with(p, admin, code, "un_quota").await
}

/// [`build_world`] with the region's PD model.
pub async fn build_world_with(p: &Platform, admin: &str, code: &str, model: &str) -> World {
    let (s, region) = call(
        p,
        Method::POST,
        "/api/v1/regions",
        Some(admin),
        Some(json!({"code": code, "name": "Республика Татарстан", "time_zone": "Europe/Moscow", "pd_model": model})),
    )
    .await;
    assert_eq!(s, 201, "{region}");
    assert_eq!(region["pd_interval_years"], 3);
    let region = region["id"].as_str().unwrap().to_owned();
    let mut municipalities = Vec::new();
    for name in ["г. Казань", "г. Набережные Челны"] {
        let (s, m) = call(
            p,
            Method::POST,
            &format!("/api/v1/regions/{region}/municipalities"),
            Some(admin),
            Some(json!({"name": name})),
        )
        .await;
        assert_eq!(s, 201, "{m}");
        municipalities.push(m["id"].as_str().unwrap().to_owned());
    }
    let mut orgs = Vec::new();
    let mut inns = Vec::new();
    for (i, m) in [0usize, 0, 1].iter().enumerate() {
        let inn = pd_domain::Inn::from_body(165_100_000 + i as u32 + rand_offset(code)).unwrap();
        let (s, o) = call(
            p,
            Method::POST,
            "/api/v1/organizations",
            Some(admin),
            Some(json!({"municipality_id": municipalities[*m], "name": format!("Школа № {}", i + 1), "kind": "school", "inn": inn.as_str()})),
        )
        .await;
        assert_eq!(s, 201, "{o}");
        orgs.push(o["id"].as_str().unwrap().to_owned());
        inns.push(inn.as_str().to_owned());
    }
    World {
        region,
        municipalities,
        orgs,
        inns,
    }
}

/// Keeps INNs of parallel tests apart (they live in separate databases
/// anyway; this only makes failures easier to read).
fn rand_offset(code: &str) -> u32 {
    code.bytes().map(u32::from).sum::<u32>() * 10
}

/// Posts a CSV and waits for the import to finish.
pub async fn import_csv(p: &Platform, token: &str, query: &str, body: Vec<u8>) -> Value {
    let r = p
        .http
        .post(p.url(&format!("/api/v1/educators/imports{query}")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let mut job: Value = r.json().await.unwrap();
    for _ in 0..600 {
        if ["completed", "rejected", "failed"].contains(&job["status"].as_str().unwrap_or("")) {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (s, j) = call(p, Method::GET, &location, Some(token), None).await;
        assert_eq!(s, 200, "{j}");
        job = j;
    }
    panic!("import did not finish: {job}");
}

pub fn snils(n: u32) -> String {
    pd_domain::Snils::from_body(200_000_000 + n * 13)
        .unwrap()
        .formatted()
}
