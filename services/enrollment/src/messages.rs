//! Every user-facing string of the enrollment service, in one place.

pub const APPLICATION_NOT_FOUND: &str = "заявление не найдено";
pub const GROUP_NOT_FOUND: &str = "группа не найдена";
pub const PROGRAM_NOT_FOUND: &str = "программа не найдена или у неё нет групп";
pub const CAMPAIGN_NOT_FOUND: &str = "кампания не найдена";
pub const NUMBER_MALFORMED: &str =
    "уникальный номер — 16 знаков: цифры и латинские буквы, например 7KQ2-XM4P-0D9R-WT3F";
pub const NUMBER_MISTYPED: &str = "в номере опечатка: проверьте каждый знак";
pub const NUMBER_UNKNOWN: &str = "такого уникального номера у педагога нет";
pub const NUMBER_RELEASED: &str =
    "уникальный номер больше не действует (отказ или передача другому педагогу)";
pub const NUMBER_IN_USE: &str = "по этому уникальному номеру уже подано заявление";
pub const GROUP_OTHER_CAMPAIGN: &str = "группа относится к другой кампании";
pub const GROUP_CANCELLED: &str = "группа отменена";
pub const GROUP_FULL: &str =
    "мест в группе нет: можно встать в лист ожидания или выбрать другую группу программы";
pub const FALLBACKS_TOO_MANY: &str = "запасных групп — не больше девяти";
pub const FALLBACKS_REPEATED: &str = "каждая группа указывается один раз";
pub const FALLBACK_UNKNOWN: &str = "запасная группа не найдена среди групп кампании";
pub const EDUCATOR_REQUIRED: &str = "укажите педагога, за которого подаётся заявление";
pub const NOT_ACTIVE: &str = "заявление уже отозвано или отклонено";
pub const REASON: &str = "допустимые значения: illness, work, family, schedule, other";
pub const NOTE_REQUIRED: &str = "укажите причину";
pub const SUMMARY_BY: &str = "допустимые значения: organization, municipality";
pub const TIME_ZONE: &str = "неизвестный часовой пояс: ожидается имя IANA, например Europe/Samara";
pub const STATUS: &str = "допустимые значения: enrolled, waitlisted, withdrawn, rejected";
pub const TEXT_INVALID: &str = "текст содержит недопустимые символы";
pub const DUPLICATE: &str = "такая запись уже есть";
pub const NOT_FORMED: &str = "группы кампании ещё не скомплектованы: приём заявлений не закончился";
pub const ROSTER: &str = "допустимые значения: open, formed, under_min, merged, cancelled";
pub const MERGE_SAME: &str = "группу нельзя объединить саму с собой";
pub const MERGE_NOT_UNDER_MIN: &str =
    "объединять можно только группу, не набравшую минимальной численности";
pub const MERGE_OTHER_PROGRAM: &str = "объединять можно только группы одной программы";
pub const MERGE_TARGET_CLOSED: &str =
    "группа, в которую переводятся слушатели, отменена или объединена";
pub const MERGE_NO_ROOM: &str =
    "в группе недостаточно свободных мест для слушателей объединяемой группы";
pub const VOUCHER_SUBJECT: &str = "один блок сертификата тратится только на программу по преподаваемому предмету: выберите такую программу";
pub const VOUCHER_INTERNSHIP: &str =
    "оставшийся блок сертификата — стажировка: выберите программу стажировки";
pub const VOUCHER_HOURS: &str = "в сертификате не осталось часов на эту программу";
pub const VOUCHER_BLOCK_SPENT: &str =
    "блок сертификата только что потрачен другим заявлением: обновите страницу";
pub const ALREADY_IN_GROUP: &str = "заявление в эту группу по этому сертификату уже подано";
pub const EDUCATOR_UNKNOWN: &str = "педагог не найден или уже не работает в организации";
pub const NOT_CUMULATIVE: &str =
    "индивидуальный маршрут и обучение команды возможны только по накопительной программе";
pub const NO_MODULES: &str = "выберите хотя бы один модуль программы";
pub const UNKNOWN_MODULE: &str = "в программе нет такого модуля";
pub const REPEATED_MODULE: &str = "модуль выбран дважды";
pub const ROUTE_TOO_LONG: &str =
    "обучение по маршруту длится не больше 6 месяцев, а эта группа идёт дольше";
pub const HOURS_EXHAUSTED: &str = "в плане-заказе организации не осталось столько часов";
pub const TEAM_SIZE: &str = "в команде от 2 до 100 педагогов";
pub const MEMBER_TWICE: &str = "педагог указан в команде дважды";
pub const MEMBER_OTHER_ORGANIZATION: &str = "все участники команды — педагоги одной организации";
pub const TEAM_NOT_FOUND: &str = "заявка команды не найдена";
pub const TEAM_DECISION: &str = "допустимые значения: accept, reject";
pub const TEAM_REJECT_REASON: &str =
    "допустимые значения: hours_exhausted, unclear_goals, goals_differ, other";
pub const TEAM_DECIDED: &str = "по заявке команды уже принято решение";
pub const TEAM_NO_SEATS: &str = "в группе не хватает мест для всей команды";
pub const MEMBER_APPLIED: &str = "участник команды уже подал заявление в эту группу";
pub const TEAM_STATUS: &str = "допустимые значения: submitted, accepted, rejected";
pub const ROSTER_FIXED: &str = "приём заявлений закончился: состав группы уже сформирован";
