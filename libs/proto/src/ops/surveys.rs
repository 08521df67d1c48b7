//! The operations the surveys service answers on `<prefix>.surveys.rpc.<op>.v1`:
//! name, request and reply declared once, used by the service's routes and
//! by every caller. `creates`: the operation honours `Idempotency-Key`.

use crate::common::v1::Empty;
use crate::surveys::v1 as pb;

crate::operations! {
    service "surveys";
    GetCompetences = "get_competences": pb::CampaignRequest => pb::CompetenceCatalog;
    ImportCompetences = "import_competences": pb::ImportCompetencesRequest => pb::CompetenceImport;
    PutCompetence = "put_competence": pb::PutCompetenceRequest => pb::CompetenceCatalog;
    DeleteCompetence = "delete_competence": pb::DeleteCompetenceRequest => Empty;
    CreateInstrument = "create_instrument": pb::SaveInstrumentRequest => pb::Instrument, creates;
    UpdateInstrument = "update_instrument": pb::SaveInstrumentRequest => pb::Instrument;
    GetInstrument = "get_instrument": pb::GetInstrumentRequest => pb::Instrument;
    ListInstruments = "list_instruments": pb::ListInstrumentsRequest => pb::InstrumentList;
    OpenWindow = "open_window": pb::OpenWindowRequest => pb::Window, creates;
    GetWindow = "get_window": pb::WindowRequest => pb::Window;
    ListWindows = "list_windows": pb::ListWindowsRequest => pb::WindowList;
    SubmitResponse = "submit_response": pb::SubmitResponseRequest => pb::Response;
    GetResponse = "get_response": pb::WindowRequest => pb::Response;
    StartAttempt = "start_attempt": pb::WindowRequest => pb::Attempt, creates;
    SubmitAttempt = "submit_attempt": pb::SubmitAttemptRequest => pb::Attempt;
    GetAttempt = "get_attempt": pb::AttemptRequest => pb::Attempt;
    ListAttempts = "list_attempts": pb::WindowRequest => pb::AttemptList;
    ResponseRates = "response_rates": pb::ScopeRequest => pb::ResponseRates;
    Demand = "demand": pb::DemandRequest => pb::Demand;
    PublishPriorities = "publish_priorities": pb::PublishPrioritiesRequest => pb::Priorities;
    GetPriorities = "get_priorities": pb::CampaignRequest => pb::Priorities;
    Coverage = "coverage": pb::CampaignRequest => pb::Coverage;
    PublishCoverageGaps = "publish_coverage_gaps": pb::CampaignRequest => pb::Coverage;
    Trajectory = "trajectory": pb::TrajectoryRequest => pb::Trajectory;
}
