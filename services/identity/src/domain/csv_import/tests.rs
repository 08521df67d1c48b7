use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

const GOOD: &str = "snils;last_name;first_name;middle_name;position;subjects;organization_inn;last_pd_completed_on\n\
    112-233-445 95;Иванова;Мария;Петровна;учитель;Математика|Физика;7707083893;2022-05-31\n\
    08765430300;Петров;Пётр;;воспитатель;;7707083893;\n";

#[test]
fn utf8_with_and_without_bom_and_both_delimiters() {
    let p = parse(GOOD.as_bytes(), false, today()).unwrap();
    assert_eq!(p.errors, vec![]);
    assert_eq!(p.rows.len(), 2);
    assert_eq!(p.rows[0].subjects, vec!["Математика", "Физика"]);
    assert_eq!(p.rows[1].row, 3);

    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(
        GOOD.replace(';', ",")
            .replace("Математика|Физика", "Математика")
            .as_bytes(),
    );
    let p = parse(&bom, false, today()).unwrap();
    assert_eq!((p.rows.len(), p.encoding), (2, "utf-8"));
}

#[test]
fn windows_1251_is_decoded_correctly() {
    let russian = "СНИЛС;Фамилия;Имя;Отчество;Должность;ИНН организации\n112-233-445 95;Иванова;Мария;Петровна;учитель;7707083893\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(russian);
    let p = parse(&bytes, false, today()).unwrap();
    assert_eq!(p.encoding, "windows-1251");
    assert_eq!(p.rows[0].last_name, "Иванова");
}

#[test]
fn other_encodings_are_refused_not_imported_as_mojibake() {
    // KOI8-R bytes are not UTF-8, and as Windows-1251 the header is nonsense.
    let (bytes, _, _) = encoding_rs::KOI8_R
        .encode("СНИЛС;Фамилия;Имя;Должность\n11223344595;Иванова;Мария;учитель\n");
    assert_eq!(
        parse(&bytes, true, today()).unwrap_err(),
        FileError(pd_domain::csv_text::TextError::Encoding.message().into())
    );
}

#[test]
fn every_bad_cell_is_reported_with_line_and_column() {
    let csv = "snils,last_name,first_name,position,organization_inn,last_pd_completed_on\n\
        11223344596,Иванова,Мария,учитель,7707083893,\n\
        11223344595,,Мария,учитель,7707083894,2099-01-01\n\
        11223344595,Иванова,Мария,учитель,7707083893,\n\
        08765430300,Петров,Пётр,учитель,7707083893,\n";
    let p = parse(csv.as_bytes(), false, today()).unwrap();
    let got: Vec<(i32, &str)> = p
        .errors
        .iter()
        .map(|e| (e.row, e.column.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, "snils"),
            (3, "last_name"),
            (3, "last_pd_completed_on"),
            (3, "organization_inn"),
            (4, "snils"),
        ]
    );
    assert_eq!(p.rows.len(), 1);
}

#[test]
fn missing_columns_are_reported_on_the_header_line() {
    let p = parse(b"snils;last_name\n11223344595;X\n", false, today()).unwrap();
    let cols: Vec<&str> = p.errors.iter().map(|e| e.column.as_str()).collect();
    assert_eq!(cols, vec!["first_name", "position", "organization_inn"]);
    assert!(p.errors.iter().all(|e| e.row == 1));
    // With an organization named by the caller, that column is optional.
    let p = parse(
        b"snils;last_name;first_name;position\n11223344595;X;Y;Z\n",
        true,
        today(),
    )
    .unwrap();
    assert_eq!((p.rows.len(), p.errors.len()), (1, 0));
}

#[test]
fn koi8_and_cp866_with_english_headers_are_refused() {
    let text = "snils;last_name;first_name;position\n11223344595;Иванова;Мария;учитель\n";
    for enc in [encoding_rs::KOI8_R, encoding_rs::IBM866] {
        let (bytes, _, _) = enc.encode(text);
        assert!(parse(&bytes, true, today()).is_err(), "{}", enc.name());
    }
}

#[test]
fn empty_file_is_refused() {
    assert!(parse(b"snils;last_name;first_name;position\n", true, today()).is_err());
}

#[test]
fn row_numbers_are_the_same_for_lf_crlf_and_cr_line_endings() {
    let csv = "snils;last_name;first_name;position;organization_inn\n\
        11223344595;Иванова;Мария;учитель;7707083893\n\
        11223344596;Петров;Пётр;учитель;7707083893\n\
        08765430300;;Олег;учитель;7707083893\n";
    for ending in ["\n", "\r\n", "\r"] {
        let file = csv.replace('\n', ending);
        let p = parse(file.as_bytes(), false, today()).unwrap();
        let got: Vec<(i32, &str)> = p
            .errors
            .iter()
            .map(|e| (e.row, e.column.as_str()))
            .collect();
        assert_eq!(got, vec![(3, "snils"), (4, "last_name")], "{ending:?}");
        assert_eq!(p.rows[0].row, 2, "{ending:?}");
    }
}

#[test]
fn over_long_cells_two_digit_years_and_zero_numbers_are_row_errors() {
    let long = "Я".repeat(3000);
    let csv = format!(
        "snils;last_name;first_name;position;organization_inn;last_pd_completed_on\n\
         11223344595;{long};Мария;учитель;7707083893;\n\
         08765430300;Петров;Пётр;учитель;7707083893;01.02.24\n\
         000-000-000 00;Сидоров;Олег;учитель;0000000000;1899-05-01\n"
    );
    let p = parse(csv.as_bytes(), false, today()).unwrap();
    let got: Vec<(i32, &str)> = p
        .errors
        .iter()
        .map(|e| (e.row, e.column.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, "last_name"),
            (3, "last_pd_completed_on"),
            (4, "snils"),
            (4, "last_pd_completed_on"),
            (4, "organization_inn"),
        ]
    );
    assert!(p.rows.is_empty());
}

#[test]
fn a_file_without_any_text_is_empty_not_missing_columns() {
    for file in [&b""[..], b"  \r\n", b"\xEF\xBB\xBF"] {
        assert_eq!(
            parse(file, true, today()).unwrap_err(),
            FileError(msg::IMPORT_EMPTY.to_owned())
        );
    }
}
