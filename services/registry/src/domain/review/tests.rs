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
