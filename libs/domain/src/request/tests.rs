use super::*;
use crate::ErrorKind;

#[test]
fn ids_from_bodies_and_paths() {
    assert_eq!(body_id("x", "").unwrap_err().fields[0].field, "x");
    assert_eq!(body_id("x", "nope").unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(
        path_id("nope", "нет").unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!(optional_id("x", " ").unwrap(), None);
    assert_eq!(page_limit(0, 200).unwrap(), 50);
    assert_eq!(page_limit(200, 200).unwrap(), 200);
    assert_eq!(page_limit(201, 200).unwrap_err().fields[0].field, "limit");
    assert_eq!(page_limit(-1, 200).unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(page_offset(-5).unwrap_err().fields[0].field, "offset");
    assert_eq!(page_offset(10).unwrap(), 10);
}

#[test]
fn like_patterns_match_what_was_typed() {
    assert_eq!(like_escape(r"50%_a\b"), r"50\%\_a\\b");
}
