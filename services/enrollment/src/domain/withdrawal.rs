//! Why an educator withdraws an application (seed 000: "отказаться от
//! заявления с указанием причины"): a closed list the dashboards count,
//! and `other` with a note.

pub const REASONS: [&str; 5] = ["illness", "work", "family", "schedule", "other"];

#[derive(Debug, PartialEq, Eq)]
pub enum ReasonError {
    Unknown,
    NoteRequired,
}

/// The reason as stored, or why it is not accepted.
pub fn check(reason: &str, note: &str) -> Result<(), ReasonError> {
    if !REASONS.contains(&reason) {
        return Err(ReasonError::Unknown);
    }
    if reason == "other" && note.trim().is_empty() {
        return Err(ReasonError::NoteRequired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_reason_is_enough_and_other_needs_a_note() {
        assert_eq!(check("illness", ""), Ok(()));
        assert_eq!(check("other", " "), Err(ReasonError::NoteRequired));
        assert_eq!(check("other", "переезд"), Ok(()));
        assert_eq!(check("bored", "x"), Err(ReasonError::Unknown));
        assert_eq!(check("", ""), Err(ReasonError::Unknown));
    }
}
