//! Who may do what in the surveys service. Regions are the campaign's or
//! the instrument's; organizations and municipalities the educator's.

use pd_domain::{Principal, Role};
use uuid::Uuid;

/// The competence catalog, the region's questionnaires and tests, the
/// needs survey: the ministry or the regional operator (or an admin).
pub fn manages_region(p: &Principal, region: Uuid) -> bool {
    p.is_admin()
        || p.has_scope(Role::Ministry, region)
        || p.has_scope(Role::RegionalOperator, region)
}

/// Publishing priority directions and the topic base: the ministry.
pub fn publishes_priorities(p: &Principal, region: Uuid) -> bool {
    p.is_admin() || p.has_scope(Role::Ministry, region)
}

/// A program's post-course instrument of `purpose`: those who manage the
/// region, and for its test bank its provider's admins too. The
/// questionnaire on how the course was run is the independent assessment
/// of seed 001: the region's alone, never the provider's own.
pub fn maintains_program(p: &Principal, region: Uuid, provider: Uuid, purpose: &str) -> bool {
    manages_region(p, region)
        || (purpose != "post_course_survey" && p.has_scope(Role::ProviderAdmin, provider))
}

/// Where an educator works, for scope checks.
#[derive(Debug, Clone, Copy)]
pub struct Workplace {
    pub region: Uuid,
    pub municipality: Uuid,
    pub organization: Uuid,
}

/// Operators who see (and act for) an educator: theirs by organization,
/// municipality or region.
pub fn oversees(p: &Principal, w: &Workplace) -> bool {
    manages_region(p, w.region)
        || p.has_scope(Role::MunicipalOperator, w.municipality)
        || p.has_scope(Role::OrgOperator, w.organization)
}

/// Reading aggregates of the region (demand, coverage, priorities): its
/// operators at every level, the ministry, its experts, council and
/// providers — not educators.
pub fn reads_region_figures(p: &Principal, region: Uuid) -> bool {
    p.is_admin()
        || p.grants.iter().any(|g| {
            g.role != Role::Educator && (g.region == Some(region) || g.scope == Some(region))
        })
}

/// Operators of the region at any level (and those who manage it): they
/// see the region's questionnaires and diagnostics and open diagnostics
/// for their own educators. Providers, experts and the council do not.
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
    fn operators_oversee_only_their_scope() {
        let (region, muni, org) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let w = Workplace {
            region,
            municipality: muni,
            organization: org,
        };
        assert!(oversees(&principal(Role::OrgOperator, org, region), &w));
        assert!(oversees(
            &principal(Role::MunicipalOperator, muni, region),
            &w
        ));
        assert!(oversees(
            &principal(Role::RegionalOperator, region, region),
            &w
        ));
        assert!(!oversees(
            &principal(Role::OrgOperator, Uuid::now_v7(), region),
            &w
        ));
        assert!(!oversees(
            &principal(Role::Educator, Uuid::now_v7(), region),
            &w
        ));
        assert!(!publishes_priorities(
            &principal(Role::RegionalOperator, region, region),
            region
        ));
        assert!(reads_region_figures(
            &principal(Role::ProviderAdmin, Uuid::now_v7(), region),
            region
        ));
        assert!(!reads_region_figures(
            &principal(Role::Educator, Uuid::now_v7(), region),
            region
        ));
    }
}
