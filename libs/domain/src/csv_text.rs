//! Reading a CSV file people export from Excel: the encoding (UTF-8 with or
//! without BOM, or the Windows-1251 that Excel writes in Russia), line
//! endings and the delimiter (`;` or `,`). Every import of the platform
//! (educators, organizations, the competence catalog) reads files through
//! here, so they accept and refuse the same files. No I/O.

/// The file cannot be read as text at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    /// It contains NUL bytes (a spreadsheet or an archive, not a CSV).
    Binary,
    /// Neither UTF-8 nor Windows-1251 that reads as Russian.
    Encoding,
}

impl TextError {
    /// The message for the person who uploaded the file.
    pub fn message(self) -> &'static str {
        match self {
            TextError::Binary => "файл не текстовый (содержит нулевые байты): нужен CSV",
            TextError::Encoding => {
                "файл не в кодировке UTF-8 и не распознан как Windows-1251 (Excel «CSV (разделители — запятые)»); сохраните его как «CSV UTF-8»"
            }
        }
    }
}

/// Decodes the file. UTF-8 (BOM optional) is taken as is; anything else is
/// tried as Windows-1251 and kept only if `header_ok` accepts its first line
/// and the text reads as Russian, so a file in another encoding (KOI8-R,
/// CP866) is refused instead of imported as mojibake.
pub fn decode(
    bytes: &[u8],
    header_ok: impl Fn(&str) -> bool,
) -> Result<(String, &'static str), TextError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.contains(&0) {
        return Err(TextError::Binary);
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok((s.to_owned(), "utf-8"));
    }
    let (text, _, had_errors) = encoding_rs::WINDOWS_1251.decode(bytes);
    let header = text.lines().next().unwrap_or("");
    if had_errors || !header_ok(header) || !looks_russian(&text) {
        return Err(TextError::Encoding);
    }
    Ok((text.into_owned(), "windows-1251"))
}

/// The header's cells, split on the file's delimiter, quotes trimmed.
pub fn header_cells(header: &str) -> impl Iterator<Item = &str> {
    header
        .split(delimiter(header) as char)
        .map(|h| h.trim().trim_matches('"'))
}

/// `;` when the first line has one (Excel in Russia), else `,`.
pub fn delimiter(first_line: &str) -> u8 {
    if first_line.contains(';') { b';' } else { b',' }
}

/// A CSV reader over decoded text with a header row. Excel on Windows ends
/// lines with CRLF, old Mac tools with CR alone; the CSV reader counts only
/// LF, so row numbers would be off by one (CRLF) or all 1 (CR): one line
/// ending for all. Rows may have fewer or more cells than the header.
pub fn reader(text: &str) -> csv::Reader<std::io::Cursor<Vec<u8>>> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let first_line = text.lines().next().unwrap_or("");
    csv::ReaderBuilder::new()
        .delimiter(delimiter(first_line))
        .flexible(true)
        .has_headers(true)
        .from_reader(std::io::Cursor::new(text.into_bytes()))
}

/// The data rows of a [`reader`], each with its line in the file (the
/// header is line 1); blank rows are skipped, and a row the reader cannot
/// split comes as `Err` with its line.
pub fn rows<R: std::io::Read>(
    reader: &mut csv::Reader<R>,
) -> impl Iterator<Item = Result<(i32, csv::StringRecord), (i32, csv::Error)>> + '_ {
    let line = |p: Option<&csv::Position>| p.map(|p| p.line() as i32).unwrap_or(0);
    reader.records().filter_map(move |record| match record {
        Ok(r) if r.iter().all(|c| c.trim().is_empty()) => None,
        Ok(r) => Some(Ok((line(r.position()), r))),
        Err(e) => Some(Err((line(e.position()), e))),
    })
}

/// The trimmed cell of `column` in a row, by the header's column index;
/// empty when the file has no such column or the row is short.
pub fn cell<'r, K: std::hash::Hash + Eq>(
    index: &std::collections::HashMap<K, usize>,
    record: &'r csv::StringRecord,
    column: K,
) -> &'r str {
    index
        .get(&column)
        .and_then(|i| record.get(*i))
        .unwrap_or("")
        .trim()
}

/// Whether text decoded as Windows-1251 reads as Russian: nearly all of its
/// non-ASCII characters are Cyrillic letters, mostly lowercase. KOI8-R read
/// as Windows-1251 comes out mostly uppercase; CP866 mostly punctuation.
fn looks_russian(text: &str) -> bool {
    let (mut lower, mut upper, mut other) = (0usize, 0usize, 0usize);
    for c in text.chars().filter(|c| !c.is_ascii()) {
        match c {
            'а'..='я' | 'ё' => lower += 1,
            'А'..='Я' | 'Ё' => upper += 1,
            '№' | '«' | '»' | '—' | '–' | '\u{a0}' => {}
            _ => other += 1,
        }
    }
    let letters = lower + upper;
    letters >= 10 * other && lower >= upper
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_bom_and_windows_1251_are_read_other_encodings_refused() {
        let text = "код;название\nК1;Проектирование уроков\n";
        let bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        assert_eq!(decode(&bom, |_| true).unwrap(), (text.to_owned(), "utf-8"));
        let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(text);
        assert_eq!(
            decode(&cp1251, |h| h.contains("код")).unwrap(),
            (text.to_owned(), "windows-1251")
        );
        let (koi8, _, _) = encoding_rs::KOI8_R.encode(text);
        assert_eq!(decode(&koi8, |_| true), Err(TextError::Encoding));
        assert_eq!(decode(b"a\0b", |_| true), Err(TextError::Binary));
    }

    #[test]
    fn rows_are_numbered_by_line_whatever_the_line_endings() {
        let mut r = reader("a;b\r\n1;2\r3;4\n");
        let lines: Vec<u64> = r
            .records()
            .map(|rec| rec.unwrap().position().unwrap().line())
            .collect();
        assert_eq!(lines, vec![2, 3]);
        assert_eq!(header_cells("\"a\";b").collect::<Vec<_>>(), vec!["a", "b"]);
    }
}
