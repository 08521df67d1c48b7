use super::*;

#[test]
fn dates_in_both_spellings_and_never_in_future() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    assert_eq!(
        past_date("2023-05-31", today),
        past_date("31.05.2023", today)
    );
    assert_eq!(past_date("2027-01-01", today), Err(msg::DATE_IN_FUTURE));
    assert_eq!(past_date("31/05/2023", today), Err(msg::DATE));
    assert_eq!(optional_past_date(" ", today), Ok(None));
    assert_eq!(past_date("01.02.24", today), Err(msg::DATE));
    assert_eq!(past_date("24-02-01", today), Err(msg::DATE));
    assert_eq!(past_date("1899-12-31", today), Err(msg::DATE_TOO_OLD));
    assert_eq!(
        past_date("01.01.1950", today).map(|d| d.to_string()),
        Ok("1950-01-01".to_owned())
    );
}

#[test]
fn values_are_checked() {
    assert!(pd_model("un_quota").is_ok());
    assert!(pd_model("quota").is_err());
    assert!(time_zone("Europe/Moscow").is_ok());
    assert!(time_zone("Moscow").is_err());
    assert!(time_zone("Mars/Olympus").is_err());
    assert_eq!(
        time_zone(" Asia/Yekaterinburg ").unwrap(),
        "Asia/Yekaterinburg"
    );
    assert!(required_text(&"я".repeat(101), 100).is_err());
    assert_eq!(
        required_text("  Иванова  Мария ", 100).unwrap(),
        "Иванова Мария"
    );
    assert!(subject_list(&vec!["x".to_owned(); 101]).is_err());
    assert_eq!(region_code("ru-ta").unwrap(), "RU-TA");
    assert_eq!(
        subjects("Математика | Физика;  ,Информатика"),
        vec!["Математика", "Физика", "Информатика"]
    );
    assert_eq!(login(" Ivanov.A ").unwrap(), "ivanov.a");
    assert!(login("иванов").is_err());
}
