//! Reading an educators CSV: encoding (UTF-8 with or without BOM, or the
//! Windows-1251 that Excel writes in Russia), delimiter (`;` or `,`), the
//! header (English or Russian column names) and every row, reporting each
//! bad cell with its line and column. No I/O here.

use chrono::NaiveDate;
use pd_domain::Snils;
use pd_domain::bounds::{NAME, PERSON_NAME};
use pd_domain::csv_text;
use std::collections::HashMap;

use super::educator_sync::Columns;
use super::values;
use crate::messages as msg;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line of the file; the header is line 1.
    pub row: i32,
    pub column: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    pub row: i32,
    pub snils: Snils,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: String,
    pub position: String,
    pub subjects: Vec<String>,
    pub organization_inn: Option<String>,
    pub last_pd_completed_on: Option<NaiveDate>,
    pub birth_date: Option<NaiveDate>,
    pub sex: String,
}

#[derive(Debug)]
pub struct Parsed {
    pub encoding: &'static str,
    pub rows: Vec<ImportRow>,
    pub errors: Vec<RowError>,
    /// The optional columns the file has (an update keeps the others).
    pub columns: Columns,
}

/// The file cannot be read at all.
#[derive(Debug, PartialEq, Eq)]
pub struct FileError(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Snils,
    LastName,
    FirstName,
    MiddleName,
    Position,
    Subjects,
    OrganizationInn,
    LastPd,
    BirthDate,
    Sex,
}

impl Column {
    fn name(self) -> &'static str {
        match self {
            Column::Snils => "snils",
            Column::LastName => "last_name",
            Column::FirstName => "first_name",
            Column::MiddleName => "middle_name",
            Column::Position => "position",
            Column::Subjects => "subjects",
            Column::OrganizationInn => "organization_inn",
            Column::LastPd => "last_pd_completed_on",
            Column::BirthDate => "birth_date",
            Column::Sex => "sex",
        }
    }

    /// Accepts the English names and the usual Russian headings.
    fn from_header(h: &str) -> Option<Column> {
        let h = h.trim().to_lowercase().replace(['ё'], "е");
        let c = match h.as_str() {
            "snils" | "снилс" => Column::Snils,
            "last_name" | "фамилия" => Column::LastName,
            "first_name" | "имя" => Column::FirstName,
            "middle_name" | "отчество" => Column::MiddleName,
            "position" | "должность" => Column::Position,
            "subjects" | "предметы" | "преподаваемые предметы" => {
                Column::Subjects
            }
            "organization_inn" | "инн организации" | "инн оо" | "инн" => {
                Column::OrganizationInn
            }
            "last_pd_completed_on"
            | "дата последнего пк"
            | "последнее пк"
            | "дата окончания последних курсов" => Column::LastPd,
            "birth_date" | "дата рождения" => Column::BirthDate,
            "sex" | "пол" => Column::Sex,
            _ => return None,
        };
        Some(c)
    }
}

const REQUIRED: [Column; 4] = [
    Column::Snils,
    Column::LastName,
    Column::FirstName,
    Column::Position,
];

/// Decodes the file (`pd_domain::csv_text`): Windows-1251 is accepted only
/// when its header names the required columns.
pub fn decode(bytes: &[u8]) -> Result<(String, &'static str), FileError> {
    let header_ok = |header: &str| {
        csv_text::header_cells(header)
            .filter(|h| Column::from_header(h).is_some())
            .count()
            >= REQUIRED.len()
    };
    csv_text::decode(bytes, header_ok).map_err(|e| FileError(e.message().to_owned()))
}

/// Parses and checks every row. `default_org` says the caller named the
/// organization, so the file needs no organization column.
pub fn parse(bytes: &[u8], default_org: bool, today: NaiveDate) -> Result<Parsed, FileError> {
    let (text, encoding) = decode(bytes)?;
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
    let mut header_errors = Vec::new();
    for c in REQUIRED {
        if !index.contains_key(&c) {
            header_errors.push(RowError {
                row: 1,
                column: c.name().to_owned(),
                message: "нет обязательного столбца".to_owned(),
            });
        }
    }
    if !default_org && !index.contains_key(&Column::OrganizationInn) {
        header_errors.push(RowError {
            row: 1,
            column: Column::OrganizationInn.name().to_owned(),
            message: msg::IMPORT_ORG_COLUMN.to_owned(),
        });
    }
    let columns = Columns {
        middle_name: index.contains_key(&Column::MiddleName),
        subjects: index.contains_key(&Column::Subjects),
        birth_date: index.contains_key(&Column::BirthDate),
        sex: index.contains_key(&Column::Sex),
    };
    if !header_errors.is_empty() {
        return Ok(Parsed {
            encoding,
            rows: Vec::new(),
            errors: header_errors,
            columns,
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
        let mut row_errors: Vec<(Column, String)> = Vec::new();
        let snils = Snils::parse(cell(Column::Snils))
            .map_err(|e| row_errors.push((Column::Snils, e.to_string())))
            .ok();
        // The same bounds as the API's, so that no cell fails the real
        // import after passing the dry run.
        let mut text = |c: Column, r: Result<String, String>| {
            r.unwrap_or_else(|m| {
                row_errors.push((c, m));
                String::new()
            })
        };
        let last_name = text(
            Column::LastName,
            values::required_text(cell(Column::LastName), PERSON_NAME),
        );
        let first_name = text(
            Column::FirstName,
            values::required_text(cell(Column::FirstName), PERSON_NAME),
        );
        let middle_name = text(
            Column::MiddleName,
            values::optional_text(cell(Column::MiddleName), PERSON_NAME),
        );
        let position = text(
            Column::Position,
            values::required_text(cell(Column::Position), NAME),
        );
        let subjects = values::subject_list(&values::subjects(cell(Column::Subjects)))
            .map_err(|m| row_errors.push((Column::Subjects, m)))
            .unwrap_or_default();
        let last_pd = values::optional_past_date(cell(Column::LastPd), today)
            .map_err(|m| row_errors.push((Column::LastPd, m.to_owned())))
            .ok()
            .flatten();
        let birth_date = values::optional_birth_date(cell(Column::BirthDate), today)
            .map_err(|m| row_errors.push((Column::BirthDate, m.to_owned())))
            .ok()
            .flatten();
        let sex = values::import_sex(cell(Column::Sex))
            .map_err(|m| row_errors.push((Column::Sex, m.to_owned())))
            .unwrap_or_default();
        let organization_inn = match cell(Column::OrganizationInn) {
            "" if default_org => None,
            "" => {
                row_errors.push((Column::OrganizationInn, msg::REQUIRED.to_owned()));
                None
            }
            inn => pd_domain::Inn::parse(inn)
                .map(|i| i.as_str().to_owned())
                .map_err(|e| row_errors.push((Column::OrganizationInn, e.to_string())))
                .ok(),
        };
        if let Some(s) = &snils {
            match seen.get(s.as_str()) {
                Some(first) => row_errors.push((
                    Column::Snils,
                    msg::IMPORT_DUPLICATE_IN_FILE.replace("{row}", &first.to_string()),
                )),
                None => {
                    seen.insert(s.as_str().to_owned(), row);
                }
            }
        }
        match (row_errors.is_empty(), snils) {
            (true, Some(snils)) => rows.push(ImportRow {
                row,
                snils,
                last_name,
                first_name,
                middle_name,
                position,
                subjects,
                organization_inn,
                last_pd_completed_on: last_pd,
                birth_date,
                sex,
            }),
            _ => errors.extend(row_errors.into_iter().map(|(c, message)| RowError {
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
        columns,
    })
}

#[cfg(test)]
mod tests;
