//! What an educators import does with each checked row: create the
//! educator, change a known one (in place, or moving them to the row's
//! organization), or leave them as they are; and what that comes to per
//! organization. No I/O here.

use chrono::NaiveDate;
use pd_domain::Principal;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

use super::access::{self, OrgLocation};
use super::csv_import::{ImportRow, RowError};
use crate::messages as msg;

/// An educator's record as an import may change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    pub last_name: String,
    pub first_name: String,
    pub middle_name: String,
    pub position: String,
    pub subjects: Vec<String>,
    pub organization_id: Uuid,
    pub last_pd_completed_on: Option<NaiveDate>,
    /// Personal data (ФИС ФРДО): in no event, kept by identity only.
    pub birth_date: Option<NaiveDate>,
    pub sex: String,
}

/// An educator the database holds under a SNILS of the file.
#[derive(Debug, Clone)]
pub struct Known {
    pub id: Uuid,
    pub location: OrgLocation,
    pub fields: Fields,
    pub employed: bool,
}

/// Which optional columns the file has: a column it lacks keeps what the
/// record holds, while an empty cell of a column it has clears it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Columns {
    pub middle_name: bool,
    pub subjects: bool,
    pub birth_date: bool,
    pub sex: bool,
}

/// A known educator's record as a row changes it: `moved_from` when their
/// organization changes (`educator_moved`), else in place (`educator_updated`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub id: Uuid,
    pub before: Fields,
    pub after: Fields,
    pub moved_from: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Create,
    Change(Box<Change>),
    Unchanged { id: Uuid },
}

/// A row with its organization and what the import does with it.
#[derive(Debug, Clone)]
pub struct Planned<'a> {
    pub row: &'a ImportRow,
    pub loc: OrgLocation,
    pub decision: Decision,
}

/// The record a row makes of a known educator: the row's values, except
/// that an empty last PD date and the columns the file lacks keep the
/// record's.
pub fn next_fields(row: &ImportRow, current: &Fields, columns: Columns, org: Uuid) -> Fields {
    Fields {
        last_name: row.last_name.clone(),
        first_name: row.first_name.clone(),
        middle_name: if columns.middle_name {
            row.middle_name.clone()
        } else {
            current.middle_name.clone()
        },
        position: row.position.clone(),
        subjects: if columns.subjects {
            row.subjects.clone()
        } else {
            current.subjects.clone()
        },
        organization_id: org,
        last_pd_completed_on: row.last_pd_completed_on.or(current.last_pd_completed_on),
        birth_date: if columns.birth_date {
            row.birth_date
        } else {
            current.birth_date
        },
        sex: if columns.sex {
            row.sex.clone()
        } else {
            current.sex.clone()
        },
    }
}

/// What the import does with a row whose organization `loc` the caller may
/// manage (checked before): a known SNILS is an error unless `update`,
/// and then only for an employed educator the caller manages.
pub fn decide(
    row: &ImportRow,
    loc: OrgLocation,
    known: Option<&Known>,
    update: bool,
    columns: Columns,
    p: &Principal,
) -> Result<Decision, RowError> {
    let bad = |message: &str| RowError {
        row: row.row,
        column: "snils".to_owned(),
        message: message.to_owned(),
    };
    let Some(k) = known else {
        return Ok(Decision::Create);
    };
    if !update {
        return Err(bad(msg::SNILS_TAKEN));
    }
    // An org operator updates their own organization's staff only, and
    // moving someone in needs the right over where they are now.
    if !access::can_manage_educators(p, &k.location) {
        return Err(bad(msg::IMPORT_EDUCATOR_OUTSIDE_SCOPE));
    }
    if !k.employed {
        return Err(bad(msg::IMPORT_EDUCATOR_LEFT));
    }
    let after = next_fields(row, &k.fields, columns, loc.org_id);
    if after == k.fields {
        return Ok(Decision::Unchanged { id: k.id });
    }
    let moved_from = (k.fields.organization_id != loc.org_id).then_some(k.fields.organization_id);
    Ok(Decision::Change(Box::new(Change {
        id: k.id,
        before: k.fields.clone(),
        after,
        moved_from,
    })))
}

/// Decides every row, reporting the ones that cannot be imported.
pub fn plan<'a>(
    rows: &[(&'a ImportRow, OrgLocation)],
    known: &HashMap<String, Known>,
    update: bool,
    columns: Columns,
    p: &Principal,
    errors: &mut Vec<RowError>,
) -> Vec<Planned<'a>> {
    let mut out = Vec::with_capacity(rows.len());
    for (row, loc) in rows {
        match decide(row, *loc, known.get(row.snils.as_str()), update, columns, p) {
            Ok(decision) => out.push(Planned {
                row,
                loc: *loc,
                decision,
            }),
            Err(e) => errors.push(e),
        }
    }
    out
}

/// What the file does in one organization.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrgDiff {
    pub organization_id: Uuid,
    pub new: i64,
    pub changed: i64,
    pub moved_in: i64,
    pub unchanged: i64,
    pub absent: i64,
}

/// The per-organization report of the organizations the rows name and of
/// those `employed` counts (a reload's whole scope), in their id order.
/// `absent`: of the employed educators each organization has (`employed`,
/// before the import), those whose SNILS is not in the file; an employed
/// educator `known` under a SNILS of the file is present, whichever
/// organization the row names.
pub fn report(
    planned: &[Planned<'_>],
    known: &HashMap<String, Known>,
    employed: &HashMap<Uuid, i64>,
) -> Vec<OrgDiff> {
    let mut by_org: BTreeMap<Uuid, OrgDiff> = BTreeMap::new();
    for p in planned {
        let d = by_org.entry(p.loc.org_id).or_insert_with(|| OrgDiff {
            organization_id: p.loc.org_id,
            ..OrgDiff::default()
        });
        match &p.decision {
            Decision::Create => d.new += 1,
            Decision::Change(c) => {
                d.changed += 1;
                if c.moved_from.is_some() {
                    d.moved_in += 1;
                }
            }
            Decision::Unchanged { .. } => d.unchanged += 1,
        }
    }
    for org in employed.keys() {
        by_org.entry(*org).or_insert_with(|| OrgDiff {
            organization_id: *org,
            ..OrgDiff::default()
        });
    }
    let mut listed: HashMap<Uuid, i64> = HashMap::new();
    for k in known.values().filter(|k| k.employed) {
        *listed.entry(k.location.org_id).or_default() += 1;
    }
    for d in by_org.values_mut() {
        let total = employed.get(&d.organization_id).copied().unwrap_or(0);
        let present = listed.get(&d.organization_id).copied().unwrap_or(0);
        d.absent = (total - present).max(0);
    }
    by_org.into_values().collect()
}

/// The fields a change touched, as an educator's history keeps them
/// (`{"field": {"from": …, "to": …}}`; no SNILS: it never changes).
pub fn changed_fields(before: &Fields, after: &Fields) -> serde_json::Value {
    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let mut m = serde_json::Map::new();
    let mut diff = |name: &str, a: String, b: String| {
        if a != b {
            m.insert(name.to_owned(), serde_json::json!({"from": a, "to": b}));
        }
    };
    diff(
        "last_name",
        before.last_name.clone(),
        after.last_name.clone(),
    );
    diff(
        "first_name",
        before.first_name.clone(),
        after.first_name.clone(),
    );
    diff(
        "middle_name",
        before.middle_name.clone(),
        after.middle_name.clone(),
    );
    diff("position", before.position.clone(), after.position.clone());
    diff(
        "subjects",
        before.subjects.join("|"),
        after.subjects.join("|"),
    );
    diff(
        "organization_id",
        before.organization_id.to_string(),
        after.organization_id.to_string(),
    );
    diff(
        "last_pd_completed_on",
        date(before.last_pd_completed_on),
        date(after.last_pd_completed_on),
    );
    serde_json::Value::Object(m)
}

#[cfg(test)]
mod tests;
