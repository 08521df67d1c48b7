//! The operations the enrollment service answers on `<prefix>.enrollment.rpc.<op>.v1`.

use pd_bus::RpcServer;
use pd_proto::ops::enrollment as ops;

use crate::{SERVICE, State, applications, reports, rosters, seats};

pub(crate) fn server(state: State) -> RpcServer<State> {
    RpcServer::new(SERVICE, state)
        .op(ops::Apply, applications::apply)
        .op(ops::GetApplication, applications::get)
        .op(ops::Withdraw, applications::withdraw)
        .op(ops::MyApplications, applications::mine)
        .op(ops::ListApplications, reports::list)
        .op(ops::Summary, reports::summary)
        .op(ops::Availability, seats::availability)
        .op(ops::FormGroups, rosters::form_now)
        .op(ops::GetFormation, rosters::get_formation)
        .op(ops::ListRosters, rosters::list)
        .op(ops::GetRoster, rosters::get)
        .op(ops::MergeGroup, rosters::merge)
}
