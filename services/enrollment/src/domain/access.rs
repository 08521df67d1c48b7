//! Who may do what in the enrollment service. A unit is where an
//! educator (and so their application) is.

use pd_domain::{Principal, Role};
use uuid::Uuid;

#[derive(Debug, Clone, Copy)]
pub struct Unit {
    pub region: Uuid,
    pub municipality: Uuid,
    pub organization: Uuid,
}

/// The region's operator and the ministry see and act on everything of the region.
pub fn manages_region(p: &Principal, region: Uuid) -> bool {
    p.is_admin()
        || p.has_scope(Role::RegionalOperator, region)
        || p.has_scope(Role::Ministry, region)
}

/// Who forms a campaign's groups at the window's close and merges those
/// under their minimum: the regional operator (seed 003: комплектование
/// групп), not the ministry.
pub fn forms_groups(p: &Principal, region: Uuid) -> bool {
    p.is_admin() || p.has_scope(Role::RegionalOperator, region)
}

/// Operators who see a unit's applications and file or withdraw them on
/// behalf of its educators (seed 002: operators accompany the filing).
pub fn oversees(p: &Principal, u: &Unit) -> bool {
    manages_region(p, u.region)
        || p.has_scope(Role::MunicipalOperator, u.municipality)
        || p.has_scope(Role::OrgOperator, u.organization)
}

/// The level an operator acts at for a unit, recorded on what they file.
pub fn level(p: &Principal, u: &Unit) -> &'static str {
    if p.has_scope(Role::OrgOperator, u.organization) {
        "organization"
    } else if p.has_scope(Role::MunicipalOperator, u.municipality) {
        "municipality"
    } else {
        "region"
    }
}

/// Whether the caller can see a municipality's figures.
pub fn sees_municipality(p: &Principal, region: Uuid, municipality: Uuid) -> bool {
    manages_region(p, region) || p.has_scope(Role::MunicipalOperator, municipality)
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
    fn operators_see_their_own_units_only_and_act_at_their_level() {
        let (region, muni, org) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let u = Unit {
            region,
            municipality: muni,
            organization: org,
        };
        let org_op = principal(Role::OrgOperator, org, region);
        let muni_op = principal(Role::MunicipalOperator, muni, region);
        let regional = principal(Role::RegionalOperator, region, region);
        assert!(oversees(&org_op, &u) && level(&org_op, &u) == "organization");
        assert!(oversees(&muni_op, &u) && level(&muni_op, &u) == "municipality");
        assert!(oversees(&regional, &u) && level(&regional, &u) == "region");
        assert!(!oversees(
            &principal(Role::OrgOperator, Uuid::now_v7(), region),
            &u
        ));
        assert!(!oversees(
            &principal(Role::Educator, Uuid::now_v7(), region),
            &u
        ));
        assert!(!sees_municipality(&org_op, region, muni));
        assert!(sees_municipality(&muni_op, region, muni));
    }
}
