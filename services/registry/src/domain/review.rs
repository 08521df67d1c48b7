//! Content review: scores against the campaign's criteria, the choice of
//! experts (balanced by load, never one affiliated with the provider), and
//! the outcome of a program's reviews.

use pd_domain::FieldError;
use pd_proto::registry::v1 as pb;
use std::collections::HashMap;
use uuid::Uuid;

/// The weighted score as a percentage of the maximum; every criterion must
/// be scored once within its range.
pub fn score_percent(
    criteria: &[pb::Criterion],
    scores: &[pb::Score],
) -> Result<f64, Vec<FieldError>> {
    let mut errors = Vec::new();
    let given: HashMap<&str, i32> = scores
        .iter()
        .map(|s| (s.criterion.as_str(), s.score))
        .collect();
    if given.len() != scores.len() {
        errors.push(FieldError {
            field: "scores".into(),
            message: "критерий оценён дважды".into(),
        });
    }
    for s in scores {
        if !criteria.iter().any(|c| c.code == s.criterion) {
            errors.push(FieldError {
                field: format!("scores[{}]", s.criterion),
                message: "нет такого критерия в кампании".into(),
            });
        }
    }
    let (mut got, mut max) = (0.0, 0.0);
    for c in criteria {
        let weight = if c.weight > 0.0 { c.weight } else { 1.0 };
        match given.get(c.code.as_str()) {
            Some(&s) if (0..=c.max_score).contains(&s) => {
                got += weight * f64::from(s);
                max += weight * f64::from(c.max_score);
            }
            Some(_) => errors.push(FieldError {
                field: format!("scores[{}]", c.code),
                message: format!("оценка от 0 до {}", c.max_score),
            }),
            None => errors.push(FieldError {
                field: format!("scores[{}]", c.code),
                message: "критерий не оценён".into(),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if max == 0.0 {
        return Err(vec![FieldError {
            field: "scores".into(),
            message: "у кампании нет критериев".into(),
        }]);
    }
    Ok((got / max * 1000.0).round() / 10.0)
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
                mean: (mean * 10.0).round() / 10.0,
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
    mean_percent + 1e-9 >= threshold_percent && include > exclude
}

#[cfg(test)]
mod tests;
