//! Who may do what in the monitoring service. A unit is where an educator
//! works: their completions, windows, documents and records are seen by
//! the operators over it (seed 001: the score is shown to the educator,
//! the head of the organization, municipal and regional operators).

use pd_domain::{Principal, Role};
use uuid::Uuid;

#[derive(Debug, Clone, Copy)]
pub struct Unit {
    pub region: Uuid,
    pub municipality: Uuid,
    pub organization: Uuid,
}

/// The region's operator and the ministry see everything of the region.
pub fn manages_region(p: &Principal, region: Uuid) -> bool {
    p.is_admin()
        || p.has_scope(Role::RegionalOperator, region)
        || p.has_scope(Role::Ministry, region)
}

/// Operators over an educator's unit.
pub fn oversees(p: &Principal, u: &Unit) -> bool {
    manages_region(p, u.region)
        || p.has_scope(Role::MunicipalOperator, u.municipality)
        || p.has_scope(Role::OrgOperator, u.organization)
}

/// Who verifies or rejects a declared PD record: the operators over the
/// educator, not the ministry (it does not keep personal records).
pub fn verifies_records(p: &Principal, u: &Unit) -> bool {
    p.is_admin()
        || p.has_scope(Role::RegionalOperator, u.region)
        || p.has_scope(Role::MunicipalOperator, u.municipality)
        || p.has_scope(Role::OrgOperator, u.organization)
}

/// Who may declare a non-funded PD on an educator's behalf (seed 002:
/// the municipal operator enters PD taken outside the regional system).
pub fn declares_for(p: &Principal, u: &Unit) -> bool {
    p.is_admin()
        || p.has_scope(Role::RegionalOperator, u.region)
        || p.has_scope(Role::MunicipalOperator, u.municipality)
}

/// A provider's own people (its admins, and its API keys' tokens).
pub fn is_provider(p: &Principal, provider: Uuid) -> bool {
    p.has_scope(Role::ProviderAdmin, provider)
}

/// Who may revoke a document: its provider, the region's operator, an admin.
pub fn revokes(p: &Principal, provider: Uuid, region: Uuid) -> bool {
    p.is_admin() || is_provider(p, provider) || p.has_scope(Role::RegionalOperator, region)
}

/// Who sets a region's post-course window: its regional operator.
pub fn sets_region(p: &Principal, region: Uuid) -> bool {
    p.is_admin() || p.has_scope(Role::RegionalOperator, region)
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
    fn operators_see_their_units_and_only_some_declare_or_verify() {
        let (region, muni, org) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let u = Unit {
            region,
            municipality: muni,
            organization: org,
        };
        let org_op = principal(Role::OrgOperator, org, region);
        let muni_op = principal(Role::MunicipalOperator, muni, region);
        let ministry = principal(Role::Ministry, region, region);
        assert!(oversees(&org_op, &u) && oversees(&muni_op, &u) && oversees(&ministry, &u));
        assert!(!oversees(
            &principal(Role::OrgOperator, Uuid::now_v7(), region),
            &u
        ));
        assert!(verifies_records(&org_op, &u) && !verifies_records(&ministry, &u));
        assert!(declares_for(&muni_op, &u) && !declares_for(&org_op, &u));
        let provider = Uuid::now_v7();
        let p = principal(Role::ProviderAdmin, provider, region);
        assert!(is_provider(&p, provider) && !is_provider(&p, Uuid::now_v7()));
        assert!(revokes(&p, provider, region) && !revokes(&org_op, provider, region));
    }
}
