//! SNILS: the Russian personal insurance number, 11 digits where the last
//! two are a checksum of the first nine.

use std::fmt;

/// A SNILS whose format and checksum were verified. Holds the 11 digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Snils(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnilsError {
    #[error("СНИЛС должен содержать 11 цифр")]
    Length,
    #[error("СНИЛС может содержать только цифры, пробелы и дефисы")]
    NonDigit,
    #[error("неверная контрольная сумма СНИЛС")]
    Checksum,
    #[error("такого номера СНИЛС не бывает")]
    Zero,
}

impl Snils {
    /// Parses `XXX-XXX-XXX YY`, `XXXXXXXXXXX` and similar spellings.
    pub fn parse(input: &str) -> Result<Self, SnilsError> {
        let mut digits = String::with_capacity(11);
        for c in input.trim().chars() {
            match c {
                '0'..='9' => digits.push(c),
                '-' | ' ' => {}
                _ => return Err(SnilsError::NonDigit),
            }
        }
        if digits.len() != 11 {
            return Err(SnilsError::Length);
        }
        let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        let number: u32 = d[..9].iter().fold(0, |acc, x| acc * 10 + x);
        let control = d[9] * 10 + d[10];
        if number == 0 {
            return Err(SnilsError::Zero);
        }
        // The checksum is defined only for numbers above 001-001-998.
        if number > 1_001_998 && checksum(&d[..9]) != control {
            return Err(SnilsError::Checksum);
        }
        Ok(Snils(digits))
    }

    /// Builds a valid SNILS from a nine-digit body (demo data, tests).
    pub fn from_body(body: u32) -> Option<Self> {
        if !(1_001_999..=999_999_999).contains(&body) {
            return None;
        }
        let s = format!("{body:09}");
        let d: Vec<u32> = s.bytes().map(|b| u32::from(b - b'0')).collect();
        Some(Snils(format!("{s}{:02}", checksum(&d))))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `XXX-XXX-XXX YY`, the way it is printed on the card.
    pub fn formatted(&self) -> String {
        let s = &self.0;
        format!("{}-{}-{} {}", &s[0..3], &s[3..6], &s[6..9], &s[9..11])
    }

    /// Shown to roles that do not need the number: only the last two digits.
    pub fn masked(&self) -> String {
        format!("***-***-*** {}", &self.0[9..11])
    }
}

fn checksum(body: &[u32]) -> u32 {
    let sum: u32 = body
        .iter()
        .enumerate()
        .map(|(i, d)| d * (9 - i as u32))
        .sum();
    match sum {
        s if s < 100 => s,
        100 | 101 => 0,
        s => {
            let r = s % 101;
            if r == 100 { 0 } else { r }
        }
    }
}

// Never print the number in logs by accident.
impl fmt::Debug for Snils {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Snils({})", self.masked())
    }
}

#[cfg(test)]
mod tests;
