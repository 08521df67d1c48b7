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
mod tests {
    use super::*;

    fn criteria() -> Vec<pb::Criterion> {
        vec![
            pb::Criterion {
                code: "relevance".into(),
                name: "Актуальность".into(),
                max_score: 10,
                weight: 2.0,
                ..Default::default()
            },
            pb::Criterion {
                code: "content".into(),
                name: "Содержание".into(),
                max_score: 5,
                weight: 0.0,
                ..Default::default()
            },
        ]
    }

    fn score(c: &str, s: i32) -> pb::Score {
        pb::Score {
            criterion: c.into(),
            score: s,
        }
    }

    #[test]
    fn weighted_percentages() {
        // (2*8 + 1*5) / (2*10 + 1*5) = 21/25
        assert_eq!(
            score_percent(&criteria(), &[score("relevance", 8), score("content", 5)]).unwrap(),
            84.0
        );
    }

    #[test]
    fn missing_unknown_and_out_of_range_scores_are_named() {
        let e =
            score_percent(&criteria(), &[score("relevance", 11), score("style", 1)]).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["scores[style]", "scores[relevance]", "scores[content]"]
        );
    }

    #[test]
    fn experts_are_balanced_and_never_affiliated() {
        let provider = Uuid::now_v7();
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let pool = vec![
            Candidate {
                id: a,
                affiliated: vec![provider],
                load: 0,
            },
            Candidate {
                id: b,
                affiliated: vec![],
                load: 3,
            },
            Candidate {
                id: c,
                affiliated: vec![],
                load: 1,
            },
        ];
        assert_eq!(pick(&pool, provider, &[], 2), Some(vec![c, b]));
        assert_eq!(pick(&pool, provider, &[], 3), None);
        assert_eq!(pick(&pool, Uuid::now_v7(), &[c], 1), Some(vec![a]));
    }

    #[test]
    fn criterion_minimums() {
        let mut c = criteria();
        c[1].min_score = 3;
        let reviews = vec![
            HashMap::from([("relevance".to_owned(), 9), ("content".to_owned(), 2)]),
            HashMap::from([("relevance".to_owned(), 8), ("content".to_owned(), 3)]),
        ];
        let means = criterion_means(&c, &reviews);
        assert_eq!(means[0].mean, 8.5);
        assert_eq!(means[1].mean, 2.5);
        assert!(!meets_minimums(&c, &means));
        c[1].min_score = 2;
        assert!(meets_minimums(&c, &means));
    }

    #[test]
    fn passing_needs_score_and_majority() {
        assert!(passes(70.0, 2, 0, 60.0));
        assert!(!passes(59.9, 2, 0, 60.0));
        assert!(!passes(90.0, 1, 1, 60.0));
    }
}
