//! The limits every input is held to, in one place, so that the same field
//! has the same limit in every service and the OpenAPI document can say so.
//! Lengths count characters, not bytes. A value outside its bounds is a
//! 422 naming the field, never a database error.

/// A person's name part (last, first, middle name).
pub const PERSON_NAME: usize = 100;
/// Names of organizations, municipalities, regions, providers, modules,
/// criteria; positions and subjects.
pub const NAME: usize = 300;
/// Titles, topics, directions, places, addresses.
pub const TITLE: usize = 500;
/// Short codes: criterion and competence codes, licence numbers.
pub const CODE: usize = 64;
/// Long free text: annotations, comments, remarks, reasons.
pub const TEXT: usize = 10_000;
/// Items of a list field (subjects, modules, competences, members, ...).
pub const LIST: usize = 100;

/// Message for a value longer than its limit.
pub fn too_long(max: usize) -> String {
    format!("не длиннее {max} символов")
}

/// Message for a list with too many items.
pub fn too_many(max: usize) -> String {
    format!("не более {max} элементов")
}

/// Message for a number outside its range.
pub fn out_of_range(min: impl std::fmt::Display, max: impl std::fmt::Display) -> String {
    format!("допустимы значения от {min} до {max}")
}

impl crate::error::Validator {
    /// Records a too-long text; `true` when within `max` characters.
    pub fn max_len(&mut self, field: &str, value: &str, max: usize) -> bool {
        let ok = value.chars().count() <= max;
        if !ok {
            self.add(field, too_long(max));
        }
        ok
    }

    /// Records a list with more than `max` items or any item longer than
    /// `item_max` (named `field[i]`); `true` when all is within bounds.
    pub fn max_items(
        &mut self,
        field: &str,
        items: &[String],
        max: usize,
        item_max: usize,
    ) -> bool {
        if items.len() > max {
            self.add(field, too_many(max));
            return false;
        }
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            ok &= self.max_len(&format!("{field}[{i}]"), item, item_max);
        }
        ok
    }

    /// Records an integer outside `min..=max`.
    pub fn in_range(&mut self, field: &str, value: i64, min: i64, max: i64) -> bool {
        let ok = (min..=max).contains(&value);
        if !ok {
            self.add(field, out_of_range(min, max));
        }
        ok
    }

    /// Records a number that is not finite or outside `min..=max`.
    pub fn in_range_f64(&mut self, field: &str, value: f64, min: f64, max: f64) -> bool {
        let ok = value.is_finite() && value >= min && value <= max;
        if !ok {
            self.add(field, out_of_range(min, max));
        }
        ok
    }

    /// Whether nothing was recorded so far.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The errors recorded so far.
    pub fn into_fields(self) -> Vec<crate::FieldError> {
        self.fields
    }
}

#[cfg(test)]
mod tests {
    use crate::error::Validator;

    #[test]
    fn lengths_count_characters_and_name_the_item() {
        let mut v = Validator::new();
        assert!(v.max_len("name", &"я".repeat(10), 10));
        assert!(!v.max_len("name", &"я".repeat(11), 10));
        let items = vec!["ok".to_owned(), "x".repeat(5)];
        assert!(!v.max_items("subjects", &items, 10, 4));
        assert!(!v.in_range("hours", 2_147_483_647, 16, 2000));
        assert!(!v.in_range_f64("weight", f64::NAN, 0.0, 100.0));
        assert!(!v.in_range_f64("cost", 1e308, 0.0, 1e7));
        let fields: Vec<String> = v.into_fields().into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["name", "subjects[1]", "hours", "weight", "cost"]);
    }
}
