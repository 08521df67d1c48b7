//! The operations the registry answers on `<prefix>.registry.rpc.<op>.v1`.

use pd_bus::RpcServer;

use crate::{SERVICE, State, campaigns, catalog, council, programs, reviews, schedule};

/// The operations that create something and so honour `Idempotency-Key`.
pub(crate) const CREATES: &[&str] = &[
    "create_campaign",
    "create_program",
    "create_session",
    "create_group",
    "submit_review",
];

pub(crate) fn server(state: State) -> RpcServer<State> {
    RpcServer::new(SERVICE, state)
        .route("create_campaign", campaigns::create)
        .route("update_campaign", campaigns::update)
        .route("get_campaign", campaigns::get)
        .route("list_campaigns", campaigns::list)
        .route("set_criteria", campaigns::set_criteria)
        .route("add_expert", campaigns::add_expert)
        .route("list_calendar_changes", campaigns::calendar_changes)
        .route("create_program", programs::create)
        .route("update_program", programs::update)
        .route("get_program", programs::get)
        .route("list_programs", programs::list)
        .route("delete_program", programs::delete)
        .route("submit_program", programs::submit)
        .route("withdraw_program", programs::withdraw)
        .route("technical_review", programs::technical_review)
        .route("list_technical_reviews", programs::technical_history)
        .route("assign_experts", reviews::assign)
        .route("reassign_expert", reviews::reassign)
        .route("list_assignments", reviews::list_assignments)
        .route("decline_review", reviews::decline)
        .route("submit_review", reviews::submit)
        .route("list_reviews", reviews::list)
        .route("create_session", council::create)
        .route("get_session", council::get)
        .route("list_sessions", council::list)
        .route("vote", council::vote)
        .route("close_session", council::close)
        .route("cancel_session", council::cancel)
        .route("get_protocol", council::protocol)
        .route("approve_protocol", council::approve)
        .route("return_protocol", council::return_protocol)
        .route("exclude_program", council::exclude)
        .route("catalog", catalog::catalog)
        .route("create_group", schedule::create)
        .route("update_group", schedule::update)
        .route("cancel_group", schedule::cancel)
        .route("approve_group_cancellation", schedule::approve_cancellation)
        .route("reject_group_cancellation", schedule::reject_cancellation)
        .route("delete_group", schedule::delete)
        .route("list_groups", schedule::list)
        .route("approve_schedule", schedule::approve)
}
