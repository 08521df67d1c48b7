//! Roles and their scopes (DESIGN.md, "Roles and scopes"). A role is granted
//! with a scope id; the service owning the data checks every read and write.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Educator,
    OrgOperator,
    MunicipalOperator,
    RegionalOperator,
    Ministry,
    Expert,
    CouncilMember,
    ProviderAdmin,
    Admin,
}

/// What kind of entity a role's scope id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    None,
    Educator,
    Organization,
    Municipality,
    Region,
    Provider,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::Educator,
        Role::OrgOperator,
        Role::MunicipalOperator,
        Role::RegionalOperator,
        Role::Ministry,
        Role::Expert,
        Role::CouncilMember,
        Role::ProviderAdmin,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Educator => "educator",
            Role::OrgOperator => "org_operator",
            Role::MunicipalOperator => "municipal_operator",
            Role::RegionalOperator => "regional_operator",
            Role::Ministry => "ministry",
            Role::Expert => "expert",
            Role::CouncilMember => "council_member",
            Role::ProviderAdmin => "provider_admin",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn scope_kind(self) -> ScopeKind {
        match self {
            Role::Educator => ScopeKind::Educator,
            Role::OrgOperator => ScopeKind::Organization,
            Role::MunicipalOperator => ScopeKind::Municipality,
            Role::RegionalOperator | Role::Ministry | Role::Expert | Role::CouncilMember => {
                ScopeKind::Region
            }
            Role::ProviderAdmin => ScopeKind::Provider,
            Role::Admin => ScopeKind::None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub role: Role,
    /// The organization, municipality, region, provider or educator the
    /// role applies to; `None` only for `admin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Uuid>,
    /// The region the scope lies in (filled in by identity when it signs a
    /// token), so every service can tell a region's own people without a
    /// read-model of organizations and educators. `None` for `admin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Uuid>,
}

impl Grant {
    /// A grant whose region is not known (tests, tools).
    pub fn new(role: Role, scope: Option<Uuid>) -> Grant {
        Grant {
            role,
            scope,
            region: None,
        }
    }
}

/// Who is calling, as proven by a verified access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: Uuid,
    pub login: String,
    pub grants: Vec<Grant>,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.has_role(Role::Admin)
    }
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }
    /// Scope ids of every grant of `role`.
    pub fn scopes(&self, role: Role) -> impl Iterator<Item = Uuid> + '_ {
        self.grants
            .iter()
            .filter(move |g| g.role == role)
            .filter_map(|g| g.scope)
    }
    pub fn has_scope(&self, role: Role, scope: Uuid) -> bool {
        self.scopes(role).any(|s| s == scope)
    }
    /// Whether any of the caller's roles lies in `region` (admins: always).
    pub fn in_region(&self, region: Uuid) -> bool {
        self.is_admin()
            || self
                .grants
                .iter()
                .any(|g| g.region == Some(region) || (g.scope == Some(region)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
