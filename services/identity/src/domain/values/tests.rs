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
}

#[test]
fn values_are_checked() {
    assert!(pd_model("un_quota").is_ok());
    assert!(pd_model("quota").is_err());
    assert!(time_zone("Europe/Moscow").is_ok());
    assert!(time_zone("Moscow").is_err());
    assert_eq!(region_code("ru-ta").unwrap(), "RU-TA");
    assert_eq!(
        subjects("Математика | Физика;  ,Информатика"),
        vec!["Математика", "Физика", "Информатика"]
    );
    assert_eq!(login(" Ivanov.A ").unwrap(), "ivanov.a");
    assert!(login("иванов").is_err());
}
