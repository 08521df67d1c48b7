//! INN: the Russian taxpayer number. Organizations have 10 digits with one
//! check digit; individuals (sole providers) have 12 with two.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Inn(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InnError {
    #[error("ИНН должен содержать 10 или 12 цифр")]
    Length,
    #[error("ИНН может содержать только цифры")]
    NonDigit,
    #[error("неверная контрольная сумма ИНН")]
    Checksum,
    /// The first two digits are the code of the tax office's region; `00`
    /// is none (and catches the all-zero number, whose checksum "passes").
    #[error("ИНН не может начинаться с 00 (код региона)")]
    Region,
}

const W10: [u32; 9] = [2, 4, 10, 3, 5, 9, 4, 6, 8];
const W11: [u32; 10] = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
const W12: [u32; 11] = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];

fn check_digit(digits: &[u32], weights: &[u32]) -> u32 {
    let sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
    (sum % 11) % 10
}

impl Inn {
    pub fn parse(input: &str) -> Result<Self, InnError> {
        let s = input.trim();
        if !s.chars().all(|c| c.is_ascii_digit()) {
            return Err(InnError::NonDigit);
        }
        let d: Vec<u32> = s.bytes().map(|b| u32::from(b - b'0')).collect();
        let ok = match d.len() {
            10 => check_digit(&d[..9], &W10) == d[9],
            12 => check_digit(&d[..10], &W11) == d[10] && check_digit(&d[..11], &W12) == d[11],
            _ => return Err(InnError::Length),
        };
        if s.starts_with("00") {
            return Err(InnError::Region);
        }
        if ok {
            Ok(Inn(s.to_owned()))
        } else {
            Err(InnError::Checksum)
        }
    }

    /// Builds a valid ten-digit INN from a nine-digit body (demo data, tests).
    pub fn from_body(body: u32) -> Option<Self> {
        if body > 999_999_999 {
            return None;
        }
        let s = format!("{body:09}");
        let d: Vec<u32> = s.bytes().map(|b| u32::from(b - b'0')).collect();
        Some(Inn(format!("{s}{}", check_digit(&d, &W10))))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Inn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests;
