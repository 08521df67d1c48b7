//! Which blocks of a named voucher (`voucher_hours`, seed 003) an
//! application spends. A voucher is 72 hours as two 36-hour blocks, one
//! of which must go to a program matching a subject the educator teaches,
//! or, for vocational masters, 36 hours plus a 54-hour internship. So:
//! - a `subject` block pays only for a program whose target subjects
//!   include one the educator teaches (and not for an internship);
//! - an `internship` block pays only for an internship program;
//! - a `free` block pays for any program;
//! - an application spends open blocks until the program's hours are
//!   covered, the most constrained first (the subject or internship block
//!   where it may be spent, since it can be spent on little else).

/// One block of the voucher as enrollment knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub position: i32,
    /// subject | free | internship
    pub kind: String,
    pub hours: i32,
    /// Not spent by an active application.
    pub open: bool,
}

/// What the rules need of the program applied for.
#[derive(Debug, Clone, Copy)]
pub struct Program<'a> {
    /// ordinary | internship | cumulative
    pub kind: &'a str,
    pub hours: i32,
    /// The program's target subjects.
    pub subjects: &'a [String],
}

/// Why no blocks can pay for the program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoucherError {
    /// Only the subject block is left, and the program matches no subject taught.
    SubjectMismatch,
    /// Only the internship block is left, and the program is no internship.
    InternshipOnly,
    /// The open blocks that may pay have fewer hours than the program.
    NotEnoughHours { left: i32 },
}

/// Whether the program targets one of the subjects taught (case and
/// surrounding spaces do not matter).
pub fn matches_subject(program: &[String], taught: &[String]) -> bool {
    let norm = |s: &String| s.trim().to_lowercase();
    program
        .iter()
        .map(norm)
        .any(|p| !p.is_empty() && taught.iter().map(norm).any(|t| t == p))
}

fn may_pay(kind: &str, program: &Program, subject_match: bool) -> bool {
    let internship = program.kind == "internship";
    match kind {
        "internship" => internship,
        "subject" => subject_match && !internship,
        _ => true,
    }
}

/// The positions of the blocks the application spends.
pub fn choose(
    blocks: &[Block],
    program: &Program,
    taught: &[String],
) -> Result<Vec<i32>, VoucherError> {
    let subject_match = matches_subject(program.subjects, taught);
    let mut payers: Vec<&Block> = blocks
        .iter()
        .filter(|b| b.open && may_pay(&b.kind, program, subject_match))
        .collect();
    // The constrained blocks first, then by position.
    payers.sort_by_key(|b| (b.kind == "free", b.position));
    let need = program.hours.max(1);
    let (mut chosen, mut hours) = (Vec::new(), 0);
    for b in payers {
        if hours >= need {
            break;
        }
        chosen.push(b.position);
        hours += b.hours;
    }
    if hours >= need {
        chosen.sort_unstable();
        return Ok(chosen);
    }
    let open_unfit = |kind: &str| blocks.iter().any(|b| b.open && b.kind == kind);
    if !subject_match && program.kind != "internship" && open_unfit("subject") {
        Err(VoucherError::SubjectMismatch)
    } else if program.kind != "internship" && open_unfit("internship") && hours == 0 {
        Err(VoucherError::InternshipOnly)
    } else {
        Err(VoucherError::NotEnoughHours { left: hours })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voucher(kinds: &[(&str, i32, bool)]) -> Vec<Block> {
        kinds
            .iter()
            .enumerate()
            .map(|(i, (kind, hours, open))| Block {
                position: i as i32 + 1,
                kind: (*kind).into(),
                hours: *hours,
                open: *open,
            })
            .collect()
    }

    fn subjects(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_matching_program_spends_the_subject_block_first_and_others_only_the_free_one() {
        let v = voucher(&[("subject", 36, true), ("free", 36, true)]);
        let maths = subjects(&["Математика"]);
        let taught = subjects(&[" математика "]);
        let p = Program {
            kind: "ordinary",
            hours: 36,
            subjects: &maths,
        };
        assert_eq!(choose(&v, &p, &taught), Ok(vec![1]));
        let history = subjects(&["История"]);
        let p = Program {
            kind: "ordinary",
            hours: 36,
            subjects: &history,
        };
        assert_eq!(choose(&v, &p, &taught), Ok(vec![2]));
        // A 72-hour matching program takes both blocks.
        let p = Program {
            kind: "ordinary",
            hours: 72,
            subjects: &maths,
        };
        assert_eq!(choose(&v, &p, &taught), Ok(vec![1, 2]));
    }

    #[test]
    fn the_subject_block_is_never_spent_on_a_program_of_another_subject() {
        let v = voucher(&[("subject", 36, true), ("free", 36, false)]);
        let history = subjects(&["История"]);
        let p = Program {
            kind: "ordinary",
            hours: 36,
            subjects: &history,
        };
        let taught = subjects(&["Математика"]);
        assert_eq!(choose(&v, &p, &taught), Err(VoucherError::SubjectMismatch));
        let both = voucher(&[("subject", 36, true), ("free", 36, true)]);
        let p = Program {
            kind: "ordinary",
            hours: 72,
            subjects: &history,
        };
        assert_eq!(
            choose(&both, &p, &taught),
            Err(VoucherError::SubjectMismatch)
        );
    }

    #[test]
    fn the_internship_block_goes_to_internships_only() {
        let v = voucher(&[("free", 36, true), ("internship", 54, true)]);
        let none = Vec::new();
        let internship = Program {
            kind: "internship",
            hours: 54,
            subjects: &none,
        };
        assert_eq!(choose(&v, &internship, &none), Ok(vec![2]));
        let course = Program {
            kind: "ordinary",
            hours: 36,
            subjects: &none,
        };
        assert_eq!(choose(&v, &course, &none), Ok(vec![1]));
        let spent = voucher(&[("free", 36, false), ("internship", 54, true)]);
        assert_eq!(
            choose(&spent, &course, &none),
            Err(VoucherError::InternshipOnly)
        );
    }

    #[test]
    fn spent_blocks_leave_too_few_hours() {
        let v = voucher(&[("subject", 36, false), ("free", 36, false)]);
        let maths = subjects(&["Математика"]);
        let p = Program {
            kind: "ordinary",
            hours: 36,
            subjects: &maths,
        };
        assert_eq!(
            choose(&v, &p, &maths),
            Err(VoucherError::NotEnoughHours { left: 0 })
        );
    }
}
