use super::*;
use pd_domain::{Grant, Role};

const REGION: Uuid = Uuid::from_u128(1000);
const KAZAN: Uuid = Uuid::from_u128(100);
const CHELNY: Uuid = Uuid::from_u128(200);

fn admin() -> Principal {
    Principal {
        user_id: Uuid::now_v7(),
        login: "root".into(),
        grants: vec![Grant::new(Role::Admin, None)],
    }
}

fn municipalities() -> HashMap<String, Option<Uuid>> {
    municipality_index(&[
        (KAZAN, "г. Казань".into(), "92701000".into()),
        (CHELNY, "г. Набережные Челны".into(), String::new()),
    ])
}

#[test]
fn russian_headings_windows_1251_and_every_bad_cell() {
    let text = "Наименование;ИНН;Муниципальный район;Тип\n\
        Школа № 1;7707083893;г. Казань;школа\n\
        ;7707083894;;ракета\n\
        Детский сад № 2;7707083893;г. Казань;ДОУ\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(text);
    let p = parse(&bytes).unwrap();
    assert_eq!(p.encoding, "windows-1251");
    assert_eq!(p.rows.len(), 1);
    assert_eq!(p.rows[0].kind.as_deref(), Some("school"));
    let got: Vec<(i32, &str)> = p
        .errors
        .iter()
        .map(|e| (e.row, e.column.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (3, "name"),
            (3, "inn"),
            (3, "municipality"),
            (3, "kind"),
            (4, "inn"),
        ]
    );
}

#[test]
fn a_missing_column_is_reported_on_the_header() {
    let p = parse(b"name,inn\n\xd0\xa8,7707083893\n").unwrap();
    assert_eq!(p.errors[0].row, 1);
    assert_eq!(p.errors[0].column, "municipality");
}

#[test]
fn municipalities_match_by_name_whatever_the_case_by_oktmo_code_or_by_id() {
    let csv = format!(
        "name,inn,municipality,kind\nШкола,7707083893,Г. КАЗАНЬ,school\nСад,3664069397,{CHELNY},preschool\nТретья,500100732259,Елабуга,school\nЛицей,7728168971,92701000,school\n"
    );
    let p = parse(csv.as_bytes()).unwrap();
    assert_eq!(p.errors, vec![]);
    let mut errors = Vec::new();
    let planned = plan(
        &p.rows,
        REGION,
        &municipalities(),
        &HashMap::new(),
        &admin(),
        &mut errors,
    );
    assert_eq!(planned.len(), 3);
    assert_eq!(
        planned[0].1,
        OrgDecision::Create {
            municipality_id: KAZAN,
            kind: "school".into()
        }
    );
    assert_eq!(
        planned[2].1,
        OrgDecision::Create {
            municipality_id: KAZAN,
            kind: "school".into()
        },
        "by its OKTMO code"
    );
    assert_eq!(
        planned[1].1,
        OrgDecision::Create {
            municipality_id: CHELNY,
            kind: "preschool".into()
        }
    );
    assert_eq!(
        (errors[0].row, errors[0].column.as_str()),
        (4, "municipality")
    );
}

#[test]
fn known_inns_update_within_their_municipality_and_scope_is_checked() {
    let csv = "name;inn;municipality;kind\n\
        Школа № 1 им. Тукая;7707083893;г. Казань;\n\
        Школа № 2;3664069397;г. Казань;school\n\
        Школа № 3;500100732259;г. Казань;school\n\
        Школа № 4;7830002293;г. Набережные Челны;school\n";
    let p = parse(csv.as_bytes()).unwrap();
    let org = |id: u128, region: Uuid, name: &str| KnownOrg {
        id: Uuid::from_u128(id),
        region_id: region,
        municipality_id: KAZAN,
        name: name.into(),
        kind: "school".into(),
    };
    let known = HashMap::from([
        ("7707083893".to_owned(), org(1, REGION, "Школа № 1")),
        ("3664069397".to_owned(), org(2, REGION, "Школа № 2")),
        (
            "500100732259".to_owned(),
            org(3, Uuid::from_u128(9), "Школа № 3"),
        ),
    ]);
    // A municipal operator of Kazan: Chelny is not theirs.
    let op = Principal {
        user_id: Uuid::now_v7(),
        login: "mo".into(),
        grants: vec![Grant::new(Role::MunicipalOperator, Some(KAZAN))],
    };
    let mut errors = Vec::new();
    let planned = plan(&p.rows, REGION, &municipalities(), &known, &op, &mut errors);
    let decisions: Vec<&OrgDecision> = planned.iter().map(|(_, d)| d).collect();
    assert_eq!(
        decisions,
        vec![
            &OrgDecision::Update {
                id: Uuid::from_u128(1),
                kind: "school".into()
            },
            &OrgDecision::Unchanged {
                id: Uuid::from_u128(2)
            },
        ]
    );
    let got: Vec<(i32, &str, &str)> = errors
        .iter()
        .map(|e| (e.row, e.column.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (4, "inn", msg::ORG_IMPORT_OTHER_REGION),
            (5, "municipality", msg::ORG_IMPORT_NO_MUNICIPALITY_ACCESS),
        ]
    );
}

#[test]
fn a_new_organization_needs_a_kind_and_names_may_be_ambiguous() {
    let p = parse("name,inn,municipality\nШкола,7707083893,г. Казань\n".as_bytes()).unwrap();
    let index = municipality_index(&[
        (KAZAN, "г. Казань".into(), String::new()),
        (CHELNY, "Г. КАЗАНЬ".into(), String::new()),
    ]);
    let mut errors = Vec::new();
    plan(
        &p.rows,
        REGION,
        &index,
        &HashMap::new(),
        &admin(),
        &mut errors,
    );
    assert_eq!(errors[0].message, msg::ORG_IMPORT_MUNICIPALITY_AMBIGUOUS);
    let mut errors = Vec::new();
    plan(
        &p.rows,
        REGION,
        &municipalities(),
        &HashMap::new(),
        &admin(),
        &mut errors,
    );
    assert_eq!(
        (errors[0].column.as_str(), errors[0].message.as_str()),
        ("kind", msg::ORG_IMPORT_KIND_REQUIRED)
    );
}
