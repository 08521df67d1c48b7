//! The operations the allocation service answers on `<prefix>.allocation.rpc.<op>.v1`.

use crate::allocation::v1 as pb;

crate::operations! {
    service "allocation";
    ListCandidates = "list_candidates": pb::ListCandidatesRequest => pb::CandidateList;
    ExcludeCandidate = "exclude_candidate": pb::ExcludeCandidateRequest => pb::Candidate;
    IncludeCandidate = "include_candidate": pb::CandidateRequest => pb::Candidate;
    ConfirmList = "confirm_list": pb::OrganizationListRequest => pb::ListState;
    ListStates = "list_states": pb::ListStatesRequest => pb::ListStates;
    SetFunding = "set_funding": pb::SetFundingRequest => pb::Funding;
    GetFunding = "get_funding": pb::CampaignRequest => pb::Funding;
    Allocate = "allocate": pb::CampaignRequest => pb::Allocation, creates;
    ListQuotas = "list_quotas": pb::ListQuotasRequest => pb::QuotaList;
    ListNumbers = "list_numbers": pb::ListNumbersRequest => pb::NumberList;
    CheckNumber = "check_number": pb::NumberRequest => pb::UniqueNumber;
    MyAllocation = "my_allocation": pb::CampaignRequest => pb::MyAllocation;
    RequestRefusal = "request_refusal": pb::RequestRefusalRequest => pb::Refusal, creates;
    DecideRefusal = "decide_refusal": pb::DecideRefusalRequest => pb::Refusal;
    ListRefusals = "list_refusals": pb::ListRefusalsRequest => pb::RefusalList;
    ListFreePlaces = "list_free_places": pb::ListFreePlacesRequest => pb::FreePlaceList;
    Reassign = "reassign": pb::ReassignRequest => pb::UniqueNumber, creates;
}
