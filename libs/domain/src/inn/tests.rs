use super::*;

#[test]
fn valid_organization_and_personal_numbers() {
    // Sberbank (10 digits) and a well-known valid 12-digit example.
    assert!(Inn::parse("7707083893").is_ok());
    assert!(Inn::parse("500100732259").is_ok());
    assert!(Inn::parse(" 1655000000 ").is_err());
}

#[test]
fn bad_checksum_is_refused() {
    assert_eq!(Inn::parse("7707083894"), Err(InnError::Checksum));
    assert_eq!(Inn::parse("500100732258"), Err(InnError::Checksum));
}

#[test]
fn bad_length_is_refused() {
    assert_eq!(Inn::parse("770708389"), Err(InnError::Length));
    assert_eq!(Inn::parse("77070838931"), Err(InnError::Length));
}

#[test]
fn non_digits_are_refused() {
    assert_eq!(Inn::parse("77070838A3"), Err(InnError::NonDigit));
}

#[test]
fn generated_numbers_are_valid() {
    let inn = Inn::from_body(165_512_345).unwrap();
    assert_eq!(Inn::parse(inn.as_str()).unwrap(), inn);
}

#[test]
fn the_all_zero_number_and_region_00_are_refused() {
    assert_eq!(Inn::parse("0000000000"), Err(InnError::Region));
    assert_eq!(Inn::parse("000000000000"), Err(InnError::Region));
}
