//! Unique numbers: 15 random characters of Crockford's base-32 alphabet
//! (75 bits: not guessable) and one check character by the Luhn mod N
//! algorithm, which catches every single mistyped character and most
//! swaps of neighbours. Written in groups of four: `7KQ2-XM4P-0D9R-WT3F`.

use rand::Rng;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const RANDOM_CHARS: usize = 15;

fn value(c: u8) -> Option<usize> {
    ALPHABET.iter().position(|&a| a == c)
}

/// The Luhn mod 32 check character of `body`.
fn check_char(body: &[u8]) -> Option<u8> {
    let n = ALPHABET.len();
    let mut sum = 0;
    // From the right, doubling every other value starting with the rightmost.
    for (i, &c) in body.iter().rev().enumerate() {
        let mut v = value(c)?;
        if i % 2 == 0 {
            v *= 2;
            v = v / n + v % n;
        }
        sum += v;
    }
    Some(ALPHABET[(n - sum % n) % n])
}

/// A new random number, formatted.
pub fn generate(rng: &mut impl Rng) -> String {
    let mut body: Vec<u8> = (0..RANDOM_CHARS)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())])
        .collect();
    if let Some(c) = check_char(&body) {
        body.push(c);
    }
    format(&body)
}

fn format(chars: &[u8]) -> String {
    chars
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

#[derive(Debug, PartialEq, Eq)]
pub enum NumberError {
    /// Not 16 characters of the alphabet.
    Malformed,
    /// The check character does not match: a typo.
    Mistyped,
}

/// The number as typed, normalized (`XXXX-XXXX-XXXX-XXXX`): case, spaces
/// and dashes do not matter; O reads as 0, I and L as 1 (Crockford).
pub fn parse(input: &str) -> Result<String, NumberError> {
    let chars: Vec<u8> = input
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\u{2013}' | '\u{2014}'))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => b'0',
            'I' | 'L' => b'1',
            c if c.is_ascii() => c as u8,
            _ => b'?',
        })
        .collect();
    if chars.len() != RANDOM_CHARS + 1 || chars.iter().any(|&c| value(c).is_none()) {
        return Err(NumberError::Malformed);
    }
    let (body, check) = chars.split_at(RANDOM_CHARS);
    if check_char(body) != Some(check[0]) {
        return Err(NumberError::Mistyped);
    }
    Ok(format(&chars))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_numbers_parse_back_in_any_spelling() {
        let mut rng = rand::thread_rng();
        for _ in 0..200 {
            let n = generate(&mut rng);
            assert_eq!(n.len(), 19);
            assert_eq!(parse(&n), Ok(n.clone()));
            assert_eq!(parse(&n.replace('-', " ").to_lowercase()), Ok(n.clone()));
        }
    }

    #[test]
    fn every_single_character_typo_is_caught() {
        let mut rng = rand::thread_rng();
        for _ in 0..50 {
            let n = generate(&mut rng).replace('-', "");
            for pos in 0..n.len() {
                for &c in ALPHABET {
                    let mut typo = n.clone().into_bytes();
                    if typo[pos] == c {
                        continue;
                    }
                    typo[pos] = c;
                    let typo = String::from_utf8(typo).unwrap_or_default();
                    assert_eq!(parse(&typo), Err(NumberError::Mistyped), "{n} → {typo}");
                }
            }
        }
    }

    #[test]
    fn wrong_lengths_and_letters_are_malformed() {
        assert_eq!(parse("ABC"), Err(NumberError::Malformed));
        assert_eq!(parse("UUUU-UUUU-UUUU-UUUU"), Err(NumberError::Malformed));
        assert_eq!(parse("ЖЖЖЖ-ЖЖЖЖ-ЖЖЖЖ-ЖЖЖЖ"), Err(NumberError::Malformed));
    }
}
