//! Compiles proto/ with protox (pure Rust), so building needs no `protoc`.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [
        root.join("pd/common/v1/common.proto"),
        root.join("pd/identity/v1/identity.proto"),
        root.join("pd/registry/v1/registry.proto"),
        root.join("pd/surveys/v1/surveys.proto"),
        root.join("pd/monitoring/v1/monitoring.proto"),
        root.join("pd/allocation/v1/allocation.proto"),
        root.join("pd/enrollment/v1/enrollment.proto"),
    ];
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let fds = protox::compile(&files, [&root])?;
    prost_build::Config::new()
        // The same types are the JSON bodies of the HTTP API and appear in
        // its OpenAPI document; absent JSON fields take their proto defaults.
        .message_attribute(
            ".pd",
            "#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)] #[serde(default, deny_unknown_fields)]",
        )
        .compile_fds(fds)?;
    Ok(())
}
