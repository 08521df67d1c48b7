//! Content review: scores against the campaign's criteria, the choice of
//! experts (balanced by load, never one affiliated with the provider), and
//! the outcome of a program's reviews.

use pd_domain::FieldError;
use pd_domain::bounds::{CODE, NAME, TEXT, too_many};
use pd_domain::error::Validator;
use pd_proto::registry::v1 as pb;
use std::collections::HashMap;
use uuid::Uuid;

use crate::messages as msg;

/// Criteria of a campaign, at most.
pub const MAX_CRITERIA: usize = 50;
/// The highest score of a criterion.
pub const MAX_SCORE: i32 = 100;
/// The heaviest weight of a criterion.
pub const MAX_WEIGHT: f64 = 100.0;
/// The weight of a criterion given none (0).
pub const DEFAULT_WEIGHT: f64 = 1.0;

/// A number fit for a reply: JSON has no NaN or infinity, and a score
/// that is not a number helps nobody.
pub fn finite(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

/// A criterion's weight as scores use it: the default for 0, never more
/// than the maximum (weights stored before the bounds existed included).
fn weight(c: &pb::Criterion) -> f64 {
    if c.weight > 0.0 && c.weight.is_finite() {
        c.weight.min(MAX_WEIGHT)
    } else {
        DEFAULT_WEIGHT
    }
}

/// Checks the criteria of a campaign and its pass threshold; returns them
/// trimmed, each with its weight (0 means the default, 1).
pub fn validate_criteria(
    criteria: &[pb::Criterion],
    pass_threshold_percent: f64,
) -> Result<Vec<pb::Criterion>, Vec<FieldError>> {
    let mut v = Validator::new();
    if criteria.is_empty() {
        v.add("criteria", msg::CRITERIA_REQUIRED);
    } else if criteria.len() > MAX_CRITERIA {
        v.add("criteria", too_many(MAX_CRITERIA));
    }
    let mut out = Vec::new();
    if criteria.len() <= MAX_CRITERIA {
        let mut codes = std::collections::HashSet::new();
        for (i, c) in criteria.iter().enumerate() {
            let field = |f: &str| format!("criteria[{i}].{f}");
            let code = c.code.trim();
            if code.is_empty() || !codes.insert(code) {
                v.add(field("code"), msg::CRITERION_CODE);
            } else {
                v.max_len(&field("code"), code, CODE);
            }
            let name = c.name.trim();
            if name.is_empty() {
                v.add(field("name"), msg::REQUIRED);
            } else {
                v.max_len(&field("name"), name, NAME);
            }
            let max_ok = v.in_range(&field("max_score"), c.max_score.into(), 1, MAX_SCORE.into());
            let top = if max_ok { c.max_score } else { MAX_SCORE };
            if !(0..=top).contains(&c.min_score) {
                v.add(field("min_score"), msg::MIN_SCORE);
            }
            // 0 is "not given": the default weight.
            let w = if c.weight == 0.0 {
                DEFAULT_WEIGHT
            } else {
                c.weight
            };
            if !(w.is_finite() && w > 0.0 && w <= MAX_WEIGHT) {
                v.add(field("weight"), msg::WEIGHT);
            }
            out.push(pb::Criterion {
                code: code.to_owned(),
                name: name.to_owned(),
                max_score: c.max_score,
                weight: w,
                min_score: c.min_score,
            });
        }
    }
    v.in_range_f64("pass_threshold_percent", pass_threshold_percent, 0.0, 100.0);
    if v.is_empty() {
        Ok(out)
    } else {
        Err(v.into_fields())
    }
}

/// An expert's conclusion and comment.
pub fn validate_conclusion(conclusion: &str, comment: &str) -> Vec<FieldError> {
    let mut v = Validator::new();
    if !["include", "exclude"].contains(&conclusion.trim()) {
        v.add("conclusion", msg::CONCLUSION);
    }
    v.max_len("comment", comment.trim(), TEXT);
    v.into_fields()
}

/// The weighted score as a percentage of the maximum; every criterion must
/// be scored once within its range.
pub fn score_percent(
    criteria: &[pb::Criterion],
    scores: &[pb::Score],
) -> Result<f64, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut bad = |field: String, message: String| errors.push(FieldError { field, message });
    if scores.len() > criteria.len().max(MAX_CRITERIA) {
        bad("scores".into(), too_many(criteria.len().max(MAX_CRITERIA)));
        return Err(errors);
    }
    let given: HashMap<&str, i32> = scores
        .iter()
        .map(|s| (s.criterion.as_str(), s.score))
        .collect();
    if given.len() != scores.len() {
        bad("scores".into(), msg::SCORE_TWICE.into());
    }
    for s in scores {
        if !criteria.iter().any(|c| c.code == s.criterion) {
            // A code no criterion could have is not repeated in the field name.
            let field = if s.criterion.chars().count() <= CODE {
                format!("scores[{}]", s.criterion)
            } else {
                "scores".to_owned()
            };
            bad(field, msg::SCORE_UNKNOWN.into());
        }
    }
    let (mut got, mut max) = (0.0, 0.0);
    for c in criteria {
        let weight = weight(c);
        match given.get(c.code.as_str()) {
            Some(&s) if (0..=c.max_score).contains(&s) => {
                got += weight * f64::from(s);
                max += weight * f64::from(c.max_score);
            }
            Some(_) => bad(format!("scores[{}]", c.code), msg::score_range(c.max_score)),
            None => bad(format!("scores[{}]", c.code), msg::SCORE_MISSING.into()),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let percent = (got / max * 1000.0).round() / 10.0;
    if max <= 0.0 || !percent.is_finite() {
        return Err(vec![FieldError {
            field: "scores".into(),
            message: msg::NO_CRITERIA.into(),
        }]);
    }
    Ok(percent.clamp(0.0, 100.0))
}

/// An expert of the campaign's pool.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: Uuid,
    pub affiliated: Vec<Uuid>,
    /// Programs assigned to them in this campaign so far.
    pub load: usize,
}

/// Picks `n` experts for a program of `provider`, least loaded first,
/// skipping the affiliated and those already on it. `None` if too few.
pub fn pick(
    candidates: &[Candidate],
    provider: Uuid,
    already: &[Uuid],
    n: usize,
) -> Option<Vec<Uuid>> {
    let mut eligible: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| !c.affiliated.contains(&provider) && !already.contains(&c.id))
        .collect();
    eligible.sort_by_key(|c| (c.load, c.id));
    (eligible.len() >= n).then(|| eligible.iter().take(n).map(|c| c.id).collect())
}

/// The experts' mean on each criterion, in the campaign's order.
pub fn criterion_means(
    criteria: &[pb::Criterion],
    reviews: &[HashMap<String, i32>],
) -> Vec<pb::CriterionMean> {
    criteria
        .iter()
        .map(|c| {
            let scores: Vec<f64> = reviews
                .iter()
                .filter_map(|r| r.get(&c.code))
                .map(|s| f64::from(*s))
                .collect();
            let mean = if scores.is_empty() {
                0.0
            } else {
                scores.iter().sum::<f64>() / scores.len() as f64
            };
            pb::CriterionMean {
                criterion: c.code.clone(),
                mean: finite((mean * 10.0).round() / 10.0),
                name: c.name.clone(),
            }
        })
        .collect()
}

/// Whether every criterion with a minimum reaches it on average.
pub fn meets_minimums(criteria: &[pb::Criterion], means: &[pb::CriterionMean]) -> bool {
    criteria.iter().all(|c| {
        c.min_score <= 0
            || means
                .iter()
                .find(|m| m.criterion == c.code)
                .is_some_and(|m| m.mean + 1e-9 >= f64::from(c.min_score))
    })
}

/// A program passes content review when the experts' mean score reaches the
/// threshold and more of them conclude "include" than "exclude".
pub fn passes(mean_percent: f64, include: i32, exclude: i32, threshold_percent: f64) -> bool {
    finite(mean_percent) + 1e-9 >= finite(threshold_percent) && include > exclude
}

#[cfg(test)]
mod tests;
