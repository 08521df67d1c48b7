//! A program's fields: checked on every write (422 naming the field), and
//! the automated checklist of the technical review.

use pd_domain::FieldError;
use pd_domain::bounds::{LIST, NAME, TEXT, TITLE};
use pd_domain::error::Validator;
use pd_proto::registry::v1 as pb;

use crate::messages as msg;

pub const KINDS: [&str; 3] = ["ordinary", "internship", "cumulative"];
pub const FORMS: [&str; 3] = ["full_time", "distance", "blended"];
/// Every status a program passes through (the `status` filter of lists).
pub const STATUSES: [&str; 10] = [
    "draft",
    "submitted",
    "returned",
    "in_review",
    "expert_rejected",
    "reviewed",
    "recommended",
    "not_recommended",
    "approved",
    // Included by the council, excluded by the presidium.
    "excluded",
];
/// Samara's internships are 54 hours (seeds/003).
pub const INTERNSHIP_HOURS: i32 = 54;
pub const MIN_HOURS: i32 = 16;
/// The longest program (and module), in hours.
pub const MAX_HOURS: i32 = 2000;
pub const MAX_GROUP_SIZE: i32 = 500;
/// Roubles per learner.
pub const MAX_COST: f64 = 10_000_000.0;

/// Trims the text fields and checks everything a client could get wrong.
/// Fields are named as in `ProgramFields` (`hours`, `modules[1].name`);
/// a request that nests them (`fields.hours`) names them with [`under`].
pub fn validate(f: &mut pb::ProgramFields) -> Result<(), Vec<FieldError>> {
    let mut v = Validator::new();
    for s in [
        &mut f.kind,
        &mut f.title,
        &mut f.direction,
        &mut f.topic,
        &mut f.annotation,
        &mut f.form,
        &mut f.internship_site,
    ] {
        *s = s.trim().to_owned();
    }
    if !KINDS.contains(&f.kind.as_str()) {
        v.add("kind", msg::one_of(&KINDS));
    }
    for (name, value, max) in [
        ("title", &f.title, TITLE),
        ("direction", &f.direction, TITLE),
        ("topic", &f.topic, TITLE),
        ("annotation", &f.annotation, TEXT),
    ] {
        if value.is_empty() {
            v.add(name, msg::REQUIRED);
        } else {
            v.max_len(name, value, max);
        }
    }
    if !FORMS.contains(&f.form.as_str()) {
        v.add("form", msg::one_of(&FORMS));
    }
    let hours_ok = v.in_range("hours", f.hours.into(), MIN_HOURS.into(), MAX_HOURS.into());
    v.max_len("internship_site", &f.internship_site, TITLE);
    if f.kind == "internship" {
        if hours_ok && f.hours != INTERNSHIP_HOURS {
            v.add("hours", msg::internship_hours(INTERNSHIP_HOURS));
        }
        if f.internship_site.is_empty() {
            v.add("internship_site", msg::INTERNSHIP_SITE);
        }
    }
    if f.modules.is_empty() {
        v.add("modules", msg::MODULES_REQUIRED);
    } else if f.modules.len() > LIST {
        v.add("modules", pd_domain::bounds::too_many(LIST));
    } else {
        if f.kind == "cumulative" && f.modules.len() < 2 {
            v.add("modules", msg::CUMULATIVE_MODULES);
        }
        let mut modules_ok = true;
        for (i, m) in f.modules.iter_mut().enumerate() {
            m.name = m.name.trim().to_owned();
            m.assessment_form = m.assessment_form.trim().to_owned();
            for (name, value) in [("name", &m.name), ("assessment_form", &m.assessment_form)] {
                let field = format!("modules[{i}].{name}");
                if value.is_empty() {
                    v.add(field, msg::REQUIRED);
                } else {
                    v.max_len(&field, value, NAME);
                }
            }
            modules_ok &= v.in_range(
                &format!("modules[{i}].hours"),
                m.hours.into(),
                1,
                MAX_HOURS.into(),
            );
        }
        let sum: i64 = f.modules.iter().map(|m| i64::from(m.hours)).sum();
        if modules_ok && hours_ok && sum != i64::from(f.hours) {
            v.add("modules", msg::module_hours_sum(sum, f.hours));
        }
    }
    v.in_range(
        "max_group_size",
        f.max_group_size.into(),
        1,
        MAX_GROUP_SIZE.into(),
    );
    v.in_range_f64("cost_per_learner", f.cost_per_learner, 0.0, MAX_COST);
    for (name, list) in [
        ("target_positions", &mut f.target_positions),
        ("target_subjects", &mut f.target_subjects),
        ("competences", &mut f.competences),
    ] {
        list.retain(|p| !p.trim().is_empty());
        for item in list.iter_mut() {
            *item = item.trim().to_owned();
        }
        v.max_items(name, list, LIST, NAME);
    }
    if v.is_empty() {
        Ok(())
    } else {
        Err(v.into_fields())
    }
}

/// A block of a named voucher (Samara, seeds/003): 72 h are two blocks.
pub const VOUCHER_BLOCK_HOURS: i32 = 36;

/// In a `voucher_hours` region a program is spent from a voucher block:
/// 36 hours, or an internship of 54.
pub fn voucher_errors(f: &pb::ProgramFields, pd_model: &str) -> Vec<FieldError> {
    if pd_model != "voucher_hours" {
        return Vec::new();
    }
    let block = if f.kind == "internship" {
        INTERNSHIP_HOURS
    } else {
        VOUCHER_BLOCK_HOURS
    };
    if f.hours == block {
        return Vec::new();
    }
    vec![FieldError {
        field: "hours".into(),
        message: msg::voucher_block(block),
    }]
}

/// Names fields nested under `prefix` in the request body
/// (`hours` → `fields.hours`).
pub fn under(prefix: &str, errors: Vec<FieldError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| FieldError {
            field: format!("{prefix}.{}", e.field),
            message: e.message,
        })
        .collect()
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
