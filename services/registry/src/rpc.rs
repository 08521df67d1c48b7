//! The operations the registry answers on `<prefix>.registry.rpc.<op>.v1`.

use pd_bus::RpcServer;

use crate::{SERVICE, State, campaigns, catalog, council, programs, reviews, schedule};

pub(crate) fn server(state: State) -> RpcServer<State> {
    RpcServer::new(SERVICE, state)
        .route("create_campaign", campaigns::create)
        .route("update_campaign", campaigns::update)
        .route("get_campaign", campaigns::get)
        .route("list_campaigns", campaigns::list)
        .route("set_criteria", campaigns::set_criteria)
        .route("add_expert", campaigns::add_expert)
        .route("create_program", programs::create)
        .route("update_program", programs::update)
        .route("get_program", programs::get)
        .route("list_programs", programs::list)
        .route("submit_program", programs::submit)
        .route("withdraw_program", programs::withdraw)
        .route("technical_review", programs::technical_review)
        .route("assign_experts", reviews::assign)
        .route("reassign_expert", reviews::reassign)
        .route("submit_review", reviews::submit)
        .route("list_reviews", reviews::list)
        .route("create_session", council::create)
        .route("get_session", council::get)
        .route("vote", council::vote)
        .route("close_session", council::close)
        .route("cancel_session", council::cancel)
        .route("get_protocol", council::protocol)
        .route("approve_protocol", council::approve)
        .route("catalog", catalog::catalog)
        .route("create_group", schedule::create)
        .route("update_group", schedule::update)
        .route("cancel_group", schedule::cancel)
        .route("list_groups", schedule::list)
        .route("approve_schedule", schedule::approve)
}
