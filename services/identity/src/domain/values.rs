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

/// An IANA zone name such as `Europe/Moscow` (shape only), or `UTC`.
pub fn time_zone(s: &str) -> Result<String, &'static str> {
    let s = s.trim();
    let ok = s == "UTC"
        || (s.contains('/')
            && s.split('/').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
            }));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(msg::TIME_ZONE)
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

/// `YYYY-MM-DD` or `DD.MM.YYYY` (as Excel writes it), not in the future.
pub fn past_date(s: &str, today: NaiveDate) -> Result<NaiveDate, &'static str> {
    let s = s.trim();
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d.%m.%Y"))
        .map_err(|_| msg::DATE)?;
    if d > today {
        return Err(msg::DATE_IN_FUTURE);
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

/// Free text of at most `max` characters.
pub fn bounded(s: &str, max: usize) -> Result<&str, &'static str> {
    if s.chars().count() <= max {
        Ok(s)
    } else {
        Err(msg::TOO_LONG)
    }
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
