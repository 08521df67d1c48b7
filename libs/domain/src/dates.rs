//! Dates entered by people: what "not in the future" means at an instant.

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// The easternmost offset of Russia's time zones (Kamchatka, UTC+12).
const EASTERNMOST_OFFSET_HOURS: i64 = 12;

/// The latest date that is today somewhere in Russia at `now`: a date on
/// a document or in a personnel record may be this one and no later, so
/// that an operator in Petropavlovsk-Kamchatsky can enter today's date
/// while it is still yesterday in UTC, and nobody can enter tomorrow's.
pub fn latest_today(now: DateTime<Utc>) -> NaiveDate {
    (now + Duration::hours(EASTERNMOST_OFFSET_HOURS)).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_new_day_counts_from_midnight_in_kamchatka() {
        // 23:59 in Kamchatka on 31 December, 14:59 in Moscow.
        assert_eq!(latest_today(at("2026-12-31T11:59:59Z")), date("2026-12-31"));
        // Midnight in Kamchatka: 1 January there, still 31 December in Moscow.
        assert_eq!(latest_today(at("2026-12-31T12:00:00Z")), date("2027-01-01"));
        // Nowhere in Russia is it 2 January before midnight UTC+12.
        assert_eq!(latest_today(at("2027-01-01T11:59:59Z")), date("2027-01-01"));
    }
}
