//! Who is due for PD in a campaign: an educator whose last completed PD
//! ended more than the region's interval before the campaign year, or who
//! has none (DESIGN.md, stage 1).

use chrono::NaiveDate;

/// The first day a last PD no longer counts: PD that ended before it is
/// more than `interval_years` before the campaign year (1 January of
/// `year − interval`). With a 3-year interval, for the 2027 campaign, PD
/// that ended on 2023-12-31 makes the educator due; PD that ended on
/// 2024-01-01 (exactly three years before 2027) does not.
pub fn cutoff(campaign_year: i32, interval_years: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(campaign_year - interval_years.max(0), 1, 1)
}

pub fn is_due(last_pd: Option<NaiveDate>, campaign_year: i32, interval_years: i32) -> bool {
    match (last_pd, cutoff(campaign_year, interval_years)) {
        (None, _) => true,
        (Some(d), Some(c)) => d < c,
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
    }

    #[test]
    fn exactly_the_interval_is_not_due_a_day_more_is() {
        assert!(!is_due(d("2024-01-01"), 2027, 3));
        assert!(is_due(d("2023-12-31"), 2027, 3));
        assert!(is_due(None, 2027, 3));
        assert!(!is_due(d("2026-05-01"), 2027, 3));
        assert!(is_due(d("2025-12-31"), 2027, 1));
    }
}
