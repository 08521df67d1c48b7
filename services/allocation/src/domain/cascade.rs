//! Whose turn it is to give a freed place to someone (seed 002, sixth
//! stage): the organization's operator within the organization first; after
//! `organization_days` without a reassignment the municipal operator within
//! the municipality; after a further `municipality_days` the regional
//! operator anywhere in the region. The region's reserve is the regional
//! operator's from the start.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Organization,
    Municipality,
    Region,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Organization => "organization",
            Level::Municipality => "municipality",
            Level::Region => "region",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Windows {
    pub organization_days: u32,
    pub municipality_days: u32,
}

/// When the organization's and the municipality's turns end.
pub fn deadlines(freed_at: DateTime<Utc>, w: Windows) -> (DateTime<Utc>, DateTime<Utc>) {
    let org = freed_at + Duration::days(i64::from(w.organization_days));
    (org, org + Duration::days(i64::from(w.municipality_days)))
}

/// The level whose turn it is now; `reserve` places belong to the region.
pub fn level_at(freed_at: DateTime<Utc>, reserve: bool, w: Windows, now: DateTime<Utc>) -> Level {
    if reserve {
        return Level::Region;
    }
    let (org_until, muni_until) = deadlines(freed_at, w);
    if now < org_until {
        Level::Organization
    } else if now < muni_until {
        Level::Municipality
    } else {
        Level::Region
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_turn_moves_up_when_each_window_ends() {
        let w = Windows {
            organization_days: 5,
            municipality_days: 3,
        };
        let t = Utc::now();
        assert_eq!(level_at(t, false, w, t), Level::Organization);
        assert_eq!(
            level_at(t, false, w, t + Duration::days(5) - Duration::seconds(1)),
            Level::Organization
        );
        assert_eq!(
            level_at(t, false, w, t + Duration::days(5)),
            Level::Municipality
        );
        assert_eq!(level_at(t, false, w, t + Duration::days(8)), Level::Region);
        assert_eq!(level_at(t, true, w, t), Level::Region);
    }
}
