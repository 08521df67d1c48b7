//! The operations the monitoring service answers on `<prefix>.monitoring.rpc.<op>.v1`.

use pd_bus::RpcServer;
use pd_proto::ops::monitoring as ops;

use crate::{SERVICE, State, completions, documents, frdo, quality, records, windows};

pub(crate) fn server(state: State) -> RpcServer<State> {
    RpcServer::new(SERVICE, state)
        .op(ops::PushCompletions, completions::push)
        .op(ops::ListCompletions, completions::list)
        .op(ops::ListWindows, windows::list)
        .op(ops::GetWindow, windows::get)
        .op(ops::GetRegionSettings, windows::get_settings)
        .op(ops::PutRegionSettings, windows::put_settings)
        .op(ops::MyDocuments, documents::mine)
        .op(ops::GetDocument, documents::get)
        .op(ops::RevokeDocument, documents::revoke)
        .op(ops::Verify, documents::verify)
        .op(ops::DeclareRecord, records::declare)
        .op(ops::DecideRecord, records::decide)
        .op(ops::ListRecords, records::list)
        .op(ops::ExportFrdo, frdo::export)
        .op(ops::Quality, quality::quality)
        .op(ops::WindowStates, quality::window_states)
}
