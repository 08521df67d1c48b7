//! Groups of the schedule.

use chrono::{Months, NaiveDate};
use pd_domain::FieldError;
use pd_domain::bounds::{TITLE, too_long};
use pd_proto::registry::v1 as pb;
use uuid::Uuid;

use super::programs::MAX_GROUP_SIZE;
use crate::messages as msg;

/// Languages a group may be taught in: Russian, the languages of the
/// republics (ISO 639 codes) and the common foreign ones.
pub const LANGUAGES: [&str; 23] = [
    "ru", "tt", "ba", "cv", "ce", "sah", "udm", "kv", "mhr", "myv", "mdf", "av", "os", "krc",
    "kbd", "ady", "bua", "tyv", "xal", "alt", "en", "de", "fr",
];
pub const DEFAULT_LANGUAGE: &str = "ru";

/// A checked group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupPlan {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub online: bool,
    pub address: String,
    pub municipality_id: Option<Uuid>,
    pub capacity: i32,
    pub min_size: i32,
    pub language: String,
}

/// When a campaign's groups may run: training follows the December
/// window, so a group starts once the applications phase has opened and
/// ends before the post-course phase ends, whatever the campaign's `year`
/// (a route may cross the new year). Dates are the region's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// The first day of the applications phase.
    pub opens: NaiveDate,
    /// The last day of the post-course phase.
    pub closes: NaiveDate,
    /// Today in the region: no group is planned in the past.
    pub today: NaiveDate,
}

/// Checks a group of a program of `kind` with `max_group_size` against the
/// campaign's `window`; cumulative programs last at most 6 months. A date
/// equal to `stored` (the group's own before a change) may lie in the past.
pub fn validate(
    f: &pb::GroupFields,
    window: &Window,
    kind: &str,
    max_group_size: i32,
    stored: Option<(NaiveDate, NaiveDate)>,
) -> Result<GroupPlan, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut bad = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.to_owned(),
            message,
        })
    };
    let date = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
    let starts = date(&f.starts_on);
    let ends = date(&f.ends_on);
    if starts.is_none() {
        bad("starts_on", msg::DATE.into());
    }
    if ends.is_none() {
        bad("ends_on", msg::DATE.into());
    }
    if let (Some(s), Some(e)) = (starts, ends) {
        let past = |d: NaiveDate, old: Option<NaiveDate>| d < window.today && old != Some(d);
        if past(s, stored.map(|o| o.0)) {
            bad("starts_on", msg::past_date(window.today));
        } else if s < window.opens {
            bad("starts_on", msg::group_starts_before(window.opens));
        }
        if e < s {
            bad("ends_on", "окончание раньше начала".into());
        } else if past(e, stored.map(|o| o.1)) {
            bad("ends_on", msg::past_date(window.today));
        } else if e > window.closes {
            bad("ends_on", msg::group_ends_after(window.closes));
        } else if kind == "cumulative"
            && s.checked_add_months(Months::new(6))
                .is_some_and(|limit| e > limit)
        {
            bad(
                "ends_on",
                "накопительная программа осваивается не более 6 месяцев".into(),
            );
        }
    }
    let municipality_id = if f.municipality_id.trim().is_empty() {
        None
    } else {
        match Uuid::parse_str(f.municipality_id.trim()) {
            Ok(id) => Some(id),
            Err(_) => {
                bad("municipality_id", "ожидается идентификатор (UUID)".into());
                None
            }
        }
    };
    if f.address.trim().chars().count() > TITLE {
        bad("address", too_long(TITLE));
    }
    if !f.online {
        if f.address.trim().is_empty() {
            bad(
                "address",
                "для очной группы нужен адрес (или online: true)".into(),
            );
        }
        if f.municipality_id.trim().is_empty() {
            bad(
                "municipality_id",
                "для очной группы нужен муниципальный район".into(),
            );
        }
    }
    let max_group_size = max_group_size.clamp(1, MAX_GROUP_SIZE);
    if f.capacity < 1 || f.capacity > max_group_size {
        bad(
            "capacity",
            format!("от 1 до {max_group_size} (наибольший размер группы программы)"),
        );
    }
    if f.min_size < 1 || f.min_size > f.capacity.max(1) {
        bad("min_size", "от 1 до вместимости группы".into());
    }
    let language = if f.language.trim().is_empty() {
        DEFAULT_LANGUAGE.to_owned()
    } else {
        f.language.trim().to_ascii_lowercase()
    };
    if !LANGUAGES.contains(&language.as_str()) {
        bad("language", msg::one_of(&LANGUAGES));
    }
    let (Some(starts_on), Some(ends_on)) = (starts, ends) else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(GroupPlan {
        starts_on,
        ends_on,
        online: f.online,
        address: f.address.trim().to_owned(),
        municipality_id,
        capacity: f.capacity,
        min_size: f.min_size,
        language,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// A 2026 campaign: applications open on 2026-12-07, post-course
    /// monitoring ends on 2027-06-30; today is 2026-11-20.
    fn window() -> Window {
        Window {
            opens: d("2026-12-07"),
            closes: d("2027-06-30"),
            today: d("2026-11-20"),
        }
    }

    fn fields() -> pb::GroupFields {
        pb::GroupFields {
            starts_on: "2027-02-01".into(),
            ends_on: "2027-02-20".into(),
            online: true,
            capacity: 25,
            min_size: 10,
            ..Default::default()
        }
    }

    fn check(f: &pb::GroupFields, kind: &str, max: i32) -> Result<GroupPlan, Vec<FieldError>> {
        validate(f, &window(), kind, max, None)
    }

    fn fields_of(r: Result<GroupPlan, Vec<FieldError>>) -> Vec<String> {
        r.unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_group_of_the_next_year_within_the_window_and_the_size() {
        assert!(check(&fields(), "ordinary", 25).is_ok());
    }

    #[test]
    fn a_route_crosses_the_new_year() {
        let mut f = fields();
        f.starts_on = "2026-12-20".into();
        f.ends_on = "2027-03-20".into();
        assert!(check(&f, "cumulative", 25).is_ok());
    }

    #[test]
    fn groups_outside_the_window_or_in_the_past_are_refused() {
        let mut f = fields();
        f.starts_on = "2026-12-01".into();
        f.ends_on = "2027-07-10".into();
        assert_eq!(
            fields_of(check(&f, "ordinary", 25)),
            ["starts_on", "ends_on"]
        );
        f.starts_on = "2026-11-01".into();
        f.ends_on = "2026-11-10".into();
        let errors = check(&f, "ordinary", 25).unwrap_err();
        assert!(errors[0].message.contains("20.11.2026"), "{errors:?}");
        assert_eq!(errors.len(), 2);
        // A group that has started keeps its dates through a change.
        let stored = Some((d("2026-11-01"), d("2026-11-10")));
        let mut w = window();
        w.opens = d("2026-10-01");
        assert!(validate(&f, &w, "ordinary", 25, stored).is_ok());
    }

    #[test]
    fn too_large_and_placeless_groups_are_refused() {
        let mut f = fields();
        f.capacity = 30;
        f.online = false;
        assert_eq!(
            fields_of(check(&f, "ordinary", 25)),
            vec!["address", "municipality_id", "capacity"]
        );
    }

    #[test]
    fn cumulative_programs_last_six_months_at_most() {
        let mut f = fields();
        f.starts_on = "2026-12-10".into();
        f.ends_on = "2027-06-20".into();
        assert_eq!(fields_of(check(&f, "cumulative", 25)), ["ends_on"]);
        assert!(check(&f, "ordinary", 25).is_ok());
    }

    #[test]
    fn the_language_is_one_of_the_list_and_the_address_bounded() {
        let mut f = fields();
        f.language = "klingon".into();
        f.address = "а".repeat(501);
        assert_eq!(
            fields_of(check(&f, "ordinary", 25)),
            vec!["address", "language"]
        );
        f.language = " TT ".into();
        f.address = "а".repeat(500);
        assert_eq!(check(&f, "ordinary", 25).unwrap().language, "tt");
        f.language = String::new();
        assert_eq!(check(&f, "ordinary", 25).unwrap().language, "ru");
    }

    #[test]
    fn capacity_never_exceeds_the_largest_group() {
        let mut f = fields();
        f.capacity = 501;
        // A program stored before the bounds, with an absurd group size.
        assert_eq!(fields_of(check(&f, "ordinary", i32::MAX)), ["capacity"]);
        f.min_size = 0;
        f.capacity = 10;
        assert_eq!(fields_of(check(&f, "ordinary", 25)), ["min_size"]);
    }
}
