//! The operations the enrollment service answers on `<prefix>.enrollment.rpc.<op>.v1`.

use crate::enrollment::v1 as pb;

crate::operations! {
    service "enrollment";
    Apply = "apply": pb::ApplyRequest => pb::Application, creates;
    GetApplication = "get_application": pb::ApplicationRequest => pb::Application;
    Withdraw = "withdraw": pb::WithdrawRequest => pb::Application;
    MyApplications = "my_applications": pb::MyApplicationsRequest => pb::ApplicationList;
    ListApplications = "list_applications": pb::ListApplicationsRequest => pb::ApplicationList;
    Summary = "summary": pb::SummaryRequest => pb::Summary;
    Availability = "availability": pb::GroupRequest => pb::Availability;
    FormGroups = "form_groups": pb::FormationRequest => pb::Formation;
    GetFormation = "get_formation": pb::FormationRequest => pb::Formation;
    ListRosters = "list_rosters": pb::ListRostersRequest => pb::RosterList;
    GetRoster = "get_roster": pb::GroupRequest => pb::GroupRoster;
    MergeGroup = "merge_group": pb::MergeGroupRequest => pb::GroupRoster;
}
