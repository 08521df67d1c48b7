//! Who is due for PD in a campaign: an educator whose last completed PD
//! ended more than the region's interval before the year they would train
//! in, or who has none (DESIGN.md, stage 1). A campaign's year is the year
//! its cycle starts (the September survey); its training runs after the
//! December window, in the next year, and the seeds pick candidates "for
//! the coming year" (seed 001) and "for that calendar year" (seed 002).

use chrono::NaiveDate;

/// The year a campaign's educators train in: the one after its own.
pub fn training_year(campaign_year: i32) -> i32 {
    campaign_year + 1
}

/// The first day a last PD no longer counts: PD that ended before it is
/// more than `interval_years` before the training year (1 January of
/// `training year − interval`). With a 3-year interval, for the 2026
/// campaign (training in 2027), PD that ended on 2023-12-31 makes the
/// educator due; PD that ended on 2024-01-01 (exactly three years before
/// 2027) does not. The SQL of `candidates::refresh` says the same.
pub fn cutoff(campaign_year: i32, interval_years: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(training_year(campaign_year) - interval_years.max(0), 1, 1)
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
    fn exactly_the_interval_before_training_is_not_due_a_day_more_is() {
        // The 2026 campaign trains in 2027.
        assert!(!is_due(d("2024-01-01"), 2026, 3));
        assert!(is_due(d("2023-12-31"), 2026, 3));
        // Trained in March 2023: three and a half years before the survey,
        // due for the coming year.
        assert!(is_due(d("2023-03-15"), 2026, 3));
        assert!(is_due(None, 2026, 3));
        assert!(!is_due(d("2026-05-01"), 2026, 3));
        assert!(is_due(d("2025-12-31"), 2026, 1));
        assert!(!is_due(d("2026-01-01"), 2026, 1));
    }
}
