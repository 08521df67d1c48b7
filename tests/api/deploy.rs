//! The multi-host deployments (deploy/compose, deploy/k8s) against the
//! code they run: every service is deployed with `pd serve <its name>`, its
//! probes reach its admin port, every `PD__…` variable they set is a key of
//! the configuration, each service is given only its own secrets, and every
//! secret they name is one `secrets.env.example` lists and
//! `deploy/compose/secrets.sh` writes. No Docker engine or cluster runs
//! here, so this is what keeps the files true when a service, a port or a
//! key changes.

use std::collections::BTreeSet;

fn read(path: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    std::fs::read_to_string(format!("{root}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const K8S: [&str; 4] = [
    "deploy/k8s/services.yaml",
    "deploy/k8s/gateway.yaml",
    "deploy/k8s/migrate.yaml",
    "deploy/k8s/autoscaling.yaml",
];

/// `section.key` of every key deploy/config/default.toml documents.
fn config_keys() -> BTreeSet<String> {
    let (mut keys, mut section) = (BTreeSet::new(), String::new());
    for line in read("deploy/config/default.toml").lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
        } else if let Some((key, _)) = line.split_once('=')
            && !line.starts_with('#')
        {
            keys.insert(format!("{section}.{}", key.trim()));
        }
    }
    keys
}

/// Every `PD__SECTION__KEY…` named in `text`.
fn variables(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("PD__") {
        let name: String = text[i..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        out.insert(name);
    }
    out
}

/// The YAML documents of `text` that are Deployments, by their name.
fn deployments(text: &str) -> Vec<(String, String)> {
    text.split("\n---\n")
        .filter(|d| d.contains("\nkind: Deployment\n"))
        .map(|d| {
            let name = d
                .split("\nmetadata:\n  name: ")
                .nth(1)
                .and_then(|r| r.lines().next())
                .unwrap_or_default();
            (name.to_owned(), d.to_owned())
        })
        .collect()
}

fn with_database() -> Vec<&'static str> {
    pd::SERVICES
        .iter()
        .filter(|d| d.has_database())
        .map(|d| d.name)
        .collect()
}

#[test]
fn every_service_is_deployed_on_its_ports_with_real_keys() {
    let base = pd_runtime::Settings::defaults().unwrap().admin.base_port;
    let k8s: Vec<(String, String)> = K8S.iter().flat_map(|f| deployments(&read(f))).collect();
    let compose = read("deploy/compose/compose.yaml");
    for def in pd::SERVICES {
        let serve = format!("[\"serve\", \"{}\"]", def.name);
        assert!(
            compose.contains(&format!("command: {serve}")),
            "compose: {}",
            def.name
        );
        let (_, d) = k8s
            .iter()
            .find(|(name, _)| name == def.name)
            .unwrap_or_else(|| panic!("k8s: no Deployment {}", def.name));
        assert!(d.contains(&format!("args: {serve}")), "k8s: {}", def.name);
        let port = base + def.admin_offset;
        assert!(
            d.contains(&format!("{{name: admin, containerPort: {port}}}")),
            "k8s: {} probes port {port}",
            def.name
        );
        assert!(d.contains("path: /readyz, port: admin"), "{}", def.name);
    }
    assert_eq!(k8s.len(), pd::SERVICES.len(), "one Deployment per service");

    let keys = config_keys();
    let services = with_database();
    let mut files = K8S.map(read).to_vec();
    files.push(compose);
    files.push(read("deploy/Dockerfile"));
    files.push(read("deploy/k8s/kustomization.yaml"));
    for v in files.iter().flat_map(|f| variables(f)) {
        let parts: Vec<String> = v[4..].split("__").map(str::to_lowercase).collect();
        match parts.as_slice() {
            [section, map, service] if section == "database" && map == "passwords" => {
                assert!(services.contains(&service.as_str()), "{v}: no such service")
            }
            [section, key] => assert!(
                keys.contains(&format!("{section}.{key}")),
                "{v}: no such key"
            ),
            _ => panic!("{v}: not PD__SECTION__KEY"),
        }
    }
}

#[test]
fn each_service_gets_only_its_own_secrets() {
    let services = with_database();
    let k8s: Vec<(String, String)> = K8S.iter().flat_map(|f| deployments(&read(f))).collect();
    for (name, d) in &k8s {
        let vars = variables(d);
        let own = format!("PD__DATABASE__PASSWORDS__{}", name.to_uppercase());
        let passwords: Vec<&String> = vars.iter().filter(|v| v.contains("PASSWORDS")).collect();
        match services.contains(&name.as_str()) {
            true => assert_eq!(passwords, [&own], "{name}"),
            false => assert!(passwords.is_empty(), "{name}: {passwords:?}"),
        }
        assert_eq!(
            vars.contains("PD__AUTH__SIGNING_KEY"),
            name == "identity",
            "{name}: only identity signs tokens"
        );
        assert!(!vars.contains("PD__DATABASE__ADMIN_URL"), "{name}");
    }
    // The migration creates every role, with every password.
    let migrate = variables(&read("deploy/k8s/migrate.yaml"));
    for s in &services {
        let v = format!("PD__DATABASE__PASSWORDS__{}", s.to_uppercase());
        assert!(migrate.contains(&v), "migrate: {v}");
    }
}

/// The lines of compose.yaml's service `name`: from its key (indented by
/// two spaces) to the next key at that indentation or less.
fn compose_service(compose: &str, name: &str) -> String {
    let key = format!("  {name}:");
    let mut lines = compose.lines().skip_while(|l| *l != key);
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("compose: no service {name}"));
    let rest = lines.take_while(|l| l.is_empty() || l.starts_with("   ") || l.starts_with("  #"));
    std::iter::once(first)
        .chain(rest)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn compose_gives_each_service_only_its_own_secrets_and_names_only_known_ones() {
    let compose = read("deploy/compose/compose.yaml");
    let services = with_database();
    for def in pd::SERVICES {
        let block = compose_service(&compose, def.name);
        let vars = variables(&block);
        let passwords: Vec<&String> = vars.iter().filter(|v| v.contains("PASSWORDS")).collect();
        let own = format!("PD__DATABASE__PASSWORDS__{}", def.name.to_uppercase());
        match services.contains(&def.name) {
            true => assert_eq!(passwords, [&own], "{}", def.name),
            false => assert!(passwords.is_empty(), "{}: {passwords:?}", def.name),
        }
        assert_eq!(
            vars.contains("PD__AUTH__SIGNING_KEY"),
            def.name == "identity",
            "{}: only identity signs tokens",
            def.name
        );
        assert!(!vars.contains("PD__DATABASE__ADMIN_URL"), "{}", def.name);
    }
    // Every secret named is listed in the example and written by secrets.sh.
    let example = read("deploy/k8s/secrets.env.example");
    let listed: BTreeSet<&str> = example
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .collect();
    let script = read("deploy/compose/secrets.sh");
    for name in &listed {
        let written = match name.strip_prefix("PD_PASSWORD_") {
            Some(service) => script.contains(service),
            None => script.contains(&format!("{name}=")),
        };
        assert!(written, "secrets.sh does not write {name}");
    }
    for s in &services {
        assert!(
            listed.contains(format!("PD_PASSWORD_{}", s.to_uppercase()).as_str()),
            "{s}"
        );
    }
    let named = |text: &str, open: &str| -> BTreeSet<String> {
        text.match_indices(open)
            .map(|(i, _)| {
                text[i + open.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                    .collect()
            })
            .collect()
    };
    let mut used = named(&compose, "${");
    used.retain(|v| !["PD_HTTP_PORT", "PD_PUBLIC_URL"].contains(&v.as_str()));
    for k8s in K8S {
        used.extend(named(&read(k8s), "pd-secrets, key: "));
    }
    used.retain(|v| v.starts_with("PD_") && !v.starts_with("PD__"));
    for v in &used {
        assert!(
            listed.contains(v.as_str()),
            "{v}: not in secrets.env.example"
        );
    }
}
