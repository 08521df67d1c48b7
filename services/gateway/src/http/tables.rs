//! Lists as files: `;`-separated CSV (UTF-8 with a BOM, as Excel opens it
//! in Russian locales) and XLSX, from a header and rows of text.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use pd_domain::AppError;
use rust_xlsxwriter::{Format, Workbook};

use super::{ApiError, csv_cell};

/// json | csv | xlsx, as a query's `format` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format3 {
    Json,
    Csv,
    Xlsx,
}

pub fn format(raw: &str) -> Result<Format3, ApiError> {
    match raw {
        "" | "json" => Ok(Format3::Json),
        "csv" => Ok(Format3::Csv),
        "xlsx" => Ok(Format3::Xlsx),
        _ => Err(ApiError(AppError::invalid(
            "format",
            "допустимые значения: json, csv, xlsx",
        ))),
    }
}

pub fn csv(header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::from("\u{FEFF}");
    let line = |cells: &[String]| {
        cells
            .iter()
            .map(|c| csv_cell(c))
            .collect::<Vec<_>>()
            .join(";")
    };
    out.push_str(&line(header));
    out.push('\n');
    for r in rows {
        out.push_str(&line(r));
        out.push('\n');
    }
    out
}

/// One sheet, the header in bold; every cell is text (a SNILS or a
/// document number must not turn into a number).
pub fn xlsx(sheet: &str, header: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>, ApiError> {
    let fail = |e: rust_xlsxwriter::XlsxError| ApiError(pd_bus::rpc::internal("writing xlsx", e));
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet).map_err(fail)?;
    let bold = Format::new().set_bold();
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)
            .map_err(fail)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            ws.write_string((r + 1) as u32, c as u16, cell)
                .map_err(fail)?;
        }
    }
    book.save_to_buffer().map_err(fail)
}

pub fn attachment(name: &str, f: Format3, body: Vec<u8>) -> Response {
    let (ext, mime) = match f {
        Format3::Xlsx => (
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => ("csv", "text/csv; charset=utf-8"),
    };
    let disposition = format!("attachment; filename=\"{name}.{ext}\"");
    (
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// A table as the format asks (CSV or XLSX).
pub fn file(
    name: &str,
    f: Format3,
    header: &[String],
    rows: &[Vec<String>],
) -> Result<Response, ApiError> {
    let body = match f {
        Format3::Xlsx => xlsx(name, header, rows)?,
        _ => csv(header, rows).into_bytes(),
    };
    Ok(attachment(name, f, body))
}
