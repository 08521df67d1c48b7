//! Individual educational routes of the cumulative model (seed 004: ИОМ,
//! "the set of modules studied within the cumulative system"; training
//! lasts 6 months): a route is one or more distinct modules of a
//! cumulative program, in a group that runs within 6 months, and draws
//! the modules' hours from the organization's plan-order.

use chrono::{Months, NaiveDate};

/// Why a route cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// Routes are made of a cumulative program's modules only.
    NotCumulative,
    NoModules,
    UnknownModule(String),
    RepeatedModule(String),
    /// The group runs longer than the 6 months a route may take.
    LongerThanSixMonths,
}

/// The longest a route may run.
pub const MAX_MONTHS: u32 = 6;

/// The hours of the chosen modules of a cumulative program's group.
pub fn hours(
    program_kind: &str,
    modules: &[(String, i32)],
    chosen: &[String],
    runs: (Option<NaiveDate>, Option<NaiveDate>),
) -> Result<i32, RouteError> {
    if program_kind != "cumulative" || modules.is_empty() {
        return Err(RouteError::NotCumulative);
    }
    if let (Some(starts), Some(ends)) = runs
        && starts
            .checked_add_months(Months::new(MAX_MONTHS))
            .is_none_or(|limit| ends > limit)
    {
        return Err(RouteError::LongerThanSixMonths);
    }
    if chosen.is_empty() {
        return Err(RouteError::NoModules);
    }
    let mut total = 0;
    for (i, name) in chosen.iter().enumerate() {
        let name = name.trim();
        if chosen[..i].iter().any(|c| c.trim() == name) {
            return Err(RouteError::RepeatedModule(name.to_owned()));
        }
        let Some((_, h)) = modules.iter().find(|(m, _)| m == name) else {
            return Err(RouteError::UnknownModule(name.to_owned()));
        };
        total += h;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modules() -> Vec<(String, i32)> {
        vec![
            ("Теория".into(), 16),
            ("Практика".into(), 20),
            ("Проект".into(), 36),
        ]
    }

    fn d(s: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
    }

    #[test]
    fn a_route_sums_its_distinct_modules_within_six_months() {
        let runs = (d("2027-01-15"), d("2027-07-15"));
        let chosen = vec!["Теория".to_owned(), " Проект ".to_owned()];
        assert_eq!(hours("cumulative", &modules(), &chosen, runs), Ok(52));
        let twice = vec!["Теория".to_owned(), "Теория".to_owned()];
        assert_eq!(
            hours("cumulative", &modules(), &twice, runs),
            Err(RouteError::RepeatedModule("Теория".into()))
        );
        let unknown = vec!["Иное".to_owned()];
        assert_eq!(
            hours("cumulative", &modules(), &unknown, runs),
            Err(RouteError::UnknownModule("Иное".into()))
        );
        assert_eq!(
            hours("cumulative", &modules(), &[], runs),
            Err(RouteError::NoModules)
        );
    }

    #[test]
    fn longer_than_six_months_or_not_cumulative_is_no_route() {
        let chosen = vec!["Теория".to_owned()];
        let long = (d("2027-01-15"), d("2027-07-16"));
        assert_eq!(
            hours("cumulative", &modules(), &chosen, long),
            Err(RouteError::LongerThanSixMonths)
        );
        let runs = (d("2027-01-15"), d("2027-02-15"));
        assert_eq!(
            hours("ordinary", &modules(), &chosen, runs),
            Err(RouteError::NotCumulative)
        );
    }
}
