//! What makes an instrument (a questionnaire or a test) well-formed, what
//! makes a set of answers acceptable, and how a test attempt is scored.
//! No I/O.

use pd_domain::bounds::{CODE, TITLE, out_of_range, too_many};
use pd_domain::error::Validator;
use pd_proto::surveys::v1 as pb;
use std::collections::{BTreeMap, HashSet};

use crate::messages as msg;

pub const KINDS: [&str; 2] = ["questionnaire", "test"];
pub const PURPOSES: [&str; 5] = [
    "needs_survey",
    "diagnostic",
    "post_course_survey",
    "post_course_test",
    "other",
];
pub const QUESTION_KINDS: [&str; 5] = [
    "single_choice",
    "multiple_choice",
    "scale",
    "short_text",
    "long_text",
];
/// What a needs-survey answer counts towards in the demand.
pub const DIMENSIONS: [&str; 5] = ["direction", "topic", "form", "deficit", "problem"];

pub const MAX_QUESTIONS: usize = 200;
pub const MAX_OPTIONS: usize = 100;
pub const QUESTION_TEXT: usize = 2_000;
pub const SHORT_TEXT: usize = 500;
pub const LONG_TEXT: usize = 5_000;
/// Minutes an attempt may last at most.
pub const MAX_TIME_LIMIT: i32 = 600;

/// The kind an instrument of this purpose must be.
pub fn kind_of(purpose: &str) -> Option<&'static str> {
    match purpose {
        "needs_survey" | "post_course_survey" => Some("questionnaire"),
        "diagnostic" | "post_course_test" => Some("test"),
        _ => None,
    }
}

fn is_choice(kind: &str) -> bool {
    kind == "single_choice" || kind == "multiple_choice"
}

/// Checks an instrument as asked to be saved, reporting every problem with
/// its field path; fills the default of one point per test question.
pub fn validate(req: &mut pb::SaveInstrumentRequest) -> Result<(), pd_domain::AppError> {
    let mut v = Validator::new();
    if v.require("title", &req.title).is_some() {
        v.max_len("title", &req.title, TITLE);
    }
    if !KINDS.contains(&req.kind.as_str()) {
        v.add("kind", msg::one_of(&KINDS));
    }
    if !PURPOSES.contains(&req.purpose.as_str()) {
        v.add("purpose", msg::one_of(&PURPOSES));
    } else if let Some(k) = kind_of(&req.purpose)
        && k != req.kind
    {
        v.add("kind", msg::purpose_kind(&req.purpose, k));
    }
    let test = req.kind == "test";
    if req.questions.is_empty() {
        v.add("questions", msg::NO_QUESTIONS);
    } else if req.questions.len() > MAX_QUESTIONS {
        v.add("questions", too_many(MAX_QUESTIONS));
    }
    let mut ids = HashSet::new();
    for (i, q) in req.questions.iter_mut().enumerate() {
        validate_question(&mut v, i, q, test, &req.purpose, &mut ids);
    }
    if test {
        if req.draw_count < 0 || req.draw_count as usize > req.questions.len() {
            v.add("draw_count", out_of_range(0, req.questions.len()));
        }
        if !(0..=MAX_TIME_LIMIT).contains(&req.time_limit_minutes) {
            v.add("time_limit_minutes", out_of_range(0, MAX_TIME_LIMIT));
        }
        if !(0..=100).contains(&req.pass_percent) {
            v.add("pass_percent", out_of_range(0, 100));
        }
    } else if req.draw_count != 0 || req.time_limit_minutes != 0 || req.pass_percent != 0 {
        v.add("kind", msg::TEST_ONLY_FIELDS);
    }
    validate_sections(&mut v, req);
    v.finish()
}

fn validate_question(
    v: &mut Validator,
    i: usize,
    q: &mut pb::Question,
    test: bool,
    purpose: &str,
    ids: &mut HashSet<String>,
) {
    let f = |name: &str| format!("questions[{i}].{name}");
    if v.require(&f("id"), &q.id).is_some()
        && v.max_len(&f("id"), &q.id, CODE)
        && !ids.insert(q.id.clone())
    {
        v.add(f("id"), msg::DUPLICATE_QUESTION);
    }
    if v.require(&f("text"), &q.text).is_some() {
        v.max_len(&f("text"), &q.text, QUESTION_TEXT);
    }
    if !QUESTION_KINDS.contains(&q.kind.as_str()) {
        v.add(f("kind"), msg::one_of(&QUESTION_KINDS));
        return;
    }
    let choice = is_choice(&q.kind);
    if choice {
        if q.options.len() < 2 {
            v.add(f("options"), msg::TWO_OPTIONS);
        } else if v.max_items(&f("options"), &q.options, MAX_OPTIONS, SHORT_TEXT) {
            for (j, o) in q.options.iter().enumerate() {
                if o.trim().is_empty() {
                    v.add(format!("{}[{j}]", f("options")), msg::REQUIRED);
                }
            }
        }
    } else if !q.options.is_empty() {
        v.add(f("options"), msg::OPTIONS_FOR_CHOICE);
    }
    if test {
        if !choice {
            v.add(f("kind"), msg::TEST_CHOICE_ONLY);
            return;
        }
        let n = q.options.len() as i32;
        let distinct: HashSet<i32> = q.correct.iter().copied().collect();
        if q.correct.is_empty() {
            v.add(f("correct"), msg::CORRECT_REQUIRED);
        } else if q.correct.iter().any(|c| *c < 0 || *c >= n) || distinct.len() != q.correct.len() {
            v.add(f("correct"), msg::CORRECT_RANGE);
        } else if q.kind == "single_choice" && q.correct.len() != 1 {
            v.add(f("correct"), msg::SINGLE_CORRECT);
        }
        if q.points == 0 {
            q.points = 1;
        }
        if !(1..=100).contains(&q.points) {
            v.add(f("points"), out_of_range(1, 100));
        }
        v.max_len(&f("competence"), &q.competence, CODE);
    } else {
        if !q.correct.is_empty() || q.points != 0 {
            v.add(f("correct"), msg::TEST_ONLY_FIELDS);
        }
        if !q.competence.is_empty() && purpose != "needs_survey" {
            v.add(f("competence"), msg::TEST_ONLY_FIELDS);
        }
    }
    if !q.dimension.is_empty() {
        if purpose != "needs_survey" {
            v.add(f("dimension"), msg::DIMENSION_NEEDS_SURVEY);
        } else if !DIMENSIONS.contains(&q.dimension.as_str()) {
            v.add(f("dimension"), msg::one_of(&DIMENSIONS));
        } else if q.dimension == "problem" && choice {
            v.add(f("kind"), msg::PROBLEM_TEXT);
        } else if q.dimension != "problem" && !choice {
            v.add(f("kind"), msg::DIMENSION_CHOICE);
        }
    }
}

/// Diagnostic tests group their questions by competence; each section has
/// the threshold below which it marks a deficit.
fn validate_sections(v: &mut Validator, req: &pb::SaveInstrumentRequest) {
    if req.purpose != "diagnostic" {
        if !req.sections.is_empty() {
            v.add("sections", msg::SECTIONS_DIAGNOSTIC);
        }
        return;
    }
    let mut seen = HashSet::new();
    for (i, s) in req.sections.iter().enumerate() {
        if !seen.insert(s.competence.as_str()) {
            v.add(format!("sections[{i}].competence"), msg::DUPLICATE_SECTION);
        }
        if !(1..=100).contains(&s.threshold_percent) {
            v.add(
                format!("sections[{i}].threshold_percent"),
                out_of_range(1, 100),
            );
        }
    }
    for (i, q) in req.questions.iter().enumerate() {
        if !seen.contains(q.competence.as_str()) {
            v.add(
                format!("questions[{i}].competence"),
                msg::QUESTION_WITHOUT_SECTION,
            );
        }
    }
}

/// The catalog codes an instrument refers to (deficit options, sections,
/// questions' competences): each must be in the campaign's catalog.
pub fn referenced_codes(i: &pb::SaveInstrumentRequest) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (n, q) in i.questions.iter().enumerate() {
        if q.dimension == "deficit" {
            for (j, o) in q.options.iter().enumerate() {
                out.push((format!("questions[{n}].options[{j}]"), o.clone()));
            }
        }
        if !q.competence.is_empty() {
            out.push((format!("questions[{n}].competence"), q.competence.clone()));
        }
    }
    for (n, s) in i.sections.iter().enumerate() {
        out.push((format!("sections[{n}].competence"), s.competence.clone()));
    }
    out
}

/// Checks answers against the questions asked, reporting every problem;
/// `complete` requires every required question answered (a submitted
/// questionnaire), a test attempt accepts gaps (an unanswered question
/// scores nothing).
pub fn validate_answers(
    questions: &[pb::Question],
    answers: &[pb::Answer],
    complete: bool,
) -> Result<(), pd_domain::AppError> {
    let mut v = Validator::new();
    let mut seen = HashSet::new();
    for (i, a) in answers.iter().enumerate() {
        let f = |name: &str| format!("answers[{i}].{name}");
        let Some(q) = questions.iter().find(|q| q.id == a.question_id) else {
            v.add(f("question_id"), msg::UNKNOWN_QUESTION);
            continue;
        };
        if !seen.insert(a.question_id.as_str()) {
            v.add(f("question_id"), msg::DUPLICATE_ANSWER);
            continue;
        }
        let n = q.options.len() as i32;
        match q.kind.as_str() {
            "single_choice" | "multiple_choice" => {
                let distinct: HashSet<i32> = a.choices.iter().copied().collect();
                if a.choices.iter().any(|c| *c < 0 || *c >= n) || distinct.len() != a.choices.len()
                {
                    v.add(f("choices"), msg::CHOICE_RANGE);
                } else if q.kind == "single_choice" && a.choices.len() > 1 {
                    v.add(f("choices"), msg::ONE_CHOICE);
                }
                if a.scale != 0 || !a.text.is_empty() {
                    v.add(f("choices"), msg::ANSWER_SHAPE);
                }
            }
            "scale" => {
                if !(1..=5).contains(&a.scale) || !a.choices.is_empty() || !a.text.is_empty() {
                    v.add(f("scale"), out_of_range(1, 5));
                }
            }
            kind => {
                let max = if kind == "short_text" {
                    SHORT_TEXT
                } else {
                    LONG_TEXT
                };
                v.max_len(&f("text"), &a.text, max);
                if a.scale != 0 || !a.choices.is_empty() {
                    v.add(f("text"), msg::ANSWER_SHAPE);
                }
            }
        }
    }
    if complete {
        for q in questions.iter().filter(|q| q.required) {
            let answered = answers
                .iter()
                .find(|a| a.question_id == q.id)
                .is_some_and(is_answered);
            if !answered {
                v.add(format!("answers[{}]", q.id), msg::REQUIRED);
            }
        }
    }
    v.finish()
}

fn is_answered(a: &pb::Answer) -> bool {
    !a.choices.is_empty() || a.scale != 0 || !a.text.trim().is_empty()
}

/// The values of the needs survey's dimension questions an answer set
/// chose: (dimension, value) with value the option's text (a catalog code
/// for deficits).
pub fn chosen_values(questions: &[pb::Question], answers: &[pb::Answer]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for a in answers {
        let Some(q) = questions.iter().find(|q| q.id == a.question_id) else {
            continue;
        };
        if q.dimension.is_empty() || q.dimension == "problem" {
            continue;
        }
        for c in &a.choices {
            if let Some(o) = q.options.get(*c as usize) {
                let pair = (q.dimension.clone(), o.trim().to_owned());
                if !out.contains(&pair) {
                    out.push(pair);
                }
            }
        }
    }
    out
}

/// The result of scoring one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    pub score: i32,
    pub max_score: i32,
    pub percent: i32,
    pub passed: bool,
    pub sections: Vec<pb::SectionScore>,
}

/// A choice question scores its points only when exactly the correct
/// options are chosen; unanswered questions score nothing.
pub fn score(
    questions: &[pb::Question],
    answers: &[pb::Answer],
    pass_percent: i32,
    sections: &[pb::Section],
) -> Score {
    let mut total = 0;
    let mut max = 0;
    let mut by_section: BTreeMap<&str, (i32, i32)> = BTreeMap::new();
    for q in questions {
        let chosen: Option<HashSet<i32>> = answers
            .iter()
            .find(|a| a.question_id == q.id)
            .map(|a| a.choices.iter().copied().collect());
        let correct: HashSet<i32> = q.correct.iter().copied().collect();
        let got = if chosen.as_ref() == Some(&correct) {
            q.points
        } else {
            0
        };
        total += got;
        max += q.points;
        if !q.competence.is_empty() {
            let s = by_section.entry(q.competence.as_str()).or_default();
            s.0 += got;
            s.1 += q.points;
        }
    }
    let percent = percent_of(total, max);
    let sections = sections
        .iter()
        .filter_map(|s| {
            let (score, max_score) = *by_section.get(s.competence.as_str())?;
            let percent = percent_of(score, max_score);
            Some(pb::SectionScore {
                competence: s.competence.clone(),
                score,
                max_score,
                percent,
                deficit: percent < s.threshold_percent,
            })
        })
        .collect();
    Score {
        score: total,
        max_score: max,
        percent,
        passed: max > 0 && percent >= pass_percent,
        sections,
    }
}

/// Whole percent, rounded down (a pass mark is never reached by rounding).
fn percent_of(score: i32, max: i32) -> i32 {
    if max <= 0 {
        0
    } else {
        (i64::from(score) * 100 / i64::from(max)) as i32
    }
}

/// Draws `count` questions of the bank at random (all, shuffled, when 0).
pub fn draw(bank: &[pb::Question], count: i32, rng: &mut impl rand::Rng) -> Vec<pb::Question> {
    use rand::seq::SliceRandom;
    let n = if count <= 0 {
        bank.len()
    } else {
        (count as usize).min(bank.len())
    };
    let mut drawn: Vec<pb::Question> = bank.choose_multiple(rng, n).cloned().collect();
    drawn.shuffle(rng);
    drawn
}

/// A question as an educator sees it during an attempt: no correct answers.
pub fn hide_answers(mut q: pb::Question) -> pb::Question {
    q.correct.clear();
    q
}

#[cfg(test)]
mod tests;
