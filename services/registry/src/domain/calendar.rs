//! A campaign's phases: complete, each well-formed, in the order of the
//! cycle and not overlapping.

use chrono::{NaiveDate, TimeZone, Utc};
use pd_calendar::PHASES;
use pd_domain::FieldError;
use pd_proto::registry::v1 as pb;

use crate::messages as msg;

/// A cycle may spill over into the following years (post-course
/// monitoring), but no phase ends later than this many years after the
/// campaign's own.
pub const LAST_YEAR_AFTER: i64 = 2;

#[derive(Debug, Clone, PartialEq)]
pub struct PhaseDates {
    pub phase: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// Checks the phases, reporting each problem with its field path.
pub fn validate(phases: &[pb::Phase], year: i32) -> Result<Vec<PhaseDates>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out: Vec<PhaseDates> = Vec::new();
    let mut bad = |field: String, message: &str| {
        errors.push(FieldError {
            field,
            message: message.to_owned(),
        })
    };
    if phases.len() != PHASES.len() {
        bad(
            "phases".into(),
            "нужны все шесть фаз: needs_survey, program_submission, expert_review, schedule, applications, post_course",
        );
        return Err(errors);
    }
    for (i, p) in phases.iter().enumerate() {
        let field = |f: &str| format!("phases[{i}].{f}");
        if p.phase != PHASES[i] {
            bad(
                field("phase"),
                &format!("ожидается фаза {} (фазы идут в порядке цикла)", PHASES[i]),
            );
            continue;
        }
        // Each date is named by its own field.
        let (s, e) = (date(&p.starts_on), date(&p.ends_on));
        if s.is_none() {
            bad(field("starts_on"), msg::DATE);
        }
        if e.is_none() {
            bad(field("ends_on"), msg::DATE);
        }
        let (Some(s), Some(e)) = (s, e) else {
            continue;
        };
        let last = i64::from(year) + LAST_YEAR_AFTER;
        if i64::from(e.year()) > last {
            bad(field("ends_on"), &msg::phase_years(year.into(), last));
            continue;
        }
        if e < s {
            bad(
                field("ends_on"),
                "фаза заканчивается раньше, чем начинается",
            );
            continue;
        }
        // A cycle may spill into the next year (post-course monitoring),
        // but starts in its own.
        if s.year_ce().1 as i32 != year && i == 0 {
            bad(field("starts_on"), "кампания начинается в своём году");
        }
        if let Some(prev) = out.last()
            && s <= prev.ends_on
        {
            bad(
                field("starts_on"),
                &format!(
                    "фаза {} должна начаться после окончания фазы {}",
                    p.phase, prev.phase
                ),
            );
        }
        out.push(PhaseDates {
            phase: p.phase.clone(),
            starts_on: s,
            ends_on: e,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

use chrono::Datelike;

/// The calendar as an event: each phase with the instants its first day
/// begins and the day after its last begins, in the region's time zone.
pub fn windows(phases: &[PhaseDates], tz: chrono_tz::Tz) -> Vec<pb::PhaseWindow> {
    phases
        .iter()
        .map(|p| {
            let instant = |d: NaiveDate| {
                let local = d.and_hms_opt(0, 0, 0).unwrap_or_default();
                tz.from_local_datetime(&local)
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_else(|| Utc.from_utc_datetime(&local))
                    .to_rfc3339()
            };
            pb::PhaseWindow {
                phase: p.phase.clone(),
                starts_on: p.starts_on.to_string(),
                ends_on: p.ends_on.to_string(),
                opens_at: instant(p.starts_on),
                closes_at: instant(p.ends_on.succ_opt().unwrap_or(p.ends_on)),
            }
        })
        .collect()
}

/// The phases whose dates differ between the calendar as it was and as
/// it is asked to be (phases missing before count as changed).
pub fn changes(old: &[PhaseDates], new: &[PhaseDates]) -> Vec<pb::PhaseChange> {
    new.iter()
        .filter_map(|n| {
            let o = old.iter().find(|o| o.phase == n.phase);
            if o.is_some_and(|o| o == n) {
                return None;
            }
            let show = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
            Some(pb::PhaseChange {
                phase: n.phase.clone(),
                from_starts_on: show(o.map(|o| o.starts_on)),
                from_ends_on: show(o.map(|o| o.ends_on)),
                to_starts_on: n.starts_on.to_string(),
                to_ends_on: n.ends_on.to_string(),
            })
        })
        .collect()
}

/// The phases of `calendar` that had started by `today`.
pub fn started(calendar: &[PhaseDates], today: NaiveDate) -> Vec<String> {
    calendar
        .iter()
        .filter(|p| p.starts_on <= today)
        .map(|p| p.phase.clone())
        .collect()
}

/// Whether a change opens program submission again on or after `today`.
pub fn reopens_submission(changes: &[pb::PhaseChange], today: NaiveDate) -> bool {
    changes.iter().any(|c| {
        c.phase == "program_submission"
            && NaiveDate::parse_from_str(&c.to_ends_on, "%Y-%m-%d").is_ok_and(|e| e >= today)
    })
}

#[cfg(test)]
mod tests;
