//! The upload file of the federal registry of documents (ФИС ФРДО) for
//! further professional education (ДПО): one row per document, in the
//! columns of the registry's template, each checked before export. A row
//! that would be refused on upload is reported with its problems instead
//! of exported.

use chrono::NaiveDate;

use crate::messages as msg;

/// The template's columns, in its order.
pub const COLUMNS: [&str; 30] = [
    "Название документа",
    "Вид документа",
    "Статус документа",
    "Подтверждение утраты",
    "Подтверждение обмена",
    "Подтверждение уничтожения",
    "Серия документа",
    "Номер документа",
    "Дата выдачи документа",
    "Регистрационный номер",
    "Дополнительная профессиональная программа (наименование)",
    "Наименование области профессиональной деятельности",
    "Наименование квалификации",
    "Уровень образования ВО/СПО",
    "Фамилия, указанная в дипломе о ВО или СПО",
    "Серия документа о ВО/СПО",
    "Номер документа о ВО/СПО",
    "Год начала обучения",
    "Год окончания обучения",
    "Срок обучения, часов",
    "Фамилия получателя",
    "Имя получателя",
    "Отчество получателя",
    "Дата рождения получателя",
    "Пол получателя",
    "СНИЛС",
    "Форма обучения",
    "Источник финансирования обучения",
    "Форма получения образования на момент прекращения образовательных отношений",
    "Гражданство получателя (код страны по ОКСМ)",
];

/// What one document row is made of.
#[derive(Debug, Clone, Default)]
pub struct Source {
    pub document_type: String,
    pub series: String,
    pub number: String,
    pub issued_on: Option<NaiveDate>,
    pub registration_number: String,
    pub program_title: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub hours: i32,
    pub form: String,
    /// Identity's personal data: `None` when the caller may not see it.
    pub person: Option<Person>,
}

#[derive(Debug, Clone, Default)]
pub struct Person {
    pub last_name: String,
    pub first_name: String,
    pub middle_name: String,
    pub birth_date: String,
    pub sex: String,
    pub snils: String,
}

/// A problem of a row: the column and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub column: &'static str,
    pub message: &'static str,
}

fn kind(document_type: &str) -> (&'static str, &'static str) {
    match document_type {
        "pk_certificate" => (msg::DOC_PK, msg::DOC_PK),
        "pp_diploma" => (msg::DOC_PP, msg::DOC_PP),
        "training_certificate" => (msg::DOC_TRAINING, msg::DOC_TRAINING_KIND),
        _ => ("", ""),
    }
}

fn form(code: &str) -> &'static str {
    match code {
        "full_time" => "Очная",
        "blended" => "Очно-заочная",
        "distance" => "Заочная",
        _ => "",
    }
}

fn dmy(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%d.%m.%Y").to_string())
        .unwrap_or_default()
}

fn year(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y").to_string()).unwrap_or_default()
}

/// The row's cells, and its problems (empty: ready to upload).
pub fn row(s: &Source) -> (Vec<String>, Vec<Problem>) {
    let (name, kind) = kind(&s.document_type);
    let person = s.person.clone().unwrap_or_default();
    let birth = NaiveDate::parse_from_str(&person.birth_date, "%Y-%m-%d").ok();
    let sex = match person.sex.as_str() {
        "male" => "Муж",
        "female" => "Жен",
        _ => "",
    };
    let retraining = s.document_type == "pp_diploma";
    let cells = vec![
        name.to_owned(),
        kind.to_owned(),
        "Оригинал".to_owned(),
        "Нет".to_owned(),
        "Нет".to_owned(),
        "Нет".to_owned(),
        s.series.clone(),
        s.number.clone(),
        dmy(s.issued_on),
        s.registration_number.clone(),
        s.program_title.clone(),
        if retraining {
            "Образование и наука".to_owned()
        } else {
            String::new()
        },
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        year(s.starts_on),
        year(s.ends_on),
        s.hours.to_string(),
        person.last_name.clone(),
        person.first_name.clone(),
        person.middle_name.clone(),
        dmy(birth),
        sex.to_owned(),
        person.snils.clone(),
        form(&s.form).to_owned(),
        "Бюджет субъекта Российской Федерации".to_owned(),
        String::new(),
        "643".to_owned(),
    ];
    let mut problems = Vec::new();
    let mut need = |ok: bool, column: &'static str, message: &'static str| {
        if !ok {
            problems.push(Problem { column, message });
        }
    };
    need(!name.is_empty(), "Вид документа", msg::FRDO_KIND);
    need(!s.number.is_empty(), "Номер документа", msg::FRDO_MISSING_M);
    need(
        s.issued_on.is_some(),
        "Дата выдачи документа",
        msg::FRDO_MISSING_F,
    );
    need(
        !s.registration_number.is_empty(),
        "Регистрационный номер",
        msg::FRDO_MISSING_M,
    );
    need(s.hours > 0, "Срок обучения, часов", msg::FRDO_MISSING_M);
    need(s.person.is_some(), "СНИЛС", msg::FRDO_NO_ACCESS);
    if s.person.is_some() {
        need(!person.snils.is_empty(), "СНИЛС", msg::FRDO_MISSING_M);
        need(
            !person.last_name.is_empty(),
            "Фамилия получателя",
            msg::FRDO_MISSING_F,
        );
        need(
            !person.first_name.is_empty(),
            "Имя получателя",
            msg::FRDO_MISSING_N,
        );
        need(
            birth.is_some(),
            "Дата рождения получателя",
            msg::FRDO_MISSING_F,
        );
        need(!sex.is_empty(), "Пол получателя", msg::FRDO_MISSING_M);
    }
    need(
        !form(&s.form).is_empty(),
        "Форма обучения",
        msg::FRDO_MISSING_F,
    );
    (cells, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> Source {
        Source {
            document_type: "pk_certificate".into(),
            series: "16".into(),
            number: "160001".into(),
            issued_on: NaiveDate::from_ymd_opt(2027, 2, 5),
            registration_number: "R-1".into(),
            program_title: "Функциональная грамотность".into(),
            starts_on: NaiveDate::from_ymd_opt(2027, 2, 1),
            ends_on: NaiveDate::from_ymd_opt(2027, 2, 5),
            hours: 36,
            form: "blended".into(),
            person: Some(Person {
                last_name: "Андреева".into(),
                first_name: "Анна".into(),
                middle_name: String::new(),
                birth_date: "1985-04-12".into(),
                sex: "female".into(),
                snils: "112-233-445 95".into(),
            }),
        }
    }

    #[test]
    fn a_complete_document_fills_the_template() {
        let (cells, problems) = row(&source());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(cells.len(), COLUMNS.len());
        let at = |c: &str| cells[COLUMNS.iter().position(|x| *x == c).unwrap_or(0)].clone();
        assert_eq!(at("Дата выдачи документа"), "05.02.2027");
        assert_eq!(at("Дата рождения получателя"), "12.04.1985");
        assert_eq!(
            (at("Пол получателя"), at("Форма обучения")),
            ("Жен".into(), "Очно-заочная".into())
        );
        assert_eq!(at("Год окончания обучения"), "2027");
    }

    #[test]
    fn missing_personal_data_is_reported_not_exported() {
        let mut s = source();
        if let Some(p) = s.person.as_mut() {
            p.birth_date.clear();
        }
        s.registration_number.clear();
        let (_, problems) = row(&s);
        let columns: Vec<&str> = problems.iter().map(|p| p.column).collect();
        assert_eq!(
            columns,
            ["Регистрационный номер", "Дата рождения получателя"]
        );
        s.person = None;
        let (_, problems) = row(&s);
        assert!(problems.iter().any(|p| p.column == "СНИЛС"));
    }
}
