//! The operations the monitoring service answers on `<prefix>.monitoring.rpc.<op>.v1`.

use crate::monitoring::v1 as pb;

crate::operations! {
    service "monitoring";
    PushCompletions = "push_completions": pb::CompletionBatch => pb::CompletionBatchResult;
    ListCompletions = "list_completions": pb::ListCompletionsRequest => pb::CompletionList;
    ListWindows = "list_windows": pb::ListWindowsRequest => pb::PostCourseWindowList;
    GetWindow = "get_window": pb::CompletionRequest => pb::PostCourseWindow;
    GetRegionSettings = "get_region_settings": pb::RegionSettingsRequest => pb::RegionSettings;
    PutRegionSettings = "put_region_settings": pb::RegionSettings => pb::RegionSettings;
    MyDocuments = "my_documents": pb::MyDocumentsRequest => pb::DocumentList;
    GetDocument = "get_document": pb::DocumentRequest => pb::Document;
    RevokeDocument = "revoke_document": pb::RevokeDocumentRequest => pb::Document;
    Verify = "verify": pb::VerifyRequest => pb::Verification;
    DeclareRecord = "declare_record": pb::DeclareRecordRequest => pb::PdRecord, creates;
    DecideRecord = "decide_record": pb::DecideRecordRequest => pb::PdRecord;
    ListRecords = "list_records": pb::ListRecordsRequest => pb::PdRecordList;
    ExportFrdo = "export_frdo": pb::FrdoExportRequest => pb::FrdoExport;
    Quality = "quality": pb::QualityRequest => pb::QualityReport;
    WindowStates = "window_states": pb::WindowStatesRequest => pb::WindowStates;
}
