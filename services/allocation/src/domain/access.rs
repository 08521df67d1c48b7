//! Who may do what in the allocation service. Regions are the campaign's;
//! organizations and municipalities are the educator's or the place's.

use pd_domain::{Principal, Role};
use uuid::Uuid;

/// Funding, quotas and the allocation run: the ministry (and admins).
pub fn funds(p: &Principal, region: Uuid) -> bool {
    p.is_admin() || p.has_scope(Role::Ministry, region)
}

/// The region's operator and the ministry see and act on everything of
/// the region: every list, number, refusal and the region's turn of a freed place.
pub fn manages_region(p: &Principal, region: Uuid) -> bool {
    funds(p, region) || p.has_scope(Role::RegionalOperator, region)
}

/// Where an educator (or a place) is, for scope checks.
#[derive(Debug, Clone, Copy)]
pub struct Unit {
    pub region: Uuid,
    pub municipality: Uuid,
    pub organization: Uuid,
}

/// Operators who see an organization's list, numbers and refusals: its
/// own, its municipality's, the region's.
pub fn oversees(p: &Principal, u: &Unit) -> bool {
    manages_region(p, u.region)
        || p.has_scope(Role::MunicipalOperator, u.municipality)
        || p.has_scope(Role::OrgOperator, u.organization)
}

/// Confirming a list, excluding a candidate, deciding a refusal: the
/// organization's operator (the regional operator may stand in, seed 002).
pub fn decides_for_org(p: &Principal, u: &Unit) -> bool {
    p.has_scope(Role::OrgOperator, u.organization) || manages_region(p, u.region)
}

/// Whether the caller can see a municipality's figures.
pub fn sees_municipality(p: &Principal, region: Uuid, municipality: Uuid) -> bool {
    manages_region(p, region) || p.has_scope(Role::MunicipalOperator, municipality)
}

/// Operators of the region at any level (each sees their part).
pub fn operates_in(p: &Principal, region: Uuid) -> bool {
    manages_region(p, region)
        || p.grants.iter().any(|g| {
            matches!(g.role, Role::OrgOperator | Role::MunicipalOperator)
                && g.region == Some(region)
        })
}

/// The educator the caller is, if any.
pub fn educator_id(p: &Principal) -> Option<Uuid> {
    p.scopes(Role::Educator).next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pd_domain::Grant;

    fn principal(role: Role, scope: Uuid, region: Uuid) -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            login: "x".into(),
            grants: vec![Grant {
                role,
                scope: Some(scope),
                region: Some(region),
            }],
        }
    }

    #[test]
    fn each_level_sees_its_own_units_only() {
        let (region, muni, org) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let u = Unit {
            region,
            municipality: muni,
            organization: org,
        };
        assert!(oversees(&principal(Role::OrgOperator, org, region), &u));
        assert!(oversees(
            &principal(Role::MunicipalOperator, muni, region),
            &u
        ));
        assert!(!oversees(
            &principal(Role::OrgOperator, Uuid::now_v7(), region),
            &u
        ));
        assert!(!decides_for_org(
            &principal(Role::MunicipalOperator, muni, region),
            &u
        ));
        assert!(!funds(
            &principal(Role::RegionalOperator, region, region),
            region
        ));
        assert!(manages_region(
            &principal(Role::Ministry, region, region),
            region
        ));
        assert!(!oversees(
            &principal(Role::Educator, Uuid::now_v7(), region),
            &u
        ));
    }
}
