//! The operations identity answers on `<prefix>.identity.rpc.<op>.v1`.

use pd_bus::RpcServer;
use pd_proto::ops::identity as ops;

use crate::{
    SERVICE, State, accounts, audit, auth, educators, imports, organization_imports, organizations,
    provider_keys, regions, users,
};

pub(crate) fn server(state: State) -> RpcServer<State> {
    RpcServer::new(SERVICE, state)
        .op(ops::Login, auth::login)
        .op(ops::Refresh, auth::refresh)
        .op(ops::Me, auth::me)
        .op(ops::CreateUser, users::create)
        .op(ops::GrantRole, users::grant_role)
        .op(ops::RevokeRole, users::revoke_role)
        .op(ops::ListUsers, accounts::list)
        .op(ops::GetUser, accounts::get)
        .op(ops::SetUserActive, accounts::set_active)
        .op(ops::ResetPassword, accounts::reset_password)
        .op(ops::ChangePassword, auth::change_password)
        .op(ops::Logout, auth::logout)
        .op(ops::ListAudit, audit::list)
        .op(ops::IssueEducatorLogins, users::issue_educator_logins)
        .op(ops::CreateRegion, regions::create)
        .op(ops::ListRegions, regions::list)
        .op(ops::GetRegion, regions::get)
        .op(ops::UpdateRegion, regions::update)
        .op(ops::CreateMunicipality, organizations::create_municipality)
        .op(ops::ListMunicipalities, organizations::list_municipalities)
        .op(ops::UpdateMunicipality, organizations::update_municipality)
        .op(ops::CreateOrganization, organizations::create)
        .op(ops::ListOrganizations, organizations::list)
        .op(ops::GetOrganization, organizations::get)
        .op(ops::UpdateOrganization, organizations::update)
        .op(ops::CreateProvider, organizations::create_provider)
        .op(ops::ListProviders, organizations::list_providers)
        .op(ops::IssueProviderKey, provider_keys::issue)
        .op(ops::ListProviderKeys, provider_keys::list)
        .op(ops::RevokeProviderKey, provider_keys::revoke)
        .op(ops::ExchangeProviderKey, provider_keys::exchange)
        .op(ops::EducatorsPersonal, educators::personal)
        .op(ops::CreateEducator, educators::create)
        .op(ops::GetEducator, educators::get)
        .op(ops::UpdateEducator, educators::update)
        .op(ops::ListEducators, educators::list)
        .op(ops::EducatorLeaves, educators::leave)
        .op(ops::EducatorHistory, educators::history)
        .op(ops::ImportBegin, imports::begin)
        .op(ops::ImportChunk, imports::chunk)
        .op(ops::ImportCommit, imports::commit)
        .op(ops::GetImport, imports::get)
        .op(ops::ListImports, imports::list)
        .op(ops::ImportOrganizations, organization_imports::import)
}
