//! Certificates and transcripts: the verification code, the holder's name
//! as a public page may show it, and which document a cumulative route
//! earns (seed 004: a certificate when every module of the route is
//! credited within six months, otherwise a transcript of the modules).

use chrono::{Months, NaiveDate};
use rand::Rng;

use super::completions::Credit;

/// No 0/O, 1/I/L: a code is read off paper and typed in.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// `XXXX-XXXX-XXXX`: 60 bits, not guessable by walking codes.
pub fn new_code() -> String {
    let mut rng = rand::thread_rng();
    let chars: Vec<char> = (0..12)
        .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A typed-in code in its stored form (case, spaces and dashes forgiven).
pub fn normalize_code(raw: &str) -> Option<String> {
    let chars: Vec<char> = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if chars.len() != 12
        || !chars
            .iter()
            .all(|c| u8::try_from(*c).is_ok_and(|b| CODE_ALPHABET.contains(&b)))
    {
        return None;
    }
    Some(
        chars
            .chunks(4)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("-"),
    )
}

/// "Иванова Мария Петровна" → "И***** М. П.": enough to match a paper
/// document, not enough to find the person (152-FZ).
pub fn masked_name(last: &str, first: &str, middle: &str) -> String {
    let initial = |s: &str| s.chars().next().map(|c| format!("{c}."));
    let mut last_chars = last.chars();
    let mut out = match last_chars.next() {
        Some(c) => format!("{c}{}", "*".repeat(last_chars.count())),
        None => String::new(),
    };
    for i in [initial(first), initial(middle)].into_iter().flatten() {
        out.push(' ');
        out.push_str(&i);
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Earned {
    Certificate,
    Transcript,
}

impl Earned {
    pub fn as_str(self) -> &'static str {
        match self {
            Earned::Certificate => "certificate",
            Earned::Transcript => "transcript",
        }
    }
}

/// What a cumulative route's credits earn: a certificate when every
/// module of the route is credited and the first and last credit lie
/// within six months; otherwise a transcript.
pub fn cumulative(route: &[String], credits: &[Credit]) -> Earned {
    let all = !route.is_empty()
        && route.iter().all(|m| {
            credits
                .iter()
                .any(|c| c.name.to_lowercase() == m.to_lowercase())
        });
    let first = credits.iter().map(|c| c.credited_on).min();
    let last = credits.iter().map(|c| c.credited_on).max();
    let within = match (first, last) {
        (Some(f), Some(l)) => f.checked_add_months(Months::new(6)).is_some_and(|d| l <= d),
        _ => false,
    };
    if all && within {
        Earned::Certificate
    } else {
        Earned::Transcript
    }
}

/// Hours of the credited modules.
pub fn credited_hours(credits: &[Credit]) -> i32 {
    credits.iter().map(|c| c.hours).sum()
}

/// The earliest credit, for a transcript's period.
pub fn first_credit(credits: &[Credit]) -> Option<NaiveDate> {
    credits.iter().map(|c| c.credited_on).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credit(name: &str, on: &str) -> Credit {
        Credit {
            name: name.into(),
            hours: 18,
            credited_on: NaiveDate::parse_from_str(on, "%Y-%m-%d").unwrap_or_default(),
        }
    }

    #[test]
    fn codes_are_read_back_whatever_the_typing() {
        let c = new_code();
        assert_eq!(c.len(), 14);
        assert_eq!(
            normalize_code(&c.to_lowercase().replace('-', " ")),
            Some(c.clone())
        );
        assert_eq!(normalize_code("0000-0000-0000"), None);
        assert_eq!(normalize_code("ABC"), None);
        // A character beyond ASCII is not the one its low byte would be.
        let mut wide = c.replace('-', "");
        wide.replace_range(0..1, "\u{0132}");
        assert_eq!(normalize_code(&wide), None, "{wide}");
    }

    #[test]
    fn names_are_masked() {
        assert_eq!(masked_name("Иванова", "Мария", "Петровна"), "И****** М. П.");
        assert_eq!(masked_name("Ли", "Ан", ""), "Л* А.");
    }

    #[test]
    fn a_route_earns_a_certificate_only_complete_and_within_six_months() {
        let route = vec!["Модуль 1".to_owned(), "Модуль 2".to_owned()];
        let both = [
            credit("модуль 1", "2027-01-10"),
            credit("Модуль 2", "2027-07-10"),
        ];
        assert_eq!(cumulative(&route, &both), Earned::Certificate);
        let late = [
            credit("Модуль 1", "2027-01-10"),
            credit("Модуль 2", "2027-07-11"),
        ];
        assert_eq!(cumulative(&route, &late), Earned::Transcript);
        assert_eq!(cumulative(&route, &both[..1]), Earned::Transcript);
        assert_eq!(credited_hours(&both), 36);
    }
}
