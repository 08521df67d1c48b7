use super::*;

#[test]
fn valid_numbers_parse_in_any_spelling() {
    assert_eq!(
        Snils::parse("112-233-445 95").unwrap().as_str(),
        "11223344595"
    );
    assert_eq!(
        Snils::parse("11223344595").unwrap().formatted(),
        "112-233-445 95"
    );
    // sum == 101 → control 00
    assert!(Snils::parse("087-654-303 00").is_ok());
}

#[test]
fn bad_checksum_is_refused() {
    assert_eq!(Snils::parse("112-233-445 96"), Err(SnilsError::Checksum));
}

#[test]
fn bad_length_is_refused() {
    assert_eq!(Snils::parse("112-233-445 9"), Err(SnilsError::Length));
    assert_eq!(Snils::parse(""), Err(SnilsError::Length));
    assert_eq!(Snils::parse("112233445950"), Err(SnilsError::Length));
}

#[test]
fn non_digits_are_refused() {
    assert_eq!(Snils::parse("112-233-44A 95"), Err(SnilsError::NonDigit));
}

#[test]
fn generated_numbers_are_valid_and_masked_in_debug() {
    let s = Snils::from_body(123_456_789).unwrap();
    assert_eq!(Snils::parse(s.as_str()).unwrap(), s);
    assert!(!format!("{s:?}").contains("123456789"));
}

#[test]
fn the_all_zero_number_is_refused() {
    assert_eq!(Snils::parse("000-000-000 00").err(), Some(SnilsError::Zero));
}
