use super::*;

fn choice(id: &str, options: &[&str], correct: &[i32], competence: &str) -> pb::Question {
    pb::Question {
        id: id.into(),
        kind: if correct.len() > 1 {
            "multiple_choice".into()
        } else {
            "single_choice".into()
        },
        text: format!("Вопрос {id}"),
        options: options.iter().map(|s| s.to_string()).collect(),
        correct: correct.to_vec(),
        competence: competence.into(),
        ..Default::default()
    }
}

fn answer(id: &str, choices: &[i32]) -> pb::Answer {
    pb::Answer {
        question_id: id.into(),
        choices: choices.to_vec(),
        ..Default::default()
    }
}

fn test_request(questions: Vec<pb::Question>) -> pb::SaveInstrumentRequest {
    pb::SaveInstrumentRequest {
        kind: "test".into(),
        purpose: "post_course_test".into(),
        title: "Тест".into(),
        questions,
        pass_percent: 60,
        ..Default::default()
    }
}

#[test]
fn a_test_needs_choice_questions_with_correct_options_in_range() {
    let mut ok = test_request(vec![choice("q1", &["a", "b"], &[1], "")]);
    assert!(validate(&mut ok).is_ok());
    assert_eq!(ok.questions[0].points, 1, "a point by default");

    let mut bad = test_request(vec![
        choice("q1", &["a", "b"], &[2], ""),
        pb::Question {
            id: "q1".into(),
            kind: "long_text".into(),
            text: "t".into(),
            ..Default::default()
        },
    ]);
    bad.draw_count = 5;
    let e = validate(&mut bad).unwrap_err();
    let fields: Vec<&str> = e.fields.iter().map(|f| f.field.as_str()).collect();
    assert!(fields.contains(&"questions[0].correct"), "{fields:?}");
    assert!(fields.contains(&"questions[1].id"), "{fields:?}");
    assert!(fields.contains(&"questions[1].kind"), "{fields:?}");
    assert!(fields.contains(&"draw_count"), "{fields:?}");
}

#[test]
fn purpose_fixes_the_kind_and_dimensions_belong_to_the_needs_survey() {
    let mut r = test_request(vec![choice("q1", &["a", "b"], &[0], "")]);
    r.purpose = "needs_survey".into();
    let e = validate(&mut r).unwrap_err();
    assert!(e.fields.iter().any(|f| f.field == "kind"));

    let mut q = pb::SaveInstrumentRequest {
        kind: "questionnaire".into(),
        purpose: "post_course_survey".into(),
        title: "Анкета".into(),
        questions: vec![pb::Question {
            id: "d".into(),
            kind: "multiple_choice".into(),
            text: "Направления".into(),
            options: vec!["x".into(), "y".into()],
            dimension: "direction".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let e = validate(&mut q).unwrap_err();
    assert_eq!(e.fields[0].field, "questions[0].dimension");
    q.purpose = "needs_survey".into();
    assert!(validate(&mut q).is_ok());
}

#[test]
fn answers_must_fit_their_questions_and_required_ones_be_given() {
    let mut qs = vec![
        choice("one", &["a", "b", "c"], &[], ""),
        pb::Question {
            id: "scale".into(),
            kind: "scale".into(),
            text: "Оценка".into(),
            required: true,
            ..Default::default()
        },
    ];
    qs[0].kind = "single_choice".into();
    assert!(validate_answers(&qs, &[answer("one", &[0])], false).is_ok());
    let e = validate_answers(&qs, &[answer("one", &[0, 1])], true).unwrap_err();
    let fields: Vec<&str> = e.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, vec!["answers[0].choices", "answers[scale]"]);
    let e = validate_answers(&qs, &[answer("nope", &[0])], false).unwrap_err();
    assert_eq!(e.fields[0].field, "answers[0].question_id");
    let scale = pb::Answer {
        question_id: "scale".into(),
        scale: 6,
        ..Default::default()
    };
    assert!(validate_answers(&qs, &[scale], false).is_err());
}

#[test]
fn exactly_the_correct_options_score_and_sections_below_threshold_are_deficits() {
    let mut qs = vec![
        choice("a1", &["x", "y"], &[0], "A"),
        choice("a2", &["x", "y", "z"], &[0, 2], "A"),
        choice("b1", &["x", "y"], &[1], "B"),
    ];
    qs[2].points = 2;
    for q in &mut qs {
        if q.points == 0 {
            q.points = 1;
        }
    }
    let sections = vec![
        pb::Section {
            competence: "A".into(),
            threshold_percent: 60,
        },
        pb::Section {
            competence: "B".into(),
            threshold_percent: 50,
        },
    ];
    // a1 right, a2 half-right (no partial credit), b1 right.
    let answers = [answer("a1", &[0]), answer("a2", &[0]), answer("b1", &[1])];
    let s = score(&qs, &answers, 75, &sections);
    assert_eq!(
        (s.score, s.max_score, s.percent, s.passed),
        (3, 4, 75, true)
    );
    assert_eq!(s.sections[0].percent, 50);
    assert!(s.sections[0].deficit, "A at 50% is below 60%");
    assert!(!s.sections[1].deficit);
    // Nothing answered scores nothing and fails.
    let s = score(&qs, &[], 1, &sections);
    assert_eq!((s.score, s.passed), (0, false));
    // 2 of 3 points is 66%, not a rounded-up 67%.
    assert_eq!(percent_of(2, 3), 66);
}

#[test]
fn a_draw_takes_distinct_questions_of_the_bank() {
    let bank: Vec<pb::Question> = (0..10)
        .map(|i| choice(&format!("q{i}"), &["a", "b"], &[0], ""))
        .collect();
    let mut rng = rand::thread_rng();
    let drawn = draw(&bank, 4, &mut rng);
    let ids: HashSet<&str> = drawn.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids.len(), 4);
    assert_eq!(draw(&bank, 0, &mut rng).len(), 10);
    assert!(hide_answers(bank[0].clone()).correct.is_empty());
}

#[test]
fn chosen_values_of_dimension_questions_are_their_option_texts() {
    let qs = vec![
        pb::Question {
            id: "dir".into(),
            kind: "multiple_choice".into(),
            options: vec!["Цифровая школа".into(), "Инклюзия".into()],
            dimension: "direction".into(),
            ..Default::default()
        },
        pb::Question {
            id: "free".into(),
            kind: "long_text".into(),
            dimension: "problem".into(),
            ..Default::default()
        },
    ];
    let answers = vec![
        answer("dir", &[1, 0]),
        pb::Answer {
            question_id: "free".into(),
            text: "нет времени".into(),
            ..Default::default()
        },
    ];
    assert_eq!(
        chosen_values(&qs, &answers),
        vec![
            ("direction".to_owned(), "Инклюзия".to_owned()),
            ("direction".to_owned(), "Цифровая школа".to_owned())
        ]
    );
}
