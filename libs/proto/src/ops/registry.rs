//! The operations the registry service answers on `<prefix>.registry.rpc.<op>.v1`:
//! name, request and reply declared once, used by the service's routes and
//! by every caller. `creates`: the operation honours `Idempotency-Key`.

use crate::common::v1::{Empty, IdRequest};
use crate::registry::v1 as pb;

crate::operations! {
    service "registry";
    CreateCampaign = "create_campaign": pb::CreateCampaignRequest => pb::Campaign, creates;
    UpdateCampaign = "update_campaign": pb::UpdateCampaignRequest => pb::Campaign;
    GetCampaign = "get_campaign": IdRequest => pb::Campaign;
    ListCampaigns = "list_campaigns": pb::ListCampaignsRequest => pb::CampaignList;
    SetCriteria = "set_criteria": pb::SetCriteriaRequest => pb::Campaign;
    AddExpert = "add_expert": pb::AddExpertRequest => pb::Campaign;
    ListCalendarChanges = "list_calendar_changes": IdRequest => pb::CalendarChangeList;
    CreateProgram = "create_program": pb::CreateProgramRequest => pb::Program, creates;
    UpdateProgram = "update_program": pb::UpdateProgramRequest => pb::Program;
    GetProgram = "get_program": pb::ProgramActionRequest => pb::Program;
    ListPrograms = "list_programs": pb::ListProgramsRequest => pb::ProgramList;
    DeleteProgram = "delete_program": pb::ProgramActionRequest => Empty;
    SubmitProgram = "submit_program": pb::ProgramActionRequest => pb::Program;
    WithdrawProgram = "withdraw_program": pb::ProgramActionRequest => pb::Program;
    TechnicalReview = "technical_review": pb::TechnicalReviewRequest => pb::Program;
    ListTechnicalReviews = "list_technical_reviews": pb::ProgramActionRequest => pb::TechnicalReviewHistory;
    AssignExperts = "assign_experts": pb::AssignExpertsRequest => pb::AssignmentList;
    ReassignExpert = "reassign_expert": pb::ReassignRequest => pb::AssignmentList;
    ListAssignments = "list_assignments": pb::ListAssignmentsRequest => pb::AssignmentList;
    DeclineReview = "decline_review": pb::DeclineReviewRequest => pb::Assignment;
    SubmitReview = "submit_review": pb::SubmitReviewRequest => pb::Review, creates;
    ListReviews = "list_reviews": pb::ProgramActionRequest => pb::ReviewList;
    CreateSession = "create_session": pb::CreateSessionRequest => pb::CouncilSession, creates;
    GetSession = "get_session": pb::SessionActionRequest => pb::CouncilSession;
    ListSessions = "list_sessions": pb::ListSessionsRequest => pb::SessionList;
    Vote = "vote": pb::VoteRequest => pb::CouncilSession;
    CloseSession = "close_session": pb::CloseSessionRequest => pb::Protocol;
    CancelSession = "cancel_session": pb::SessionActionRequest => pb::CouncilSession;
    GetProtocol = "get_protocol": pb::SessionActionRequest => pb::Protocol;
    ApproveProtocol = "approve_protocol": pb::SessionActionRequest => pb::Protocol;
    ReturnProtocol = "return_protocol": pb::ReturnProtocolRequest => pb::CouncilSession;
    ExcludeProgram = "exclude_program": pb::ExcludeProgramRequest => pb::Protocol;
    Catalog = "catalog": pb::CatalogRequest => pb::Catalog;
    CreateGroup = "create_group": pb::CreateGroupRequest => pb::Group, creates;
    UpdateGroup = "update_group": pb::UpdateGroupRequest => pb::Group;
    CancelGroup = "cancel_group": pb::CancelGroupRequest => pb::Group;
    ApproveGroupCancellation = "approve_group_cancellation": pb::GroupDecisionRequest => pb::Group;
    RejectGroupCancellation = "reject_group_cancellation": pb::GroupDecisionRequest => pb::Group;
    DeleteGroup = "delete_group": pb::GroupActionRequest => Empty;
    ListGroups = "list_groups": pb::ListGroupsRequest => pb::GroupList;
    ApproveSchedule = "approve_schedule": pb::ApproveScheduleRequest => pb::GroupList;
}
