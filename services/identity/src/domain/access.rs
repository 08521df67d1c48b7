//! Who may read and change what (DESIGN.md, "Roles and scopes"). Reads of
//! things outside the caller's scope answer 404, forbidden actions 403.

use pd_domain::{Principal, Role};
use uuid::Uuid;

/// Where an organization sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgLocation {
    pub org_id: Uuid,
    pub municipality_id: Uuid,
    pub region_id: Uuid,
}

/// Region-level administration: the regional operator of the region.
pub fn can_administer_region(p: &Principal, region_id: Uuid) -> bool {
    p.is_admin() || p.has_scope(Role::RegionalOperator, region_id)
}

/// Creating organizations in a municipality.
pub fn can_add_organization(p: &Principal, municipality_id: Uuid, region_id: Uuid) -> bool {
    can_administer_region(p, region_id) || p.has_scope(Role::MunicipalOperator, municipality_id)
}

/// Operators who keep an organization's staff list.
pub fn can_manage_educators(p: &Principal, loc: &OrgLocation) -> bool {
    p.is_admin()
        || p.has_scope(Role::OrgOperator, loc.org_id)
        || p.has_scope(Role::MunicipalOperator, loc.municipality_id)
        || p.has_scope(Role::RegionalOperator, loc.region_id)
}

/// Reading an educator record: the operators above, the ministry of the
/// region (no SNILS), and the educator themself.
pub fn can_read_educator(p: &Principal, loc: &OrgLocation, educator_id: Uuid) -> bool {
    can_manage_educators(p, loc)
        || p.has_scope(Role::Ministry, loc.region_id)
        || p.has_scope(Role::Educator, educator_id)
}

/// Whether the full SNILS is shown (else masked).
pub fn sees_full_snils(p: &Principal, loc: &OrgLocation, educator_id: Uuid) -> bool {
    can_manage_educators(p, loc) || p.has_scope(Role::Educator, educator_id)
}

/// The filter an educator listing applies for this caller.
#[derive(Debug, Default, Clone)]
pub struct EducatorScope {
    pub all: bool,
    pub orgs: Vec<Uuid>,
    pub municipalities: Vec<Uuid>,
    pub regions: Vec<Uuid>,
    pub educators: Vec<Uuid>,
}

pub fn educator_scope(p: &Principal) -> EducatorScope {
    let mut regions: Vec<Uuid> = p.scopes(Role::RegionalOperator).collect();
    regions.extend(p.scopes(Role::Ministry));
    EducatorScope {
        all: p.is_admin(),
        orgs: p.scopes(Role::OrgOperator).collect(),
        municipalities: p.scopes(Role::MunicipalOperator).collect(),
        regions,
        educators: p.scopes(Role::Educator).collect(),
    }
}

/// Where the scope of a grant sits, for checking who may grant it.
#[derive(Debug, Clone, Copy)]
pub enum ScopeLocation {
    None,
    Region(Uuid),
    Municipality {
        municipality_id: Uuid,
        region_id: Uuid,
    },
    Organization(OrgLocation),
    Provider {
        region_id: Uuid,
    },
    Educator(OrgLocation),
}

/// Admins grant anything. A regional operator grants the roles below their
/// own inside their region; a municipal operator grants org operators of
/// their municipality's organizations.
pub fn can_grant(p: &Principal, role: Role, scope: ScopeLocation) -> bool {
    if p.is_admin() {
        return true;
    }
    match (role, scope) {
        (Role::Admin | Role::RegionalOperator | Role::Ministry, _) => false,
        (_, ScopeLocation::Region(r)) | (_, ScopeLocation::Provider { region_id: r }) => {
            p.has_scope(Role::RegionalOperator, r)
        }
        (_, ScopeLocation::Municipality { region_id, .. }) => {
            p.has_scope(Role::RegionalOperator, region_id)
        }
        (Role::OrgOperator, ScopeLocation::Organization(loc)) => {
            p.has_scope(Role::RegionalOperator, loc.region_id)
                || p.has_scope(Role::MunicipalOperator, loc.municipality_id)
        }
        (_, ScopeLocation::Organization(loc)) => p.has_scope(Role::RegionalOperator, loc.region_id),
        (_, ScopeLocation::Educator(loc)) => can_manage_educators(p, &loc),
        (_, ScopeLocation::None) => false,
    }
}

/// Creating users (logins without roles) is for operators and admins.
pub fn can_create_users(p: &Principal) -> bool {
    p.is_admin()
        || p.has_role(Role::RegionalOperator)
        || p.has_role(Role::MunicipalOperator)
        || p.has_role(Role::OrgOperator)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pd_domain::Grant;

    fn principal(role: Role, scope: Option<Uuid>) -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            login: "x".into(),
            grants: vec![Grant { role, scope }],
        }
    }

    fn loc() -> OrgLocation {
        OrgLocation {
            org_id: Uuid::now_v7(),
            municipality_id: Uuid::now_v7(),
            region_id: Uuid::now_v7(),
        }
    }

    #[test]
    fn org_operator_manages_only_their_organization() {
        let here = loc();
        let there = loc();
        let p = principal(Role::OrgOperator, Some(here.org_id));
        assert!(can_manage_educators(&p, &here));
        assert!(!can_manage_educators(&p, &there));
        assert!(!can_grant(
            &p,
            Role::OrgOperator,
            ScopeLocation::Organization(here)
        ));
    }

    #[test]
    fn ministry_reads_but_does_not_see_snils() {
        let here = loc();
        let p = principal(Role::Ministry, Some(here.region_id));
        let e = Uuid::now_v7();
        assert!(can_read_educator(&p, &here, e));
        assert!(!sees_full_snils(&p, &here, e));
        assert!(!can_manage_educators(&p, &here));
    }

    #[test]
    fn municipal_operator_grants_org_operators_of_their_municipality_only() {
        let here = loc();
        let p = principal(Role::MunicipalOperator, Some(here.municipality_id));
        assert!(can_grant(
            &p,
            Role::OrgOperator,
            ScopeLocation::Organization(here)
        ));
        assert!(!can_grant(
            &p,
            Role::OrgOperator,
            ScopeLocation::Organization(loc())
        ));
        assert!(!can_grant(
            &p,
            Role::RegionalOperator,
            ScopeLocation::Region(here.region_id)
        ));
    }

    #[test]
    fn educator_reads_only_themself() {
        let here = loc();
        let me = Uuid::now_v7();
        let p = principal(Role::Educator, Some(me));
        assert!(can_read_educator(&p, &here, me));
        assert!(!can_read_educator(&p, &here, Uuid::now_v7()));
    }
}
