//! Groups of the schedule.

use chrono::{Datelike, Months, NaiveDate};
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

/// Checks a group of a program of `kind` with `max_group_size` in the
/// campaign `year`; cumulative programs last at most 6 months.
pub fn validate(
    f: &pb::GroupFields,
    year: i32,
    kind: &str,
    max_group_size: i32,
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
        bad("starts_on", "ожидается дата ГГГГ-ММ-ДД".into());
    }
    if ends.is_none() {
        bad("ends_on", "ожидается дата ГГГГ-ММ-ДД".into());
    }
    if let (Some(s), Some(e)) = (starts, ends) {
        if s.year() != year {
            bad(
                "starts_on",
                format!("даты группы — в пределах {year} года кампании"),
            );
        }
        if e.year() != year {
            bad(
                "ends_on",
                format!("даты группы — в пределах {year} года кампании"),
            );
        }
        if e < s {
            bad("ends_on", "окончание раньше начала".into());
        }
        if kind == "cumulative"
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

    fn fields() -> pb::GroupFields {
        pb::GroupFields {
            starts_on: "2026-02-01".into(),
            ends_on: "2026-02-20".into(),
            online: true,
            capacity: 25,
            min_size: 10,
            ..Default::default()
        }
    }

    #[test]
    fn a_group_within_the_year_and_the_size() {
        assert!(validate(&fields(), 2026, "ordinary", 25).is_ok());
    }

    #[test]
    fn too_large_outside_the_year_and_placeless_groups_are_refused() {
        let mut f = fields();
        f.capacity = 30;
        f.ends_on = "2027-01-10".into();
        f.online = false;
        let fields: Vec<String> = validate(&f, 2026, "ordinary", 25)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            vec!["ends_on", "address", "municipality_id", "capacity"]
        );
    }

    #[test]
    fn cumulative_programs_last_six_months_at_most() {
        let mut f = fields();
        f.ends_on = "2026-09-01".into();
        assert_eq!(
            validate(&f, 2026, "cumulative", 25).unwrap_err()[0].field,
            "ends_on"
        );
        assert!(validate(&f, 2026, "ordinary", 25).is_ok());
    }

    #[test]
    fn the_language_is_one_of_the_list_and_the_address_bounded() {
        let mut f = fields();
        f.language = "klingon".into();
        f.address = "а".repeat(501);
        let errors: Vec<String> = validate(&f, 2026, "ordinary", 25)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(errors, vec!["address", "language"]);
        f.language = " TT ".into();
        f.address = "а".repeat(500);
        assert_eq!(validate(&f, 2026, "ordinary", 25).unwrap().language, "tt");
        f.language = String::new();
        assert_eq!(validate(&f, 2026, "ordinary", 25).unwrap().language, "ru");
    }

    #[test]
    fn capacity_never_exceeds_the_largest_group() {
        let mut f = fields();
        f.capacity = 501;
        // A program stored before the bounds, with an absurd group size.
        assert_eq!(
            validate(&f, 2026, "ordinary", i32::MAX).unwrap_err()[0].field,
            "capacity"
        );
        f.min_size = 0;
        f.capacity = 10;
        assert_eq!(
            validate(&f, 2026, "ordinary", 25).unwrap_err()[0].field,
            "min_size"
        );
    }
}
