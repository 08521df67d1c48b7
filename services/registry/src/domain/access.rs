//! Who may do what in the registry. The region is the campaign's.

use pd_domain::{Principal, Role};
use uuid::Uuid;

/// Creating and editing campaigns: the ministry (or an admin).
pub fn manages_campaigns(p: &Principal, region: Uuid) -> bool {
    p.is_admin() || p.has_scope(Role::Ministry, region)
}

/// Criteria, experts, technical review, assignments, sessions: the
/// regional operator or the ministry.
pub fn runs_review(p: &Principal, region: Uuid) -> bool {
    manages_campaigns(p, region) || p.has_scope(Role::RegionalOperator, region)
}

/// The year's review criteria: approved annually by the expert council
/// (seeds/002, 2.1), or set by the ministry.
pub fn sets_criteria(p: &Principal, region: Uuid) -> bool {
    manages_campaigns(p, region) || p.has_scope(Role::CouncilMember, region)
}

/// Approving the council's protocol: the ministry's presidium.
pub fn approves_protocol(p: &Principal, region: Uuid) -> bool {
    manages_campaigns(p, region)
}

/// Reading every program of the region.
pub fn reads_all_programs(p: &Principal, region: Uuid) -> bool {
    runs_review(p, region) || p.has_scope(Role::CouncilMember, region)
}

/// Taking part in the review (its sessions are theirs to see): those who
/// read every program, and the region's experts.
pub fn takes_part_in_review(p: &Principal, region: Uuid) -> bool {
    reads_all_programs(p, region) || p.has_scope(Role::Expert, region)
}

/// Acting for a provider.
pub fn acts_for_provider(p: &Principal, provider: Uuid) -> bool {
    p.is_admin() || p.has_scope(Role::ProviderAdmin, provider)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pd_domain::Grant;

    fn principal(role: Role, scope: Uuid) -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            login: "x".into(),
            grants: vec![Grant::new(role, Some(scope))],
        }
    }

    #[test]
    fn roles_reach_only_their_region_or_provider() {
        let region = Uuid::now_v7();
        let other = Uuid::now_v7();
        assert!(manages_campaigns(
            &principal(Role::Ministry, region),
            region
        ));
        assert!(!manages_campaigns(
            &principal(Role::Ministry, other),
            region
        ));
        assert!(!manages_campaigns(
            &principal(Role::RegionalOperator, region),
            region
        ));
        assert!(runs_review(
            &principal(Role::RegionalOperator, region),
            region
        ));
        assert!(sets_criteria(
            &principal(Role::CouncilMember, region),
            region
        ));
        assert!(!sets_criteria(
            &principal(Role::RegionalOperator, region),
            region
        ));
        assert!(!approves_protocol(
            &principal(Role::Educator, region),
            region
        ));
        assert!(reads_all_programs(
            &principal(Role::CouncilMember, region),
            region
        ));
        assert!(!reads_all_programs(
            &principal(Role::Expert, region),
            region
        ));
        let provider = Uuid::now_v7();
        assert!(acts_for_provider(
            &principal(Role::ProviderAdmin, provider),
            provider
        ));
        assert!(!acts_for_provider(
            &principal(Role::ProviderAdmin, provider),
            other
        ));
    }
}
