use super::*;

fn phases(dates: [(&str, &str); 6]) -> Vec<pb::Phase> {
    PHASES
        .iter()
        .zip(dates)
        .map(|(p, (s, e))| pb::Phase {
            phase: (*p).into(),
            starts_on: s.into(),
            ends_on: e.into(),
        })
        .collect()
}

const TATARSTAN_2026: [(&str, &str); 6] = [
    ("2026-09-07", "2026-09-25"),
    ("2026-10-01", "2026-10-31"),
    ("2026-11-01", "2026-11-30"),
    ("2026-12-01", "2026-12-06"),
    ("2026-12-07", "2026-12-25"),
    ("2027-01-10", "2027-12-20"),
];

#[test]
fn the_tatarstan_calendar_is_valid() {
    assert_eq!(validate(&phases(TATARSTAN_2026), 2026).unwrap().len(), 6);
}

#[test]
fn overlapping_reversed_and_missing_phases_are_refused() {
    let mut d = TATARSTAN_2026;
    d[2] = ("2026-10-20", "2026-11-30");
    let e = validate(&phases(d), 2026).unwrap_err();
    assert_eq!(e[0].field, "phases[2].starts_on");

    let mut d = TATARSTAN_2026;
    d[1] = ("2026-10-31", "2026-10-01");
    assert_eq!(
        validate(&phases(d), 2026).unwrap_err()[0].field,
        "phases[1].ends_on"
    );

    let mut p = phases(TATARSTAN_2026);
    p.swap(1, 2);
    assert_eq!(validate(&p, 2026).unwrap_err()[0].field, "phases[1].phase");
    assert_eq!(validate(&p[..5], 2026).unwrap_err()[0].field, "phases");
}

#[test]
fn windows_follow_the_region_time_zone() {
    let p = validate(&phases(TATARSTAN_2026), 2026).unwrap();
    let w = windows(&p, chrono_tz::Europe::Moscow);
    assert_eq!(w[1].opens_at, "2026-09-30T21:00:00+00:00");
    assert_eq!(w[1].closes_at, "2026-10-31T21:00:00+00:00");
}

#[test]
fn each_bad_date_names_its_own_field() {
    let mut d = TATARSTAN_2026;
    d[0] = ("2026-09-07", "2026-13-45");
    assert_eq!(
        validate(&phases(d), 2026).unwrap_err()[0].field,
        "phases[0].ends_on"
    );
    let mut d = TATARSTAN_2026;
    d[3] = ("someday", "2026-12-06");
    assert_eq!(
        validate(&phases(d), 2026).unwrap_err()[0].field,
        "phases[3].starts_on"
    );
}

#[test]
fn phases_end_within_two_years_after_the_campaign() {
    let mut d = TATARSTAN_2026;
    d[5] = ("2027-01-10", "2028-12-31");
    assert!(validate(&phases(d), 2026).is_ok());
    d[5] = ("2027-01-10", "+12345-01-01");
    let e = validate(&phases(d), 2026).unwrap_err();
    assert_eq!(e[0].field, "phases[5].ends_on");
    d[5] = ("2027-01-10", "9999-12-31");
    let e = validate(&phases(d), 2026).unwrap_err();
    assert_eq!(e[0].field, "phases[5].ends_on");
}

#[test]
fn changes_name_the_moved_phases_and_whether_submission_reopens() {
    let old = validate(&phases(TATARSTAN_2026), 2026).unwrap();
    let mut d = TATARSTAN_2026;
    d[1] = ("2026-10-01", "2026-11-02");
    d[2] = ("2026-11-03", "2026-11-30");
    let new = validate(&phases(d), 2026).unwrap();
    let c = changes(&old, &new);
    let moved: Vec<&str> = c.iter().map(|c| c.phase.as_str()).collect();
    assert_eq!(moved, ["program_submission", "expert_review"]);
    assert_eq!(
        (c[0].from_ends_on.as_str(), c[0].to_ends_on.as_str()),
        ("2026-10-31", "2026-11-02")
    );
    let today = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    assert!(reopens_submission(&c, today));
    assert!(!reopens_submission(&c[1..], today));
    assert_eq!(
        started(&old, today),
        ["needs_survey", "program_submission", "expert_review"]
    );
    assert!(changes(&old, &old).is_empty());
}
