//! Reading a competence catalog CSV: columns code, name, group_code,
//! group_name (or their Russian headings), every bad cell reported with its
//! line and column. Encodings and delimiters as every import
//! (`pd_domain::csv_text`). No I/O.

use pd_domain::FieldError;
use pd_domain::bounds::{CODE, NAME, too_long};
use pd_domain::csv_text;
use pd_proto::surveys::v1 as pb;
use std::collections::HashMap;

use crate::messages as msg;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Code,
    Name,
    GroupCode,
    GroupName,
}

impl Column {
    fn name(self) -> &'static str {
        match self {
            Column::Code => "code",
            Column::Name => "name",
            Column::GroupCode => "group_code",
            Column::GroupName => "group_name",
        }
    }

    fn from_header(h: &str) -> Option<Column> {
        let h = h.trim().to_lowercase().replace('ё', "е");
        Some(match h.as_str() {
            "code" | "код" | "код компетенции" => Column::Code,
            "name" | "название" | "наименование" | "компетенция" => {
                Column::Name
            }
            "group_code" | "код группы" | "код трудовой функции" => {
                Column::GroupCode
            }
            "group_name" | "группа" | "трудовая функция" => Column::GroupName,
            _ => return None,
        })
    }
}

const REQUIRED: [Column; 2] = [Column::Code, Column::Name];

#[derive(Debug)]
pub struct Parsed {
    pub encoding: &'static str,
    pub rows: Vec<pb::Competence>,
    /// Each bad cell as a field `rows[LINE].column` (the header is line 1).
    pub errors: Vec<FieldError>,
}

fn error(row: i32, column: Column, message: impl Into<String>) -> FieldError {
    FieldError {
        field: format!("rows[{row}].{}", column.name()),
        message: message.into(),
    }
}

/// Parses the file; `Err` when it cannot be read at all (encoding, empty).
pub fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let header_ok = |h: &str| {
        csv_text::header_cells(h)
            .filter(|c| Column::from_header(c).is_some())
            .count()
            >= REQUIRED.len()
    };
    let (text, encoding) =
        csv_text::decode(bytes, header_ok).map_err(|e| e.message().to_owned())?;
    if text.trim().is_empty() {
        return Err(msg::FILE_EMPTY.to_owned());
    }
    let mut reader = csv_text::reader(&text);
    let headers = reader
        .headers()
        .map_err(|e| format!("{}: {e}", msg::FILE_EMPTY))?
        .clone();
    let mut index: HashMap<Column, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        if let Some(c) = Column::from_header(h) {
            index.entry(c).or_insert(i);
        }
    }
    let missing: Vec<FieldError> = REQUIRED
        .iter()
        .filter(|c| !index.contains_key(c))
        .map(|c| error(1, *c, msg::COLUMN_MISSING))
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
                errors.push(error(row, Column::Code, format!("{e}")));
                continue;
            }
        };
        let cell = |c: Column| csv_text::cell(&index, &record, c).to_owned();
        let mut row_errors = Vec::new();
        let mut bounded = |c: Column, value: String, max: usize, required: bool| {
            if required && value.is_empty() {
                row_errors.push(error(row, c, msg::REQUIRED));
            } else if value.chars().count() > max {
                row_errors.push(error(row, c, too_long(max)));
            }
            value
        };
        let code = bounded(Column::Code, cell(Column::Code), CODE, true);
        let name = bounded(Column::Name, cell(Column::Name), NAME, true);
        let group_code = bounded(Column::GroupCode, cell(Column::GroupCode), CODE, false);
        let group_name = bounded(Column::GroupName, cell(Column::GroupName), NAME, false);
        if !code.is_empty() {
            if let Some(first) = seen.get(&code) {
                row_errors.push(error(row, Column::Code, msg::duplicate_in_file(*first)));
            } else {
                seen.insert(code.clone(), row);
            }
        }
        if row_errors.is_empty() {
            rows.push(pb::Competence {
                code,
                name,
                group_code,
                group_name,
            });
        } else {
            errors.extend(row_errors);
        }
    }
    if rows.is_empty() && errors.is_empty() {
        return Err(msg::FILE_EMPTY.to_owned());
    }
    Ok(Parsed {
        encoding,
        rows,
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_headings_in_windows_1251_with_every_bad_row_reported() {
        let text = "Код;Наименование;Код трудовой функции;Трудовая функция\r\n\
                    A.1;Проектирование урока;A;Обучение\r\n\
                    ;Без кода;A;Обучение\r\n\
                    A.1;Повтор;A;Обучение\r\n\
                    B.2;Воспитательная работа;B;Воспитание\r\n";
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(text);
        let p = parse(&bytes).unwrap();
        assert_eq!(p.encoding, "windows-1251");
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.rows[1].group_name, "Воспитание");
        let errs: Vec<&str> = p.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(errs, vec!["rows[3].code", "rows[4].code"]);
        assert!(p.errors[1].message.contains('2'), "names the first row");
    }

    #[test]
    fn a_file_without_the_name_column_is_refused_at_its_header() {
        let p = parse(b"code,group\nA,x\n").unwrap();
        assert_eq!(p.errors[0].field, "rows[1].name");
        assert!(parse(b"").is_err());
    }
}
