use super::*;

pub fn sample() -> pb::ProgramFields {
    pb::ProgramFields {
        kind: "ordinary".into(),
        title: "Функциональная грамотность".into(),
        direction: "Предметные компетенции".into(),
        topic: "Математическая грамотность".into(),
        annotation: "Программа для учителей математики".into(),
        hours: 36,
        form: "blended".into(),
        target_positions: vec!["учитель".into()],
        target_subjects: vec!["Математика".into()],
        modules: vec![
            pb::Module {
                name: "Теория".into(),
                hours: 16,
                assessment_form: "тест".into(),
            },
            pb::Module {
                name: "Практика".into(),
                hours: 20,
                assessment_form: "проект".into(),
            },
        ],
        competences: vec!["ПК-1".into()],
        max_group_size: 25,
        cost_per_learner: 5400.0,
        internship_site: String::new(),
    }
}

#[test]
fn a_complete_program_passes_and_its_checklist_too() {
    let mut f = sample();
    validate(&mut f).unwrap();
    assert!(checklist(&f, Some("Л035-01")).iter().all(|c| c.passed));
    assert!(
        !checklist(&f, None)
            .iter()
            .find(|c| c.code == "licence")
            .unwrap()
            .passed
    );
}

#[test]
fn module_hours_that_do_not_add_up_name_the_field() {
    let mut f = sample();
    f.modules[1].hours = 10;
    let e = validate(&mut f).unwrap_err();
    assert_eq!(e[0].field, "modules");
}

#[test]
fn internships_are_54_hours_with_a_site() {
    let mut f = sample();
    f.kind = "internship".into();
    let fields: Vec<String> = validate(&mut f)
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, vec!["hours", "internship_site"]);
}

#[test]
fn too_short_and_unknown_values_are_refused() {
    let mut f = sample();
    f.hours = 8;
    f.form = "evening".into();
    f.modules = vec![pb::Module {
        name: "".into(),
        hours: 8,
        assessment_form: "тест".into(),
    }];
    let fields: Vec<String> = validate(&mut f)
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, vec!["form", "hours", "modules[0].name"]);
}

fn fields_of(f: &mut pb::ProgramFields) -> Vec<String> {
    validate(f)
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[test]
fn every_text_is_bounded() {
    let mut f = sample();
    f.title = "т".repeat(501);
    f.direction = "н".repeat(501);
    f.topic = "т".repeat(501);
    f.annotation = "а".repeat(600_000);
    f.kind = "internship".into();
    f.hours = INTERNSHIP_HOURS;
    f.modules[1].hours = 38;
    f.internship_site = "м".repeat(501);
    f.modules[0].name = "м".repeat(301);
    f.modules[1].assessment_form = "ф".repeat(301);
    assert_eq!(
        fields_of(&mut f),
        vec![
            "title",
            "direction",
            "topic",
            "annotation",
            "internship_site",
            "modules[0].name",
            "modules[1].assessment_form",
        ]
    );
    // At the limit, counted in characters, everything passes.
    let mut f = sample();
    f.title = "т".repeat(500);
    f.annotation = "а".repeat(10_000);
    f.modules[0].name = "м".repeat(300);
    validate(&mut f).unwrap();
}

#[test]
fn numbers_stay_within_sane_ranges() {
    let mut f = sample();
    f.hours = i32::MAX;
    f.modules = vec![pb::Module {
        name: "Всё".into(),
        hours: i32::MAX,
        assessment_form: "тест".into(),
    }];
    f.max_group_size = 100_000;
    f.cost_per_learner = 1e308;
    assert_eq!(
        fields_of(&mut f),
        vec![
            "hours",
            "modules[0].hours",
            "max_group_size",
            "cost_per_learner"
        ]
    );
    for cost in [f64::NAN, f64::INFINITY, -1.0, 10_000_000.5] {
        let mut f = sample();
        f.cost_per_learner = cost;
        assert_eq!(fields_of(&mut f), vec!["cost_per_learner"], "{cost}");
    }
    let mut f = sample();
    f.max_group_size = 0;
    f.modules[0].hours = 0;
    f.modules[1].hours = 36;
    assert_eq!(
        fields_of(&mut f),
        vec!["modules[0].hours", "max_group_size"]
    );
    let mut f = sample();
    f.hours = 2000;
    f.modules[1].hours = 1984;
    f.max_group_size = 500;
    f.cost_per_learner = 10_000_000.0;
    validate(&mut f).unwrap();
}

#[test]
fn lists_are_bounded_in_items_and_item_length() {
    let mut f = sample();
    f.target_positions = vec!["учитель".into(); 101];
    f.target_subjects = vec!["Математика".into(), "x".repeat(301)];
    f.competences = vec!["  ".into(), "к".repeat(301)];
    assert_eq!(
        fields_of(&mut f),
        vec!["target_positions", "target_subjects[1]", "competences[0]"]
    );
    let mut f = sample();
    f.hours = 101;
    f.modules = vec![
        pb::Module {
            name: "М".into(),
            hours: 1,
            assessment_form: "тест".into(),
        };
        101
    ];
    assert_eq!(fields_of(&mut f), vec!["modules"]);
}

#[test]
fn a_cumulative_program_has_at_least_two_modules() {
    let mut f = sample();
    f.kind = "cumulative".into();
    validate(&mut f).unwrap();
    f.modules.truncate(1);
    f.modules[0].hours = 36;
    assert_eq!(fields_of(&mut f), vec!["modules"]);
}

#[test]
fn nested_fields_are_named_with_their_prefix() {
    let mut f = sample();
    f.hours = 0;
    let e = under("fields", validate(&mut f).unwrap_err());
    assert_eq!(e[0].field, "fields.hours");
}

#[test]
fn voucher_regions_take_programs_of_one_block() {
    let mut f = sample();
    assert!(voucher_errors(&f, "voucher_hours").is_empty());
    f.hours = 72;
    assert_eq!(voucher_errors(&f, "voucher_hours")[0].field, "hours");
    assert!(voucher_errors(&f, "un_quota").is_empty());
    f.kind = "internship".into();
    f.hours = 54;
    assert!(voucher_errors(&f, "voucher_hours").is_empty());
    f.hours = 36;
    assert!(
        voucher_errors(&f, "voucher_hours")[0]
            .message
            .contains("54")
    );
}
