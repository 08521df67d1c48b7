//! The operations the identity service answers on `<prefix>.identity.rpc.<op>.v1`:
//! name, request and reply declared once, used by the service's routes and
//! by every caller. `creates`: the operation honours `Idempotency-Key`.

use crate::common::v1::{Empty, IdRequest};
use crate::identity::v1 as pb;

crate::operations! {
    service "identity";
    Login = "login": pb::LoginRequest => pb::TokenPair;
    Refresh = "refresh": pb::RefreshRequest => pb::TokenPair;
    Me = "me": Empty => pb::Me;
    CreateUser = "create_user": pb::CreateUserRequest => pb::User, creates;
    GrantRole = "grant_role": pb::GrantRoleRequest => pb::User;
    RevokeRole = "revoke_role": pb::RevokeRoleRequest => pb::User;
    ListUsers = "list_users": pb::ListUsersRequest => pb::UserList;
    GetUser = "get_user": pb::GetUserRequest => pb::User;
    SetUserActive = "set_user_active": pb::SetUserActiveRequest => pb::User;
    ResetPassword = "reset_password": pb::ResetPasswordRequest => pb::PasswordReset;
    ChangePassword = "change_password": pb::ChangePasswordRequest => pb::TokenPair;
    Logout = "logout": pb::LogoutRequest => Empty;
    ListAudit = "list_audit": pb::ListAuditRequest => pb::AuditList;
    IssueEducatorLogins = "issue_educator_logins": pb::IssueEducatorLoginsRequest => pb::IssuedLogins;
    CreateRegion = "create_region": pb::CreateRegionRequest => pb::Region, creates;
    ListRegions = "list_regions": Empty => pb::RegionList;
    GetRegion = "get_region": IdRequest => pb::Region;
    UpdateRegion = "update_region": pb::UpdateRegionRequest => pb::Region;
    CreateMunicipality = "create_municipality": pb::CreateMunicipalityRequest => pb::Municipality, creates;
    ListMunicipalities = "list_municipalities": pb::ListMunicipalitiesRequest => pb::MunicipalityList;
    UpdateMunicipality = "update_municipality": pb::UpdateMunicipalityRequest => pb::Municipality;
    CreateOrganization = "create_organization": pb::CreateOrganizationRequest => pb::Organization, creates;
    ListOrganizations = "list_organizations": pb::ListOrganizationsRequest => pb::OrganizationList;
    GetOrganization = "get_organization": IdRequest => pb::Organization;
    UpdateOrganization = "update_organization": pb::UpdateOrganizationRequest => pb::Organization;
    CreateProvider = "create_provider": pb::CreateProviderRequest => pb::Provider, creates;
    ListProviders = "list_providers": pb::ListProvidersRequest => pb::ProviderList;
    CreateEducator = "create_educator": pb::CreateEducatorRequest => pb::Educator, creates;
    GetEducator = "get_educator": IdRequest => pb::Educator;
    UpdateEducator = "update_educator": pb::UpdateEducatorRequest => pb::Educator;
    ListEducators = "list_educators": pb::ListEducatorsRequest => pb::EducatorList;
    EducatorLeaves = "educator_leaves": pb::EducatorLeavesRequest => pb::Educator;
    EducatorHistory = "educator_history": IdRequest => pb::EducatorHistory;
    ImportBegin = "import_begin": pb::ImportBeginRequest => pb::ImportJob;
    ImportChunk = "import_chunk": pb::ImportChunkRequest => Empty;
    ImportCommit = "import_commit": pb::ImportCommitRequest => pb::ImportJob;
    GetImport = "get_import": pb::GetImportRequest => pb::ImportJob;
    ListImports = "list_imports": pb::ListImportsRequest => pb::ImportJobList;
    ImportOrganizations = "import_organizations": pb::ImportOrganizationsRequest => pb::OrganizationImport;
    // Not `creates`: its answer carries the key, which must never be
    // stored (the idempotency table keeps answers).
    IssueProviderKey = "issue_provider_key": pb::IssueProviderKeyRequest => pb::ProviderKey;
    ListProviderKeys = "list_provider_keys": pb::ProviderKeysRequest => pb::ProviderKeyList;
    RevokeProviderKey = "revoke_provider_key": pb::RevokeProviderKeyRequest => pb::ProviderKey;
    EducatorsPersonal = "educators_personal": pb::EducatorsPersonalRequest => pb::EducatorsPersonal;
    ExchangeProviderKey = "exchange_provider_key": pb::ExchangeProviderKeyRequest => pb::ProviderKeyToken;
}
