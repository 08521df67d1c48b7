//! Reading an organizations CSV (the same files as the educators import:
//! UTF-8 or Windows-1251, `;` or `,`, English or Russian headings) and
//! deciding what each row does in its region: create an organization, or
//! update the one with its INN. No I/O here.

use pd_domain::bounds::TITLE;
use pd_domain::{Inn, Principal, csv_text};
use std::collections::HashMap;
use uuid::Uuid;

use super::access;
use super::csv_import::{FileError, RowError};
use super::values;
use crate::messages as msg;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRow {
    /// 1-based line of the file; the header is line 1.
    pub row: i32,
    pub name: String,
    pub inn: String,
    /// The municipality as the file names it (its name, OKTMO code or id).
    pub municipality: String,
    /// Empty: keep a known organization's kind (a new one needs it).
    pub kind: Option<String>,
}

#[derive(Debug)]
pub struct Parsed {
    pub encoding: &'static str,
    pub rows: Vec<OrgRow>,
    pub errors: Vec<RowError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Name,
    Inn,
    Municipality,
    Kind,
}

impl Column {
    fn name(self) -> &'static str {
        match self {
            Column::Name => "name",
            Column::Inn => "inn",
            Column::Municipality => "municipality",
            Column::Kind => "kind",
        }
    }

    /// Accepts the English names and the usual Russian headings.
    fn from_header(h: &str) -> Option<Column> {
        let c = match key(h).as_str() {
            "name"
            | "наименование"
            | "название"
            | "полное наименование"
            | "наименование организации"
            | "организация"
            | "оо" => Column::Name,
            "inn" | "инн" | "инн организации" => Column::Inn,
            "municipality"
            | "municipality_name"
            | "municipality_id"
            | "municipality_code"
            | "oktmo"
            | "октмо"
            | "код октмо"
            | "муниципалитет"
            | "муниципальный район"
            | "муниципальное образование"
            | "мр"
            | "мо"
            | "район"
            | "муниципальный район (городской округ)" => {
                Column::Municipality
            }
            "kind" | "тип" | "вид" | "тип организации" | "вид организации" => {
                Column::Kind
            }
            _ => return None,
        };
        Some(c)
    }
}

const REQUIRED: [Column; 3] = [Column::Name, Column::Inn, Column::Municipality];

/// How names are compared: case, `ё` and spacing aside.
pub fn key(s: &str) -> String {
    values::name_part(s).to_lowercase().replace('ё', "е")
}

/// An organization's kind: the API's values or their usual Russian names.
pub fn kind(s: &str) -> Result<String, &'static str> {
    if let Ok(k) = values::org_kind(s) {
        return Ok(k);
    }
    let k = match key(s).as_str() {
        "школа"
        | "общеобразовательная организация"
        | "общеобразовательное учреждение"
        | "сош"
        | "оош"
        | "гимназия"
        | "лицей" => "school",
        "детский сад"
        | "доо"
        | "доу"
        | "дошкольная образовательная организация"
        | "дошкольное образовательное учреждение" => "preschool",
        "колледж" | "техникум" | "спо" | "профессиональная образовательная организация" => {
            "college"
        }
        "дополнительное образование"
        | "организация дополнительного образования"
        | "удо"
        | "одо" => "additional_education",
        "дпо" | "организация дпо" | "организация дополнительного профессионального образования" => {
            "provider"
        }
        _ => return Err(msg::ORG_IMPORT_KIND),
    };
    Ok(k.to_owned())
}

/// Parses and checks every row, reporting each bad cell.
pub fn parse(bytes: &[u8]) -> Result<Parsed, FileError> {
    let header_ok = |header: &str| {
        csv_text::header_cells(header)
            .filter(|h| Column::from_header(h).is_some())
            .count()
            >= REQUIRED.len()
    };
    let (text, encoding) =
        csv_text::decode(bytes, header_ok).map_err(|e| FileError(e.message().to_owned()))?;
    if text.trim().is_empty() {
        return Err(FileError(msg::IMPORT_EMPTY.to_owned()));
    }
    let mut reader = csv_text::reader(&text);
    let headers = reader
        .headers()
        .map_err(|e| FileError(format!("{}: {e}", msg::IMPORT_EMPTY)))?
        .clone();
    let mut index: HashMap<Column, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        if let Some(c) = Column::from_header(h) {
            index.entry(c).or_insert(i);
        }
    }
    let missing: Vec<RowError> = REQUIRED
        .iter()
        .filter(|c| !index.contains_key(c))
        .map(|c| RowError {
            row: 1,
            column: c.name().to_owned(),
            message: msg::MISSING_COLUMN.to_owned(),
        })
        .collect();
    if !missing.is_empty() {
        return Ok(Parsed {
            encoding,
            rows: Vec::new(),
            errors: missing,
        });
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, i32> = HashMap::new();
    for record in csv_text::rows(&mut reader) {
        let (row, record) = match record {
            Ok(r) => r,
            Err((row, e)) => {
                errors.push(RowError {
                    row,
                    column: String::new(),
                    message: format!("{}: {e}", msg::IMPORT_COLUMNS),
                });
                continue;
            }
        };
        let cell = |c: Column| csv_text::cell(&index, &record, c);
        let mut bad: Vec<(Column, String)> = Vec::new();
        let name = values::required_text(cell(Column::Name), TITLE)
            .map_err(|m| bad.push((Column::Name, m)))
            .unwrap_or_default();
        let inn = match Inn::parse(cell(Column::Inn)) {
            Ok(inn) => Some(inn.as_str().to_owned()),
            Err(e) => {
                bad.push((Column::Inn, e.to_string()));
                None
            }
        };
        let municipality = values::name_part(cell(Column::Municipality));
        if municipality.is_empty() {
            bad.push((Column::Municipality, msg::REQUIRED.to_owned()));
        } else if municipality.chars().count() > TITLE {
            bad.push((Column::Municipality, pd_domain::bounds::too_long(TITLE)));
        }
        let kind = match cell(Column::Kind) {
            "" => None,
            k => kind(k)
                .map_err(|m| bad.push((Column::Kind, m.to_owned())))
                .ok(),
        };
        if let Some(inn) = &inn {
            match seen.get(inn) {
                Some(first) => bad.push((
                    Column::Inn,
                    msg::ORG_IMPORT_DUPLICATE_IN_FILE.replace("{row}", &first.to_string()),
                )),
                None => {
                    seen.insert(inn.clone(), row);
                }
            }
        }
        match (bad.is_empty(), inn) {
            (true, Some(inn)) => rows.push(OrgRow {
                row,
                name,
                inn,
                municipality,
                kind,
            }),
            _ => errors.extend(bad.into_iter().map(|(c, message)| RowError {
                row,
                column: c.name().to_owned(),
                message,
            })),
        }
    }
    if rows.is_empty() && errors.is_empty() {
        return Err(FileError(msg::IMPORT_EMPTY.to_owned()));
    }
    Ok(Parsed {
        encoding,
        rows,
        errors,
    })
}

/// The region's municipalities (id, name, OKTMO code) as a file may name
/// them: by id, by code, or by name compared with [`key`]. `None`: two of
/// them share the name so compared, and the file must give the id or code.
pub fn municipality_index(
    municipalities: &[(Uuid, String, String)],
) -> HashMap<String, Option<Uuid>> {
    let mut by: HashMap<String, Option<Uuid>> = HashMap::new();
    for (id, name, code) in municipalities {
        by.insert(id.to_string(), Some(*id));
        if !code.is_empty() {
            by.insert(code.clone(), Some(*id));
        }
        by.entry(key(name))
            .and_modify(|m| *m = None)
            .or_insert(Some(*id));
    }
    by
}

/// An organization of the database with an INN of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownOrg {
    pub id: Uuid,
    pub region_id: Uuid,
    pub municipality_id: Uuid,
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgDecision {
    Create { municipality_id: Uuid, kind: String },
    Update { id: Uuid, kind: String },
    Unchanged { id: Uuid },
}

/// What each row does in `region`: the municipality must be the region's
/// and one the caller may add organizations to (as `CreateOrganization`
/// requires); a known INN updates the name and kind of that organization,
/// which must be of the region and of the municipality the row names
/// (moving an organization would leave its educators' municipality behind).
pub fn plan<'a>(
    rows: &'a [OrgRow],
    region: Uuid,
    municipalities: &HashMap<String, Option<Uuid>>,
    known: &HashMap<String, KnownOrg>,
    p: &Principal,
    errors: &mut Vec<RowError>,
) -> Vec<(&'a OrgRow, OrgDecision)> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut bad = |column: Column, message: &str| {
            errors.push(RowError {
                row: r.row,
                column: column.name().to_owned(),
                message: message.to_owned(),
            })
        };
        let municipality = match municipalities
            .get(&r.municipality)
            .or_else(|| municipalities.get(&key(&r.municipality)))
        {
            Some(Some(m)) => *m,
            Some(None) => {
                bad(Column::Municipality, msg::ORG_IMPORT_MUNICIPALITY_AMBIGUOUS);
                continue;
            }
            None => {
                bad(Column::Municipality, msg::ORG_IMPORT_MUNICIPALITY_UNKNOWN);
                continue;
            }
        };
        if !access::can_add_organization(p, municipality, region) {
            bad(Column::Municipality, msg::ORG_IMPORT_NO_MUNICIPALITY_ACCESS);
            continue;
        }
        let decision = match known.get(&r.inn) {
            None => match &r.kind {
                Some(kind) => OrgDecision::Create {
                    municipality_id: municipality,
                    kind: kind.clone(),
                },
                None => {
                    bad(Column::Kind, msg::ORG_IMPORT_KIND_REQUIRED);
                    continue;
                }
            },
            Some(k) if k.region_id != region => {
                bad(Column::Inn, msg::ORG_IMPORT_OTHER_REGION);
                continue;
            }
            Some(k) if k.municipality_id != municipality => {
                bad(Column::Municipality, msg::ORG_IMPORT_OTHER_MUNICIPALITY);
                continue;
            }
            Some(k) => {
                let kind = r.kind.clone().unwrap_or_else(|| k.kind.clone());
                if k.name == r.name && k.kind == kind {
                    OrgDecision::Unchanged { id: k.id }
                } else {
                    OrgDecision::Update { id: k.id, kind }
                }
            }
        };
        out.push((r, decision));
    }
    out
}

#[cfg(test)]
mod tests;
