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

/// Which vouchers the budget's hours pay for. Places are counted as
/// 72-hour vouchers, so when 90-hour vouchers push the cost past the
/// budget, the last of each organization's order (the highest rank; among
/// equals, the last given) lose theirs first until the rest fit.
pub fn within_budget(vouchers: &[(i64, i32)], budget_hours: i64) -> Vec<bool> {
    let mut keep = vec![true; vouchers.len()];
    let mut cost: i64 = vouchers.iter().map(|v| i64::from(v.1)).sum();
    let mut last_first: Vec<usize> = (0..vouchers.len()).collect();
    last_first.sort_by_key(|&i| std::cmp::Reverse((vouchers[i].0, i)));
    for i in last_first {
        if cost <= budget_hours {
            break;
        }
        keep[i] = false;
        cost -= i64::from(vouchers[i].1);
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ninety_hour_vouchers_past_the_budget_cost_the_last_ranked_theirs() {
        // (rank in the organization, hours); 3 places = 216 h.
        let v = [(1, 72), (1, 90), (2, 72)];
        assert_eq!(within_budget(&v, 216), [true, true, false]);
        assert_eq!(within_budget(&v, 234), [true, true, true]);
        // Among equal ranks, the one given last goes first.
        assert_eq!(within_budget(&v, 100), [true, false, false]);
        assert_eq!(within_budget(&[], 0), Vec::<bool>::new());
    }

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
