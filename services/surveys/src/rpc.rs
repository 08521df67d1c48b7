//! The operations the surveys service answers on `<prefix>.surveys.rpc.<op>.v1`.

use pd_bus::RpcServer;
use pd_proto::ops::surveys as ops;

use crate::{
    SERVICE, State, attempts, catalog, instruments, needs, priorities, responses, windows,
};

pub(crate) fn server(state: State) -> RpcServer<State> {
    RpcServer::new(SERVICE, state)
        .op(ops::GetCompetences, catalog::get)
        .op(ops::ImportCompetences, catalog::import)
        .op(ops::PutCompetence, catalog::put)
        .op(ops::DeleteCompetence, catalog::delete)
        .op(ops::CreateInstrument, instruments::create)
        .op(ops::UpdateInstrument, instruments::update)
        .op(ops::GetInstrument, instruments::get)
        .op(ops::ListInstruments, instruments::list)
        .op(ops::OpenWindow, windows::open)
        .op(ops::GetWindow, windows::get)
        .op(ops::ListWindows, windows::list)
        .op(ops::SubmitResponse, responses::submit)
        .op(ops::GetResponse, responses::get)
        .op(ops::StartAttempt, attempts::start)
        .op(ops::SubmitAttempt, attempts::submit)
        .op(ops::GetAttempt, attempts::get)
        .op(ops::ListAttempts, attempts::list)
        .op(ops::ResponseRates, needs::rates)
        .op(ops::Demand, needs::demand)
        .op(ops::PublishPriorities, priorities::publish)
        .op(ops::GetPriorities, priorities::get)
        .op(ops::Coverage, priorities::coverage)
        .op(ops::PublishCoverageGaps, priorities::publish_gaps)
        .op(ops::Trajectory, priorities::trajectory)
}
