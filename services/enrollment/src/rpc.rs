//! The operations the enrollment service answers on `<prefix>.enrollment.rpc.<op>.v1`.

use pd_bus::RpcServer;
use pd_proto::ops::enrollment as ops;

use crate::{SERVICE, State, applications, reports, rosters, routes, seats, teams};

pub(crate) fn server(state: State) -> RpcServer<State> {
    RpcServer::new(SERVICE, state)
        .op(ops::Apply, applications::apply)
        .op(ops::GetApplication, applications::get)
        .op(ops::Withdraw, applications::withdraw)
        .op(ops::MyApplications, applications::mine)
        .op(ops::ListApplications, reports::list)
        .op(ops::Summary, reports::summary)
        .op(ops::Availability, seats::availability)
        .op(ops::ProgramAvailability, seats::program_availability)
        .op(ops::FormGroups, rosters::form_now)
        .op(ops::GetFormation, rosters::get_formation)
        .op(ops::ListRosters, rosters::list)
        .op(ops::GetRoster, rosters::get)
        .op(ops::MergeGroup, rosters::merge)
        .op(ops::ApplyRoute, routes::apply)
        .op(ops::SubmitTeam, teams::submit)
        .op(ops::GetTeam, teams::get)
        .op(ops::DecideTeam, teams::decide)
        .op(ops::ListTeams, teams::list)
}
