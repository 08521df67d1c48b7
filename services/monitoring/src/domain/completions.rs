//! A provider's completion batch, checked once: each learner's status,
//! document and credits. Errors name the learner's position in the batch
//! (`learners[3].document_number`), so a refused batch tells the provider
//! exactly which learner to fix.

use chrono::NaiveDate;
use pd_domain::bounds::{CODE, NAME, TEXT, out_of_range, too_many};
use pd_domain::error::Validator;
use pd_proto::monitoring::v1 as pb;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::messages as msg;

/// Learners in one batch (a big group is a few hundred).
pub const MAX_LEARNERS: usize = 1000;
/// Hours of one program or module.
pub const MAX_HOURS: i32 = 2000;

/// The document types of further professional education (ДПО) a
/// completion may carry, as ФИС ФРДО names them.
pub const DOCUMENT_TYPES: [(&str, &str); 3] = [
    ("pk_certificate", msg::DOC_PK),
    ("pp_diploma", msg::DOC_PP),
    ("training_certificate", msg::DOC_TRAINING),
];

pub fn document_type_name(code: &str) -> &'static str {
    DOCUMENT_TYPES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
        .unwrap_or("")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credit {
    pub name: String,
    pub hours: i32,
    pub credited_on: NaiveDate,
}

/// One learner's result, valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Learner {
    pub group: Uuid,
    pub educator: Uuid,
    pub completed: bool,
    pub reason: String,
    pub document_type: String,
    pub document_series: String,
    pub document_number: String,
    pub issued_on: Option<NaiveDate>,
    pub registration_number: String,
    pub hours: i32,
    pub modules: Vec<Credit>,
}

fn date(v: &mut Validator, field: &str, raw: &str) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            v.add(field, msg::DATE);
            None
        }
    }
}

/// Checks every learner of a batch; `group` is the batch's group (for
/// learners naming none); `today` bounds issue dates.
pub fn parse_batch(
    group: Option<Uuid>,
    learners: &[pb::LearnerCompletion],
    today: NaiveDate,
) -> Result<Vec<Learner>, pd_domain::AppError> {
    let mut v = Validator::new();
    if learners.is_empty() {
        v.add("learners", msg::LEARNERS_REQUIRED);
    }
    if learners.len() > MAX_LEARNERS {
        v.add("learners", too_many(MAX_LEARNERS));
        return v.finish().map(|_| Vec::new());
    }
    let mut out = Vec::with_capacity(learners.len());
    let mut seen = std::collections::HashSet::new();
    for (i, l) in learners.iter().enumerate() {
        let at = |f: &str| format!("learners[{i}].{f}");
        if let Some(x) = learner(&mut v, &at, group, l, today) {
            if !seen.insert((x.group, x.educator, x.document_number.clone())) {
                v.add(at("educator_id"), msg::LEARNER_TWICE);
            }
            out.push(x);
        }
    }
    v.finish()?;
    Ok(out)
}

fn learner(
    v: &mut Validator,
    at: &dyn Fn(&str) -> String,
    batch_group: Option<Uuid>,
    l: &pb::LearnerCompletion,
    today: NaiveDate,
) -> Option<Learner> {
    let group = if l.group_id.trim().is_empty() {
        batch_group
    } else {
        Uuid::parse_str(l.group_id.trim()).ok()
    };
    if group.is_none() {
        v.add(at("group_id"), msg::GROUP_ID);
    }
    let educator = Uuid::parse_str(l.educator_id.trim()).ok();
    if educator.is_none() {
        v.add(at("educator_id"), msg::EDUCATOR_ID);
    }
    let completed = match l.status.as_str() {
        "completed" => Some(true),
        "not_completed" => Some(false),
        _ => {
            v.add(at("status"), msg::STATUS);
            None
        }
    };
    v.max_len(&at("reason"), &l.reason, TEXT);
    v.max_len(&at("document_series"), &l.document_series, CODE);
    v.max_len(&at("document_number"), &l.document_number, CODE);
    v.max_len(&at("registration_number"), &l.registration_number, CODE);
    let mut issued_on = None;
    if completed == Some(true) {
        if document_type_name(&l.document_type).is_empty() {
            v.add(at("document_type"), msg::DOCUMENT_TYPE);
        }
        if l.document_number.trim().is_empty() {
            v.add(at("document_number"), msg::DOCUMENT_NUMBER);
        }
        issued_on = date(v, &at("issued_on"), &l.issued_on);
        if issued_on.is_some_and(|d| d > today) {
            v.add(at("issued_on"), msg::ISSUED_IN_FUTURE);
        }
        if !(1..=MAX_HOURS).contains(&l.hours) {
            v.add(at("hours"), out_of_range(1, MAX_HOURS));
        }
    } else if completed == Some(false) && l.reason.trim().is_empty() {
        v.add(at("reason"), msg::REASON_REQUIRED);
    }
    let modules = credits(v, at, &l.modules, issued_on.unwrap_or(today));
    Some(Learner {
        group: group?,
        educator: educator?,
        completed: completed?,
        reason: l.reason.trim().to_owned(),
        document_type: l.document_type.clone(),
        document_series: l.document_series.trim().to_owned(),
        document_number: l.document_number.trim().to_owned(),
        issued_on,
        registration_number: l.registration_number.trim().to_owned(),
        hours: l.hours,
        modules,
    })
}

fn credits(
    v: &mut Validator,
    at: &dyn Fn(&str) -> String,
    modules: &[pb::ModuleCredit],
    default_on: NaiveDate,
) -> Vec<Credit> {
    if modules.len() > pd_domain::bounds::LIST {
        v.add(at("modules"), too_many(pd_domain::bounds::LIST));
        return Vec::new();
    }
    let mut out = Vec::new();
    for (j, m) in modules.iter().enumerate() {
        let field = |f: &str| at(&format!("modules[{j}].{f}"));
        let name = m.name.trim();
        if name.is_empty() {
            v.add(field("name"), msg::MODULE_NAME);
        }
        v.max_len(&field("name"), name, NAME);
        if !(1..=MAX_HOURS).contains(&m.hours) {
            v.add(field("hours"), out_of_range(1, MAX_HOURS));
        }
        let on = if m.credited_on.is_empty() {
            Some(default_on)
        } else {
            date(v, &field("credited_on"), &m.credited_on)
        };
        if let Some(on) = on {
            out.push(Credit {
                name: name.to_owned(),
                hours: m.hours,
                credited_on: on,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completed(educator: &str) -> pb::LearnerCompletion {
        pb::LearnerCompletion {
            educator_id: educator.to_owned(),
            status: "completed".into(),
            document_type: "pk_certificate".into(),
            document_number: "632400012345".into(),
            issued_on: "2027-03-01".into(),
            hours: 72,
            ..Default::default()
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 3, 10).unwrap_or_default()
    }

    #[test]
    fn a_valid_batch_parses_and_errors_name_the_learner() {
        let a = Uuid::now_v7().to_string();
        let g = Some(Uuid::now_v7());
        let ok = parse_batch(g, &[completed(&a)], today()).map_err(|e| e.detail);
        assert_eq!(ok.map(|l| l[0].hours), Ok(72));
        let mut bad = completed(&a);
        bad.hours = 0;
        bad.issued_on = "2027-04-01".into();
        let not = pb::LearnerCompletion {
            educator_id: Uuid::now_v7().to_string(),
            status: "not_completed".into(),
            ..Default::default()
        };
        let mut elsewhere = completed(&a);
        elsewhere.group_id = "no-uuid".into();
        let Err(e) = parse_batch(g, &[completed(&a), bad, not, elsewhere], today()) else {
            panic!("accepted");
        };
        let fields: Vec<&str> = e.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "learners[1].issued_on",
                "learners[1].hours",
                "learners[1].educator_id",
                "learners[2].reason",
                "learners[3].group_id"
            ]
        );
    }
}
