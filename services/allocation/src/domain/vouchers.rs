//! The named voucher of the `voucher_hours` model (seed 003): 72 hours as
//! two 36-hour blocks, one of which must be spent on a program matching a
//! subject the educator teaches; vocational masters and teachers of special
//! disciplines get 90 hours, one 36-hour block and one 54-hour internship.

/// One block of a voucher: its kind (`subject`, `free`, `internship`) and hours.
pub type Block = (&'static str, i32);

pub const STANDARD: [Block; 2] = [("subject", 36), ("free", 36)];
pub const VOCATIONAL: [Block; 2] = [("free", 36), ("internship", 54)];

/// Hours of the standard voucher, the unit of the funded-places count.
pub const STANDARD_HOURS: i64 = 72;

/// Whether a position is a vocational master's or a teacher of special
/// disciplines (мастер производственного обучения, преподаватель
/// специальных дисциплин), who get the 90-hour voucher.
pub fn is_vocational(position: &str) -> bool {
    let p = position.to_lowercase();
    (p.contains("мастер") && p.contains("производственн")) || p.contains("специальных дисциплин")
}

pub fn blocks(position: &str) -> &'static [Block; 2] {
    if is_vocational(position) {
        &VOCATIONAL
    } else {
        &STANDARD
    }
}

pub fn hours(blocks: &[Block]) -> i32 {
    blocks.iter().map(|b| b.1).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teachers_get_72_hours_masters_90_with_an_internship() {
        let t = blocks("Учитель математики");
        assert_eq!(hours(t), 72);
        assert!(t.iter().any(|b| b.0 == "subject"));
        let m = blocks("Мастер производственного обучения");
        assert_eq!(hours(m), 90);
        assert!(m.contains(&("internship", 54)));
        assert_eq!(hours(blocks("Преподаватель специальных дисциплин")), 90);
    }
}
