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
