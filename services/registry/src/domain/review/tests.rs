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
    let e = score_percent(&criteria(), &[score("relevance", 11), score("style", 1)]).unwrap_err();
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

fn criterion(code: &str, max_score: i32, weight: f64, min_score: i32) -> pb::Criterion {
    pb::Criterion {
        code: code.into(),
        name: "Критерий".into(),
        max_score,
        weight,
        min_score,
    }
}

fn criteria_errors(c: &[pb::Criterion], threshold: f64) -> Vec<String> {
    validate_criteria(c, threshold)
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[test]
fn criteria_are_bounded() {
    let mut long = criterion(&"c".repeat(3000), 10, 1.0, 0);
    long.name = "н".repeat(301);
    let c = vec![
        long,
        criterion("huge", i32::MAX, 1e308, 0),
        criterion("nan", 10, f64::NAN, 11),
        criterion("negative", 0, -1.0, -1),
    ];
    assert_eq!(
        criteria_errors(&c, 60.0),
        vec![
            "criteria[0].code",
            "criteria[0].name",
            "criteria[1].max_score",
            "criteria[1].weight",
            "criteria[2].min_score",
            "criteria[2].weight",
            "criteria[3].max_score",
            "criteria[3].min_score",
            "criteria[3].weight",
        ]
    );
    for t in [f64::NAN, -0.1, 100.1, f64::INFINITY] {
        assert_eq!(
            criteria_errors(&[criterion("a", 10, 1.0, 0)], t),
            vec!["pass_threshold_percent"]
        );
    }
    let many: Vec<pb::Criterion> = (0..51)
        .map(|i| criterion(&format!("c{i}"), 10, 1.0, 0))
        .collect();
    assert_eq!(criteria_errors(&many, 60.0), vec!["criteria"]);
    assert_eq!(criteria_errors(&[], 60.0), vec!["criteria"]);
}

#[test]
fn criteria_at_their_limits_pass_and_weight_zero_is_the_default() {
    let c = vec![
        criterion(&"c".repeat(64), 100, 100.0, 100),
        criterion(" b ", 1, 0.0, 0),
    ];
    let out = validate_criteria(&c, 100.0).unwrap();
    assert_eq!(out[1].code, "b");
    assert_eq!(out[1].weight, 1.0);
    assert_eq!(out[0].weight, 100.0);
}

#[test]
fn scores_are_always_finite_even_with_criteria_stored_unbounded() {
    // Criteria saved before the bounds: a weight of 1e308 and a maximum of
    // 2^31-1 used to make the percentage NaN.
    let c = vec![
        criterion("a", i32::MAX, 1e308, 0),
        criterion("b", 10, 1e308, 0),
    ];
    let p = score_percent(&c, &[score("a", i32::MAX), score("b", 10)]).unwrap();
    assert_eq!(p, 100.0);
    let means = criterion_means(&c, &[HashMap::from([("a".to_owned(), i32::MAX)])]);
    assert!(means.iter().all(|m| m.mean.is_finite()));
    assert!(!passes(f64::NAN, 2, 0, 60.0));
    assert_eq!(finite(f64::NAN), 0.0);
    assert_eq!(finite(f64::INFINITY), 0.0);
    assert_eq!(finite(42.5), 42.5);
}

#[test]
fn too_many_scores_and_overlong_codes_are_not_echoed() {
    let many: Vec<pb::Score> = (0..60).map(|i| score(&format!("c{i}"), 1)).collect();
    let e = score_percent(&criteria(), &many).unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].field, "scores");
    let e = score_percent(
        &criteria(),
        &[
            score("relevance", 5),
            score("content", 5),
            score(&"x".repeat(5000), 1),
        ],
    )
    .unwrap_err();
    assert_eq!(e[0].field, "scores");
}

#[test]
fn a_comment_is_bounded_and_the_conclusion_one_of_two() {
    assert!(validate_conclusion("include", &"к".repeat(10_000)).is_empty());
    let fields: Vec<String> = validate_conclusion("maybe", &"к".repeat(10_001))
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, vec!["conclusion", "comment"]);
}
