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
    Availability = "availability": pb::GroupRequest => pb::Availability, background;
    ProgramAvailability = "program_availability": pb::ProgramRequest => pb::ProgramSeats, background;
    FormGroups = "form_groups": pb::FormationRequest => pb::Formation;
    GetFormation = "get_formation": pb::FormationRequest => pb::Formation;
    ListRosters = "list_rosters": pb::ListRostersRequest => pb::RosterList;
    GetRoster = "get_roster": pb::GroupRequest => pb::GroupRoster;
    MergeGroup = "merge_group": pb::MergeGroupRequest => pb::GroupRoster;
    ApplyRoute = "apply_route": pb::RouteRequest => pb::Application, creates;
    SubmitTeam = "submit_team": pb::TeamRequest => pb::Team, creates;
    GetTeam = "get_team": pb::TeamIdRequest => pb::Team;
    DecideTeam = "decide_team": pb::TeamDecisionRequest => pb::Team;
    ListTeams = "list_teams": pb::ListTeamsRequest => pb::TeamList;
}
