//! The OpenAPI document and the docs page.

use super::*;

#[tokio::test]
async fn openapi_lists_every_route_and_docs_page_is_served() {
    let p = Platform::start_gateway_only().await.unwrap();
    let (s, doc) = call(&p, Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(s, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    // The document is generated from the gateway's router itself, so
    // every route is in it without a list to keep here; what is checked is
    // that each operation is documented for a reader.
    assert!(paths.len() > 50, "{} paths", paths.len());
    for (path, item) in paths {
        assert!(path.starts_with("/api/v1/"), "{path}");
        for (method, op) in item.as_object().unwrap() {
            let summary = op["summary"].as_str().unwrap_or("");
            assert!(!summary.is_empty(), "{method} {path}: no summary");
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path}: no tag"
            );
            assert!(
                op["responses"]
                    .as_object()
                    .is_some_and(|r| r.keys().any(|k| k.starts_with('2'))),
                "{method} {path}: no success answer"
            );
        }
    }
    assert!(paths["/api/v1/auth/login"].get("post").is_some());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let r = p.http.get(p.url("/api/v1/docs")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap().to_lowercase();
    assert!(page.contains("swagger"), "{page}");
    // The page's scripts are served from the binary (no internet needed)
    // and point at the document.
    for asset in ["swagger-ui-bundle.js", "swagger-ui.css"] {
        let r = p
            .http
            .get(p.url(&format!("/api/v1/docs/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{asset}");
    }
    let init = p
        .http
        .get(p.url("/api/v1/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api/v1/openapi.json"), "{init}");
    p.stop().await;
}

/// The document passes a real OpenAPI validator (openapi-spec-validator,
/// installed by `deploy/local/test.sh`, which names it in
/// `PD_OPENAPI_VALIDATOR`), and says what the plumbing answers.
#[tokio::test]
async fn openapi_document_is_valid_and_declares_every_problem() {
    let p = Platform::start_gateway_only().await.unwrap();
    let (s, doc) = call(&p, Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(s, 200);
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            if secured {
                assert!(responses.contains_key("401"), "{method} {path}: no 401");
                assert!(responses.contains_key("403"), "{method} {path}: no 403");
            }
            if responses.contains_key("201") {
                let header = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["in"] == "header" && p["name"] == "Idempotency-Key");
                assert!(header, "{method} {path}: creates without Idempotency-Key");
            }
            if op.get("requestBody").is_some() {
                for status in ["400", "413", "422"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path}: no {status}"
                    );
                }
            }
            if path.contains('{') {
                assert!(responses.contains_key("404"), "{method} {path}: no 404");
            }
            for (status, r) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        r["content"].get("application/json").is_none(),
                        "{method} {path} {status}: problems are application/problem+json"
                    );
                }
            }
            // Parameters in the path are exactly the template's.
            for param in op["parameters"].as_array().into_iter().flatten() {
                if param["in"] == "path" {
                    let name = param["name"].as_str().unwrap();
                    assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: {name} in path"
                    );
                }
            }
        }
    }
    // The services' rules are in the schemas: required fields, allowed
    // values, lengths.
    let schemas = &doc["components"]["schemas"];
    let region = &schemas["CreateRegionRequest"];
    assert!(
        region["required"]
            .as_array()
            .unwrap()
            .contains(&json!("pd_model")),
        "{region}"
    );
    assert_eq!(region["properties"]["pd_model"]["enum"][1], "voucher_hours");
    assert_eq!(
        schemas["CreateEducatorRequest"]["properties"]["last_name"]["maxLength"],
        100
    );
    // As long as the service accepts (a fuzzer found 300 declared, 500 taken).
    assert_eq!(
        schemas["Organization"]["properties"]["name"]["maxLength"],
        500
    );
    assert_eq!(
        schemas["CreateOrganizationRequest"]["properties"]["name"]["maxLength"],
        500
    );
    match std::env::var("PD_OPENAPI_VALIDATOR") {
        Ok(validator) if !validator.is_empty() => {
            let file =
                std::env::temp_dir().join(format!("pd-openapi-{}.json", uuid::Uuid::now_v7()));
            std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
            let out = std::process::Command::new(&validator)
                .arg(&file)
                .output()
                .expect("running the OpenAPI validator");
            let _ = std::fs::remove_file(&file);
            assert!(
                out.status.success(),
                "openapi-spec-validator: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        _ => eprintln!(
            "PD_OPENAPI_VALIDATOR is not set: the document was not run through a validator (deploy/local/test.sh sets it)"
        ),
    }
    p.stop().await;
}
