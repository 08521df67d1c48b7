//! A program's fields: checked on every write (422 naming the field), and
//! the automated checklist of the technical review.

use pd_domain::FieldError;
use pd_proto::registry::v1 as pb;

pub const KINDS: [&str; 3] = ["ordinary", "internship", "cumulative"];
pub const FORMS: [&str; 3] = ["full_time", "distance", "blended"];
/// Samara's internships are 54 hours (seeds/003).
pub const INTERNSHIP_HOURS: i32 = 54;
pub const MIN_HOURS: i32 = 16;

/// Trims the text fields and checks everything a client could get wrong.
pub fn validate(f: &mut pb::ProgramFields) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut bad = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.to_owned(),
            message,
        })
    };
    for s in [
        &mut f.kind,
        &mut f.title,
        &mut f.direction,
        &mut f.topic,
        &mut f.annotation,
        &mut f.form,
    ] {
        *s = s.trim().to_owned();
    }
    f.internship_site = f.internship_site.trim().to_owned();
    if !KINDS.contains(&f.kind.as_str()) {
        bad(
            "kind",
            "допустимые значения: ordinary, internship, cumulative".into(),
        );
    }
    for (name, value) in [
        ("title", &f.title),
        ("direction", &f.direction),
        ("topic", &f.topic),
        ("annotation", &f.annotation),
    ] {
        if value.is_empty() {
            bad(name, "обязательное поле".into());
        }
    }
    if !FORMS.contains(&f.form.as_str()) {
        bad(
            "form",
            "допустимые значения: full_time, distance, blended".into(),
        );
    }
    if f.hours < MIN_HOURS {
        bad("hours", format!("не менее {MIN_HOURS} часов"));
    }
    if f.kind == "internship" {
        if f.hours != INTERNSHIP_HOURS {
            bad("hours", format!("стажировка — {INTERNSHIP_HOURS} часа"));
        }
        if f.internship_site.is_empty() {
            bad(
                "internship_site",
                "для стажировки нужна стажировочная площадка".into(),
            );
        }
    }
    if f.modules.is_empty() {
        bad("modules", "нужен хотя бы один модуль".into());
    }
    for (i, m) in f.modules.iter_mut().enumerate() {
        m.name = m.name.trim().to_owned();
        m.assessment_form = m.assessment_form.trim().to_owned();
        if m.name.is_empty() {
            bad(&format!("modules[{i}].name"), "обязательное поле".into());
        }
        if m.hours <= 0 {
            bad(&format!("modules[{i}].hours"), "больше нуля".into());
        }
        if m.assessment_form.is_empty() {
            bad(
                &format!("modules[{i}].assessment_form"),
                "обязательное поле".into(),
            );
        }
    }
    let sum: i64 = f.modules.iter().map(|m| i64::from(m.hours)).sum();
    if !f.modules.is_empty() && sum != i64::from(f.hours) {
        bad(
            "modules",
            format!(
                "сумма часов модулей ({sum}) не равна объёму программы ({})",
                f.hours
            ),
        );
    }
    if f.max_group_size < 1 || f.max_group_size > 500 {
        bad("max_group_size", "от 1 до 500".into());
    }
    if !(f.cost_per_learner >= 0.0 && f.cost_per_learner.is_finite()) {
        bad("cost_per_learner", "неотрицательное число".into());
    }
    f.target_positions.retain(|p| !p.trim().is_empty());
    f.target_subjects.retain(|p| !p.trim().is_empty());
    f.competences.retain(|p| !p.trim().is_empty());
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The automated part of the technical review, shown to the operator.
pub fn checklist(f: &pb::ProgramFields, provider_licence: Option<&str>) -> Vec<pb::CheckItem> {
    let sum: i32 = f.modules.iter().map(|m| m.hours).sum();
    let item = |code: &str, title: &str, passed: bool, note: String| pb::CheckItem {
        code: code.to_owned(),
        title: title.to_owned(),
        passed,
        note,
    };
    vec![
        item(
            "required_fields",
            "Заполнены название, направление, тема, аннотация",
            ![&f.title, &f.direction, &f.topic, &f.annotation]
                .iter()
                .any(|s| s.is_empty()),
            String::new(),
        ),
        item(
            "module_hours",
            "Часы модулей складываются в объём программы",
            !f.modules.is_empty() && sum == f.hours,
            format!("{sum} из {}", f.hours),
        ),
        item(
            "min_hours",
            "Объём не менее 16 часов",
            f.hours >= MIN_HOURS,
            format!("{} ч", f.hours),
        ),
        item(
            "target_audience",
            "Указаны категории слушателей",
            !f.target_positions.is_empty(),
            f.target_positions.join(", "),
        ),
        item(
            "competences",
            "Указаны формируемые компетенции",
            !f.competences.is_empty(),
            f.competences.join(", "),
        ),
        item(
            "licence",
            "У организации есть лицензия на образовательную деятельность",
            provider_licence.is_some_and(|l| !l.trim().is_empty()),
            provider_licence.unwrap_or("").to_owned(),
        ),
    ]
}

#[cfg(test)]
mod tests;
