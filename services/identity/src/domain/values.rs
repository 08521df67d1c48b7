//! Parsing of the identity service's plain values.

use chrono::NaiveDate;

use crate::messages as msg;

pub const PD_MODELS: [&str; 3] = ["un_quota", "voucher_hours", "cumulative_route"];
pub const ORG_KINDS: [&str; 5] = [
    "school",
    "preschool",
    "college",
    "additional_education",
    "provider",
];

pub fn pd_model(s: &str) -> Result<String, &'static str> {
    PD_MODELS
        .iter()
        .find(|m| **m == s.trim())
        .map(|m| (*m).to_owned())
        .ok_or(msg::PD_MODEL)
}

pub fn org_kind(s: &str) -> Result<String, &'static str> {
    ORG_KINDS
        .iter()
        .find(|m| **m == s.trim())
        .map(|m| (*m).to_owned())
        .ok_or(msg::ORG_KIND)
}

/// A municipality's OKTMO code: empty, or 8 or 11 digits.
pub fn municipality_code(s: &str) -> Result<String, &'static str> {
    let s = s.trim();
    let digits = s.bytes().all(|b| b.is_ascii_digit());
    if s.is_empty() || (digits && (s.len() == 8 || s.len() == 11)) {
        Ok(s.to_owned())
    } else {
        Err(msg::MUNICIPALITY_CODE)
    }
}

/// An IANA zone name known to the time-zone database, such as
/// `Europe/Moscow` (a made-up `Mars/Olympus` is refused).
pub fn time_zone(s: &str) -> Result<String, &'static str> {
    let s = s.trim();
    match s.parse::<chrono_tz::Tz>() {
        Ok(tz) => Ok(tz.name().to_owned()),
        Err(_) => Err(msg::TIME_ZONE),
    }
}

pub fn region_code(s: &str) -> Result<String, &'static str> {
    let s = s.trim();
    let ok =
        (1..=16).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(s.to_uppercase())
    } else {
        Err(msg::REGION_CODE)
    }
}

/// The earliest date a PD record may carry.
pub const EARLIEST_DATE: (i32, u32, u32) = (1950, 1, 1);

/// `YYYY-MM-DD` or `DD.MM.YYYY` (as Excel writes it) with a four-digit
/// year (`01.02.24` would be the year 24), not before 1950, not in the future.
pub fn past_date(s: &str, today: NaiveDate) -> Result<NaiveDate, &'static str> {
    let s = s.trim();
    let year = if s.contains('-') {
        s.split('-').next()
    } else {
        s.rsplit('.').next()
    };
    if year.is_none_or(|y| y.len() != 4) {
        return Err(msg::DATE);
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d.%m.%Y"))
        .map_err(|_| msg::DATE)?;
    if d > today {
        return Err(msg::DATE_IN_FUTURE);
    }
    let (y, m, day) = EARLIEST_DATE;
    if NaiveDate::from_ymd_opt(y, m, day).is_some_and(|earliest| d < earliest) {
        return Err(msg::DATE_TOO_OLD);
    }
    Ok(d)
}

/// Optional date: empty means none.
pub fn optional_past_date(s: &str, today: NaiveDate) -> Result<Option<NaiveDate>, &'static str> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        past_date(s, today).map(Some)
    }
}

/// An optional birth date (`YYYY-MM-DD` or `DD.MM.YYYY`): an adult's,
/// born after 1920.
pub fn optional_birth_date(s: &str, today: NaiveDate) -> Result<Option<NaiveDate>, &'static str> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    let s = s.trim();
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d.%m.%Y"))
        .map_err(|_| msg::DATE)?;
    let adult = today.checked_sub_months(chrono::Months::new(16 * 12));
    let earliest = NaiveDate::from_ymd_opt(1920, 1, 1);
    if adult.is_some_and(|a| d > a) || earliest.is_some_and(|e| d < e) {
        return Err(msg::BIRTH_DATE);
    }
    Ok(Some(d))
}

/// `male`, `female`, or empty (unknown).
pub fn sex(s: &str) -> Result<String, &'static str> {
    match s.trim() {
        "" => Ok(String::new()),
        "male" | "female" => Ok(s.trim().to_owned()),
        _ => Err(msg::SEX),
    }
}

/// Sex as a staff file writes it: `male`/`female`, or м/ж, муж/жен,
/// мужской/женский; empty for unknown.
pub fn import_sex(s: &str) -> Result<String, &'static str> {
    match s.trim().to_lowercase().as_str() {
        "" => Ok(String::new()),
        "male" | "м" | "муж" | "мужской" => Ok("male".to_owned()),
        "female" | "ж" | "жен" | "женский" => Ok("female".to_owned()),
        _ => Err(msg::SEX_IMPORT),
    }
}

/// A required name part (last, first name) or position: normalized, not
/// empty, at most `max` characters.
pub fn required_text(s: &str, max: usize) -> Result<String, String> {
    let v = name_part(s);
    if v.is_empty() {
        Err(msg::REQUIRED.to_owned())
    } else if v.chars().count() > max {
        Err(pd_domain::bounds::too_long(max))
    } else {
        Ok(v)
    }
}

/// An optional name part (middle name): normalized, at most `max` characters.
pub fn optional_text(s: &str, max: usize) -> Result<String, String> {
    let v = name_part(s);
    if v.chars().count() > max {
        Err(pd_domain::bounds::too_long(max))
    } else {
        Ok(v)
    }
}

/// Subjects taught, each bounded, at most a list's worth.
pub fn subject_list(items: &[String]) -> Result<Vec<String>, String> {
    use pd_domain::bounds::{LIST, NAME, too_long, too_many};
    let items: Vec<String> = items
        .iter()
        .map(|s| name_part(s))
        .filter(|s| !s.is_empty())
        .collect();
    if items.len() > LIST {
        return Err(too_many(LIST));
    }
    if items.iter().any(|s| s.chars().count() > NAME) {
        return Err(too_long(NAME));
    }
    Ok(items)
}

/// A person's name part: trimmed, inner whitespace collapsed.
pub fn name_part(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Subjects taught: split on `|`, `;` or `,`, trimmed, empty ones dropped.
pub fn subjects(s: &str) -> Vec<String> {
    s.split(['|', ';', ','])
        .map(name_part)
        .filter(|x| !x.is_empty())
        .collect()
}

pub fn login(s: &str) -> Result<String, &'static str> {
    let s = s.trim().to_lowercase();
    let ok = (3..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok { Ok(s) } else { Err(msg::LOGIN) }
}

/// At least 10 characters; at most 256, since Argon2id hashes every byte.
pub fn password(s: &str) -> Result<&str, &'static str> {
    if (10..=256).contains(&s.chars().count()) {
        Ok(s)
    } else {
        Err(msg::PASSWORD)
    }
}

#[cfg(test)]
mod tests;
