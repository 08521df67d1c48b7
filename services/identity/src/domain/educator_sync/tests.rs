use super::*;
use pd_domain::{Grant, Role, Snils};

fn loc(org: Uuid) -> OrgLocation {
    OrgLocation {
        org_id: org,
        municipality_id: Uuid::from_u128(100),
        region_id: Uuid::from_u128(1000),
    }
}

fn operator(role: Role, scope: Uuid) -> Principal {
    Principal {
        user_id: Uuid::now_v7(),
        login: "op".into(),
        grants: vec![Grant::new(role, Some(scope))],
    }
}

fn row(n: i32, snils: &str, org_position: &str) -> ImportRow {
    ImportRow {
        row: n,
        snils: Snils::parse(snils).unwrap(),
        last_name: "Иванова".into(),
        first_name: "Мария".into(),
        middle_name: String::new(),
        position: org_position.into(),
        subjects: vec!["Математика".into()],
        organization_inn: None,
        last_pd_completed_on: None,
        birth_date: None,
        sex: String::new(),
    }
}

fn known(org: Uuid, position: &str) -> Known {
    Known {
        id: Uuid::from_u128(7),
        location: loc(org),
        fields: Fields {
            last_name: "Иванова".into(),
            first_name: "Мария".into(),
            middle_name: "Петровна".into(),
            position: position.into(),
            subjects: vec!["Математика".into()],
            organization_id: org,
            last_pd_completed_on: NaiveDate::from_ymd_opt(2022, 5, 31),
            birth_date: NaiveDate::from_ymd_opt(1980, 1, 2),
            sex: "female".into(),
        },
        employed: true,
    }
}

const A: Uuid = Uuid::from_u128(1);
const B: Uuid = Uuid::from_u128(2);
const NO_OPTIONAL: Columns = Columns {
    middle_name: false,
    subjects: false,
    birth_date: false,
    sex: false,
};

#[test]
fn absent_columns_and_an_empty_date_keep_the_record() {
    let regional = operator(Role::RegionalOperator, Uuid::from_u128(1000));
    let r = row(2, "11223344595", "учитель");
    let k = known(A, "учитель");
    // The file has no middle name column and no date: nothing changes.
    let d = decide(&r, loc(A), Some(&k), true, NO_OPTIONAL, &regional).unwrap();
    assert_eq!(d, Decision::Unchanged { id: k.id });
    // With the column, its empty cell clears the middle name.
    let with = Columns {
        middle_name: true,
        subjects: true,
        ..NO_OPTIONAL
    };
    let Decision::Change(c) = decide(&r, loc(A), Some(&k), true, with, &regional).unwrap() else {
        panic!("a change")
    };
    let (after, moved_from) = (c.after, c.moved_from);
    assert_eq!((after.middle_name.as_str(), moved_from), ("", None));
    assert_eq!(after.last_pd_completed_on, k.fields.last_pd_completed_on);
    // Without the personal columns the record's birth date and sex stay;
    // with them, the row's (empty: cleared).
    assert_eq!(
        (after.birth_date, after.sex.as_str()),
        (k.fields.birth_date, "female")
    );
    let personal = Columns {
        birth_date: true,
        sex: true,
        ..with
    };
    let Decision::Change(c) = decide(&r, loc(A), Some(&k), true, personal, &regional).unwrap()
    else {
        panic!("a change")
    };
    assert_eq!((c.after.birth_date, c.after.sex.as_str()), (None, ""));
}

#[test]
fn another_organization_is_a_move_and_known_snils_fails_without_update() {
    let regional = operator(Role::RegionalOperator, Uuid::from_u128(1000));
    let r = row(3, "11223344595", "завуч");
    let k = known(A, "учитель");
    let d = decide(&r, loc(B), Some(&k), true, NO_OPTIONAL, &regional).unwrap();
    let Decision::Change(c) = d else {
        panic!("a change")
    };
    let (after, moved_from) = (c.after, c.moved_from);
    assert_eq!(moved_from, Some(A));
    assert_eq!(
        (after.organization_id, after.position.as_str()),
        (B, "завуч")
    );
    let e = decide(&r, loc(B), Some(&k), false, NO_OPTIONAL, &regional).unwrap_err();
    assert_eq!((e.row, e.column.as_str()), (3, "snils"));
    assert_eq!(e.message, msg::SNILS_TAKEN);
    assert_eq!(
        decide(&r, loc(B), None, false, NO_OPTIONAL, &regional).unwrap(),
        Decision::Create
    );
}

#[test]
fn an_org_operator_touches_only_their_own_staff_and_left_educators_are_rows_in_error() {
    // The operator of B may not take A's educator.
    let op_b = operator(Role::OrgOperator, B);
    let r = row(2, "11223344595", "учитель");
    let e = decide(
        &r,
        loc(B),
        Some(&known(A, "учитель")),
        true,
        NO_OPTIONAL,
        &op_b,
    )
    .unwrap_err();
    assert_eq!(e.message, msg::IMPORT_EDUCATOR_OUTSIDE_SCOPE);
    let mut left = known(B, "учитель");
    left.employed = false;
    let e = decide(&r, loc(B), Some(&left), true, NO_OPTIONAL, &op_b).unwrap_err();
    assert_eq!(e.message, msg::IMPORT_EDUCATOR_LEFT);
}

#[test]
fn the_report_counts_each_organization_and_who_the_file_leaves_out() {
    let regional = operator(Role::RegionalOperator, Uuid::from_u128(1000));
    let rows = [
        row(2, "11223344595", "учитель"),
        row(3, "08765430300", "завуч"),
        row(4, "12345678964", "учитель"),
    ];
    let mut k = HashMap::new();
    k.insert("11223344595".to_owned(), known(A, "учитель"));
    let mut moved = known(A, "учитель");
    moved.id = Uuid::from_u128(8);
    k.insert("08765430300".to_owned(), moved);
    let located = vec![(&rows[0], loc(A)), (&rows[1], loc(B)), (&rows[2], loc(B))];
    let mut errors = Vec::new();
    let planned = plan(&located, &k, true, NO_OPTIONAL, &regional, &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    // A has 5 employed: 2 of them in the file (one now moving to B).
    let employed = HashMap::from([(A, 5), (B, 1)]);
    let r = report(&planned, &k, &employed);
    assert_eq!(
        r,
        vec![
            OrgDiff {
                organization_id: A,
                unchanged: 1,
                absent: 3,
                ..OrgDiff::default()
            },
            OrgDiff {
                organization_id: B,
                new: 1,
                changed: 1,
                moved_in: 1,
                absent: 1,
                ..OrgDiff::default()
            },
        ]
    );
}
