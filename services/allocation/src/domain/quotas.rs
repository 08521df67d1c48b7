//! Sharing funded places among units (municipalities, organizations) in
//! proportion to their confirmed candidates by the largest-remainder
//! (Hamilton) method: each unit gets the floor of its exact share, then the
//! places left go one each to the largest remainders. Ties in the remainder
//! go to the unit with more candidates, then to the smaller id, so the
//! result is the same on every run. Places of people (numbers, vouchers)
//! are capped: no unit gets more than it has candidates, and with more
//! places than candidates everyone is funded and the rest stays with the
//! region. Hours of a plan-order are shared whole.

use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub unit: Uuid,
    pub candidates: i64,
    /// `places × candidates`; the exact share is this over the total candidates.
    pub numerator: i64,
    pub floor: i64,
    /// 1 = the largest remainder.
    pub remainder_rank: i64,
    pub extra: bool,
    pub quota: i64,
}

/// `units` are (id, confirmed candidates). Returns one share per unit, in
/// the order given, and the places nobody could take (`capped`: at most
/// one place per candidate).
pub fn largest_remainder(places: i64, units: &[(Uuid, i64)], capped: bool) -> (Vec<Share>, i64) {
    let total: i64 = units.iter().map(|u| u.1.max(0)).sum();
    if total == 0 {
        let shares = units.iter().map(|&(unit, c)| Share {
            unit,
            candidates: c,
            numerator: 0,
            floor: 0,
            remainder_rank: 0,
            extra: false,
            quota: 0,
        });
        return (shares.collect(), places);
    }
    // With places for everyone, each unit gets its candidates.
    let shared = if capped { places.min(total) } else { places };
    let mut shares: Vec<Share> = units
        .iter()
        .map(|&(unit, c)| {
            let c = c.max(0);
            let numerator = shared * c;
            Share {
                unit,
                candidates: c,
                numerator,
                floor: numerator / total,
                remainder_rank: 0,
                extra: false,
                quota: numerator / total,
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&shares[a], &shares[b]);
        (y.numerator % total)
            .cmp(&(x.numerator % total))
            .then(y.candidates.cmp(&x.candidates))
            .then(x.unit.cmp(&y.unit))
    });
    let left = shared - shares.iter().map(|s| s.floor).sum::<i64>();
    for (rank, &i) in order.iter().enumerate() {
        shares[i].remainder_rank = rank as i64 + 1;
        if (rank as i64) < left {
            shares[i].extra = true;
            shares[i].quota += 1;
        }
    }
    (shares, places - shared)
}

/// `numerator / denominator` with two decimals, rounded down (as shown to operators).
pub fn decimal(numerator: i64, denominator: i64) -> String {
    if denominator == 0 {
        return "0".into();
    }
    let hundredths = numerator * 100 / denominator;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u128) -> Vec<Uuid> {
        (1..=n).map(Uuid::from_u128).collect()
    }

    #[test]
    fn parts_add_up_exactly_and_largest_remainders_win() {
        let u = ids(3);
        // 10 places over 5, 3, 2 candidates of 10... exact shares 5, 3, 2.
        let (s, unused) = largest_remainder(10, &[(u[0], 5), (u[1], 3), (u[2], 2)], true);
        assert_eq!(s.iter().map(|s| s.quota).collect::<Vec<_>>(), vec![5, 3, 2]);
        assert_eq!(unused, 0);
        // 7 places over 5, 3, 2: exact 3.5, 2.1, 1.4 → floors 3, 2, 1, one left → the 0.5.
        let (s, _) = largest_remainder(7, &[(u[0], 5), (u[1], 3), (u[2], 2)], true);
        assert_eq!(s.iter().map(|s| s.quota).collect::<Vec<_>>(), vec![4, 2, 1]);
        assert!(s[0].extra && s[0].remainder_rank == 1);
        assert_eq!(s.iter().map(|s| s.quota).sum::<i64>(), 7);
    }

    #[test]
    fn ties_go_to_more_candidates_then_smaller_id() {
        let u = ids(3);
        // 1 place over 1, 1, 1: all remainders equal → the smallest id.
        let (s, _) = largest_remainder(1, &[(u[2], 1), (u[0], 1), (u[1], 1)], true);
        assert_eq!(s[1].quota, 1);
        assert_eq!(s.iter().map(|s| s.quota).sum::<i64>(), 1);
    }

    #[test]
    fn more_places_than_candidates_leaves_the_rest_unused() {
        let u = ids(2);
        let (s, unused) = largest_remainder(10, &[(u[0], 3), (u[1], 4)], true);
        assert_eq!(s[0].quota + s[1].quota, 7);
        assert_eq!(unused, 3);
        let (_, unused) = largest_remainder(5, &[(u[0], 0)], true);
        assert_eq!(unused, 5);
        // Hours are shared whole: 10 over 3 and 4 → 4.28 and 5.71 → 4 and 6.
        let (s, unused) = largest_remainder(10, &[(u[0], 3), (u[1], 4)], false);
        assert_eq!((s[0].quota, s[1].quota, unused), (4, 6, 0));
    }

    #[test]
    fn decimals_for_people() {
        assert_eq!(decimal(7 * 5, 10), "3.50");
        assert_eq!(decimal(7 * 3, 10), "2.10");
        assert_eq!(decimal(1, 3), "0.33");
    }
}
