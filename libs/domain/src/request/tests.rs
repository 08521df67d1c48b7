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
    assert_eq!(page_limit(0, 200), 50);
    assert_eq!(page_limit(1000, 200), 200);
}
