//! The operations identity answers on `<prefix>.identity.rpc.<op>.v1`.

use pd_bus::RpcServer;

use crate::{
    SERVICE, State, accounts, audit, auth, educators, imports, organizations, regions, users,
};

/// The operations that create something and so honour `Idempotency-Key`.
/// (Sign-in, refresh, password resets and bulk logins answer secrets, which
/// must not be stored for replay; imports span several requests.)
pub(crate) const CREATES: &[&str] = &[
    "create_region",
    "create_municipality",
    "create_organization",
    "create_provider",
    "create_educator",
    "create_user",
];

pub(crate) fn server(state: State) -> RpcServer<State> {
    RpcServer::new(SERVICE, state)
        .route("login", auth::login)
        .route("refresh", auth::refresh)
        .route("me", auth::me)
        .route("create_user", users::create)
        .route("grant_role", users::grant_role)
        .route("revoke_role", users::revoke_role)
        .route("list_users", accounts::list)
        .route("get_user", accounts::get)
        .route("set_user_active", accounts::set_active)
        .route("reset_password", accounts::reset_password)
        .route("change_password", auth::change_password)
        .route("logout", auth::logout)
        .route("list_audit", audit::list)
        .route("issue_educator_logins", users::issue_educator_logins)
        .route("create_region", regions::create)
        .route("list_regions", regions::list)
        .route("get_region", regions::get)
        .route("update_region", regions::update)
        .route("create_municipality", organizations::create_municipality)
        .route("list_municipalities", organizations::list_municipalities)
        .route("create_organization", organizations::create)
        .route("list_organizations", organizations::list)
        .route("get_organization", organizations::get)
        .route("update_organization", organizations::update)
        .route("create_provider", organizations::create_provider)
        .route("list_providers", organizations::list_providers)
        .route("create_educator", educators::create)
        .route("get_educator", educators::get)
        .route("update_educator", educators::update)
        .route("list_educators", educators::list)
        .route("educator_leaves", educators::leave)
        .route("educator_history", educators::history)
        .route("import_begin", imports::begin)
        .route("import_chunk", imports::chunk)
        .route("import_commit", imports::commit)
        .route("get_import", imports::get)
        .route("list_imports", imports::list)
}
