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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Who hands out which role. Admins grant anything. The ministry of a
/// region grants its experts, council members and provider admins (they
/// decide on programs, so no operator may make them); a regional operator
/// grants municipal and org operators of the region; a municipal operator
/// org operators of their municipality; whoever keeps an organization's
/// staff list binds an educator's login.
pub fn can_grant(p: &Principal, role: Role, scope: ScopeLocation) -> bool {
    if p.is_admin() {
        return true;
    }
    match (role, scope) {
        (Role::Expert | Role::CouncilMember, ScopeLocation::Region(r)) => {
            p.has_scope(Role::Ministry, r)
        }
        (Role::ProviderAdmin, ScopeLocation::Provider { region_id }) => {
            p.has_scope(Role::Ministry, region_id)
        }
        (Role::MunicipalOperator, ScopeLocation::Municipality { region_id, .. }) => {
            p.has_scope(Role::RegionalOperator, region_id)
        }
        (Role::OrgOperator, ScopeLocation::Organization(loc)) => {
            p.has_scope(Role::RegionalOperator, loc.region_id)
                || p.has_scope(Role::MunicipalOperator, loc.municipality_id)
        }
        (Role::Educator, ScopeLocation::Educator(loc)) => can_manage_educators(p, &loc),
        _ => false,
    }
}

/// Whether an existing grant lies inside what `p` administers: exactly the
/// grants `p` could have made. Peers are outside (a regional operator does
/// not administer another regional operator), so no one can take over a
/// peer's account by resetting its password.
pub fn administers(p: &Principal, role: Role, scope: ScopeLocation) -> bool {
    can_grant(p, role, scope)
}

/// An account as the rules about changing it see it.
#[derive(Debug, Clone)]
pub struct Account {
    pub user_id: Uuid,
    pub created_by: Option<Uuid>,
    pub grants: Vec<(Role, ScopeLocation)>,
}

/// Whether `p` may change the account (grant to it, revoke from it,
/// deactivate it, reset its password): never their own; an admin any
/// other; anyone else only an account they created or one that already
/// sits inside their scope, and in both cases holding no role outside it.
pub fn can_manage_account(p: &Principal, a: &Account) -> bool {
    if a.user_id == p.user_id {
        return false;
    }
    if p.is_admin() {
        return true;
    }
    let ours = a.created_by == Some(p.user_id) || !a.grants.is_empty();
    ours && a.grants.iter().all(|(r, s)| administers(p, *r, *s))
}

/// Reading an account: its owner, an admin, who created it, and whoever
/// administers at least one of its grants (changing it needs all of them).
pub fn can_read_account(p: &Principal, a: &Account) -> bool {
    a.user_id == p.user_id
        || p.is_admin()
        || a.created_by == Some(p.user_id)
        || a.grants
            .iter()
            .any(|(r, s)| administers(p, *r, *s) || seats(p, *r, *s))
}

/// The regional operator runs the review: it reads (not manages) the
/// region's experts and council members, whom it seats.
fn seats(p: &Principal, role: Role, scope: ScopeLocation) -> bool {
    match (role, scope) {
        (Role::Expert | Role::CouncilMember, ScopeLocation::Region(region)) => {
            p.has_scope(Role::RegionalOperator, region)
        }
        _ => false,
    }
}

/// Separation of duties: one account may not both submit programs (provider
/// admin) and judge them (expert or council member) in the same region.
pub fn duties_conflict(held: &[(Role, ScopeLocation)], role: Role, scope: ScopeLocation) -> bool {
    let judge_region = |r: Role, s: ScopeLocation| match (r, s) {
        (Role::Expert | Role::CouncilMember, ScopeLocation::Region(id)) => Some(id),
        _ => None,
    };
    let provider_region = |r: Role, s: ScopeLocation| match (r, s) {
        (Role::ProviderAdmin, ScopeLocation::Provider { region_id }) => Some(region_id),
        _ => None,
    };
    held.iter().any(|(r, s)| {
        let a = judge_region(*r, *s).zip(provider_region(role, scope));
        let b = provider_region(*r, *s).zip(judge_region(role, scope));
        a.or(b).is_some_and(|(x, y)| x == y)
    })
}

/// Creating users (logins without roles) is for operators, the ministry
/// (its experts and council) and admins.
pub fn can_create_users(p: &Principal) -> bool {
    p.is_admin()
        || p.has_role(Role::RegionalOperator)
        || p.has_role(Role::MunicipalOperator)
        || p.has_role(Role::OrgOperator)
        || p.has_role(Role::Ministry)
}

/// Reading the audit trail.
pub fn can_read_audit(p: &Principal) -> bool {
    p.is_admin()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pd_domain::Grant;

    fn principal(role: Role, scope: Option<Uuid>) -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            login: "x".into(),
            grants: vec![Grant::new(role, scope)],
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

    #[test]
    fn operators_cannot_make_experts_council_members_or_provider_admins() {
        let here = loc();
        let regional = principal(Role::RegionalOperator, Some(here.region_id));
        let ministry = principal(Role::Ministry, Some(here.region_id));
        for role in [Role::Expert, Role::CouncilMember] {
            assert!(!can_grant(
                &regional,
                role,
                ScopeLocation::Region(here.region_id)
            ));
            assert!(can_grant(
                &ministry,
                role,
                ScopeLocation::Region(here.region_id)
            ));
            assert!(!can_grant(
                &ministry,
                role,
                ScopeLocation::Region(Uuid::now_v7())
            ));
        }
        let provider = ScopeLocation::Provider {
            region_id: here.region_id,
        };
        assert!(!can_grant(&regional, Role::ProviderAdmin, provider));
        assert!(can_grant(&ministry, Role::ProviderAdmin, provider));
        assert!(!can_grant(
            &ministry,
            Role::OrgOperator,
            ScopeLocation::Organization(here)
        ));
    }

    #[test]
    fn accounts_outside_the_scope_or_oneself_are_not_managed() {
        let here = loc();
        let municipal = principal(Role::MunicipalOperator, Some(here.municipality_id));
        let admin_account = Account {
            user_id: Uuid::now_v7(),
            created_by: None,
            grants: vec![(Role::Admin, ScopeLocation::None)],
        };
        assert!(!can_manage_account(&municipal, &admin_account));
        let provider_admin = Account {
            user_id: Uuid::now_v7(),
            created_by: Some(municipal.user_id),
            grants: vec![(
                Role::ProviderAdmin,
                ScopeLocation::Provider {
                    region_id: here.region_id,
                },
            )],
        };
        assert!(
            !can_manage_account(&municipal, &provider_admin),
            "created by them, but holds a role outside their scope"
        );
        let fresh = Account {
            user_id: Uuid::now_v7(),
            created_by: Some(municipal.user_id),
            grants: vec![],
        };
        assert!(can_manage_account(&municipal, &fresh));
        let strangers = Account {
            created_by: Some(Uuid::now_v7()),
            ..fresh.clone()
        };
        assert!(!can_manage_account(&municipal, &strangers));
        let in_scope = Account {
            user_id: Uuid::now_v7(),
            created_by: None,
            grants: vec![(Role::OrgOperator, ScopeLocation::Organization(here))],
        };
        assert!(can_manage_account(&municipal, &in_scope));
        let myself = Account {
            user_id: municipal.user_id,
            ..in_scope
        };
        assert!(!can_manage_account(&municipal, &myself));
    }

    #[test]
    fn one_account_cannot_submit_and_judge_in_one_region() {
        let r = Uuid::now_v7();
        let held = vec![(Role::Expert, ScopeLocation::Region(r))];
        let here = ScopeLocation::Provider { region_id: r };
        let elsewhere = ScopeLocation::Provider {
            region_id: Uuid::now_v7(),
        };
        assert!(duties_conflict(&held, Role::ProviderAdmin, here));
        assert!(!duties_conflict(&held, Role::ProviderAdmin, elsewhere));
        let held = vec![(Role::ProviderAdmin, here)];
        assert!(duties_conflict(
            &held,
            Role::CouncilMember,
            ScopeLocation::Region(r)
        ));
        assert!(!duties_conflict(
            &held,
            Role::RegionalOperator,
            ScopeLocation::Region(r)
        ));
    }
}
