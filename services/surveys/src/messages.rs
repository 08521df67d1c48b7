//! Every user-facing string of the surveys service, in one place.

pub const REQUIRED: &str = "обязательное поле";
pub const CAMPAIGN_NOT_FOUND: &str = "кампания не найдена (или ещё не известна сервису анкетирования; повторите через несколько секунд)";
pub const INSTRUMENT_NOT_FOUND: &str = "анкета или тест не найдены";
pub const WINDOW_NOT_FOUND: &str = "окно анкетирования или тестирования не найдено";
pub const ATTEMPT_NOT_FOUND: &str = "попытка не найдена";
pub const RESPONSE_NOT_FOUND: &str = "ответ ещё не дан";
pub const COMPETENCE_NOT_FOUND: &str = "компетенции с таким кодом нет в каталоге";
pub const PROGRAM_NOT_FOUND: &str = "программа не найдена в опубликованном реестре";
pub const EDUCATOR_NOT_FOUND: &str = "педагог не найден";
pub const NOT_AN_EDUCATOR: &str = "отвечать на анкеты и тесты могут только педагоги";
pub const NO_QUESTIONS: &str = "нужен хотя бы один вопрос";
pub const DUPLICATE_QUESTION: &str = "вопрос с таким id уже есть";
pub const TWO_OPTIONS: &str = "у вопроса с выбором должно быть не менее двух вариантов";
pub const OPTIONS_FOR_CHOICE: &str = "варианты ответа бывают только у вопросов с выбором";
pub const TEST_CHOICE_ONLY: &str = "в тесте допустимы только вопросы с выбором ответа";
pub const CORRECT_REQUIRED: &str = "укажите правильные варианты";
pub const CORRECT_RANGE: &str = "правильные варианты — номера вариантов ответа (с 0), без повторов";
pub const SINGLE_CORRECT: &str = "у вопроса с одним ответом ровно один правильный вариант";
pub const TEST_ONLY_FIELDS: &str =
    "правильные ответы, баллы, лимит времени и проходной балл бывают только у тестов";
pub const DIMENSION_NEEDS_SURVEY: &str = "измерения спроса задаются только в анкете потребностей";
pub const PROBLEM_TEXT: &str = "затруднения описываются текстом";
pub const DIMENSION_CHOICE: &str =
    "направления, темы, формы обучения и дефициты выбираются из вариантов";
pub const SECTIONS_DIAGNOSTIC: &str = "разделы с порогами бывают только у диагностических тестов";
pub const DUPLICATE_SECTION: &str = "раздел этой компетенции уже есть";
pub const QUESTION_WITHOUT_SECTION: &str =
    "вопрос диагностики должен относиться к разделу (компетенции)";
pub const NOT_IN_CATALOG: &str = "кода нет в каталоге компетенций кампании";
pub const CAMPAIGN_REQUIRED: &str = "анкета потребностей и диагностика относятся к кампании";
pub const PROGRAM_REQUIRED_FOR_PROVIDER: &str =
    "поставщик ведёт посткурсовые анкеты и тесты только своих программ";
pub const PROGRAM_FOR_POST_COURSE: &str =
    "программа указывается только для посткурсовых анкет и тестов";
pub const INSTRUMENT_LOCKED: &str =
    "на анкету или тест уже отвечали: вопросы изменить нельзя, создайте новую";
pub const INSTRUMENT_EXISTS: &str = "такая анкета или тест уже есть; измените существующую";
pub const UNKNOWN_QUESTION: &str = "такого вопроса нет";
pub const DUPLICATE_ANSWER: &str = "на вопрос ответили дважды";
pub const CHOICE_RANGE: &str = "выбранные варианты — номера вариантов (с 0), без повторов";
pub const ONE_CHOICE: &str = "в этом вопросе выбирается один вариант";
pub const ANSWER_SHAPE: &str = "ответ не того вида, что вопрос";
pub const WINDOW_NOT_OPEN_YET: &str = "окно ещё не открыто";
pub const WINDOW_CLOSED: &str = "окно закрыто: ответы больше не принимаются";
pub const NOT_A_QUESTIONNAIRE: &str = "это тест: начните попытку";
pub const NOT_A_TEST: &str = "это анкета: отправьте ответ";
pub const NO_ATTEMPTS_LEFT: &str = "попытки исчерпаны";
pub const ATTEMPT_CLOSED: &str = "попытка уже завершена";
pub const WINDOW_PHASE_ONLY: &str =
    "окна анкеты потребностей следуют календарю кампании и открываются сами";
pub const WINDOW_TIMES: &str = "окно должно закрываться позже, чем открывается, и ещё не закрыться";
pub const WINDOW_POST_COURSE: &str = "посткурсовые окна открываются сами по завершении обучения; вручную открываются окна диагностики";
pub const EDUCATORS_REQUIRED: &str = "укажите педагогов, для которых открывается окно";
pub const BAD_INSTANT: &str = "ожидается момент времени RFC 3339";
pub const FILE_EMPTY: &str = "файл пуст: нужна строка заголовка и хотя бы одна строка данных";
pub const COLUMN_MISSING: &str = "нет обязательного столбца";
pub const IMPORT_REJECTED: &str = "в файле есть ошибки: ничего не загружено";
pub const CATALOG_USED: &str =
    "компетенция используется в анкете или тесте кампании; сначала уберите её оттуда";
pub const BY: &str = "допустимые значения: direction, topic, form, deficit";
pub const SCOPE_MISMATCH: &str = "организация не относится к указанному муниципалитету";

pub fn one_of(values: &[&str]) -> String {
    format!("допустимые значения: {}", values.join(", "))
}

pub fn purpose_kind(purpose: &str, kind: &str) -> String {
    format!("для назначения {purpose} вид инструмента — {kind}")
}

pub fn duplicate_in_file(first_row: i32) -> String {
    format!("код повторяется (впервые в строке {first_row})")
}

/// The region's post-course questionnaire when it has not set its own:
/// five questions on how the course was organised (seeds/001).
pub const DEFAULT_POST_COURSE_TITLE: &str = "Анкета об условиях обучения на курсах";
pub const DEFAULT_POST_COURSE: [&str; 5] = [
    "Насколько содержание программы соответствовало вашим ожиданиям?",
    "Насколько удобным было расписание занятий?",
    "Как вы оцениваете работу преподавателей?",
    "Как вы оцениваете материально-техническое и информационное обеспечение занятий?",
    "Насколько полученные знания применимы в вашей работе?",
];
pub const ATTEMPT_LATE: &str =
    "время попытки истекло: она завершена и оценена по сохранённым ответам";
pub const ORGANIZATION_NOT_FOUND: &str = "организация не найдена";
pub const NO_NEEDS_SURVEY: &str = "анкета потребностей кампании ещё не создана";
pub const NO_PRIORITIES: &str = "приоритетные направления кампании ещё не опубликованы";
