//! The operations the registry answers on `<prefix>.registry.rpc.<op>.v1`.

use pd_bus::RpcServer;
use pd_proto::ops::registry as ops;

use crate::{SERVICE, State, campaigns, catalog, council, programs, reviews, schedule};

pub(crate) fn server(state: State) -> RpcServer<State> {
    RpcServer::new(SERVICE, state)
        .op(ops::CreateCampaign, campaigns::create)
        .op(ops::UpdateCampaign, campaigns::update)
        .op(ops::GetCampaign, campaigns::get)
        .op(ops::ListCampaigns, campaigns::list)
        .op(ops::SetCriteria, campaigns::set_criteria)
        .op(ops::AddExpert, campaigns::add_expert)
        .op(ops::ListCalendarChanges, campaigns::calendar_changes)
        .op(ops::CreateProgram, programs::create)
        .op(ops::UpdateProgram, programs::update)
        .op(ops::GetProgram, programs::get)
        .op(ops::ListPrograms, programs::list)
        .op(ops::DeleteProgram, programs::delete)
        .op(ops::SubmitProgram, programs::submit)
        .op(ops::WithdrawProgram, programs::withdraw)
        .op(ops::TechnicalReview, programs::technical_review)
        .op(ops::ListTechnicalReviews, programs::technical_history)
        .op(ops::AssignExperts, reviews::assign)
        .op(ops::ReassignExpert, reviews::reassign)
        .op(ops::ListAssignments, reviews::list_assignments)
        .op(ops::DeclineReview, reviews::decline)
        .op(ops::SubmitReview, reviews::submit)
        .op(ops::ListReviews, reviews::list)
        .op(ops::CreateSession, council::create)
        .op(ops::GetSession, council::get)
        .op(ops::ListSessions, council::list)
        .op(ops::Vote, council::vote)
        .op(ops::CloseSession, council::close)
        .op(ops::CancelSession, council::cancel)
        .op(ops::GetProtocol, council::protocol)
        .op(ops::ApproveProtocol, council::approve)
        .op(ops::ReturnProtocol, council::return_protocol)
        .op(ops::ExcludeProgram, council::exclude)
        .op(ops::Catalog, catalog::catalog)
        .op(ops::CreateGroup, schedule::create)
        .op(ops::UpdateGroup, schedule::update)
        .op(ops::CancelGroup, schedule::cancel)
        .op(
            ops::ApproveGroupCancellation,
            schedule::approve_cancellation,
        )
        .op(ops::RejectGroupCancellation, schedule::reject_cancellation)
        .op(ops::DeleteGroup, schedule::delete)
        .op(ops::ListGroups, schedule::list)
        .op(ops::ApproveSchedule, schedule::approve)
}
