//! The platform's services, listed once. `pd serve` and `pd migrate`, the
//! end-to-end test harness (`tests/`) and the docs test read this list;
//! a new service is one line here plus its own crate (CONTRIBUTING.md).

use pd_runtime::ServiceDef;

/// Every service, in start order: the gateway last, once the services it
/// calls take requests.
pub static SERVICES: &[ServiceDef] = &[
    pd_identity::DEF,
    pd_registry::DEF,
    pd_surveys::DEF,
    pd_allocation::DEF,
    pd_enrollment::DEF,
    pd_gateway::DEF,
];

/// The service called `name`.
pub fn service(name: &str) -> Option<&'static ServiceDef> {
    SERVICES.iter().find(|s| s.name == name)
}

/// The names of every service, for messages.
pub fn names() -> String {
    SERVICES
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}
