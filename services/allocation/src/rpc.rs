//! The operations the allocation service answers on `<prefix>.allocation.rpc.<op>.v1`.

use pd_bus::RpcServer;
use pd_proto::ops::allocation as ops;

use crate::{SERVICE, State, candidates, funding, numbers, refusals};

pub(crate) fn server(state: State) -> RpcServer<State> {
    RpcServer::new(SERVICE, state)
        .op(ops::ListCandidates, candidates::list)
        .op(ops::ExcludeCandidate, candidates::exclude)
        .op(ops::IncludeCandidate, candidates::include)
        .op(ops::ConfirmList, candidates::confirm)
        .op(ops::ListStates, candidates::list_states)
        .op(ops::SetFunding, funding::set)
        .op(ops::GetFunding, funding::get)
        .op(ops::Allocate, funding::allocate)
        .op(ops::ListQuotas, funding::list_quotas)
        .op(ops::ListNumbers, numbers::list)
        .op(ops::CheckNumber, numbers::check)
        .op(ops::MyAllocation, numbers::mine)
        .op(ops::RequestRefusal, refusals::request)
        .op(ops::DecideRefusal, refusals::decide)
        .op(ops::ListRefusals, refusals::list)
        .op(ops::ListFreePlaces, refusals::list_places)
        .op(ops::Reassign, refusals::reassign)
}
