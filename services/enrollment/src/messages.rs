//! Every user-facing string of the enrollment service, in one place.

pub const APPLICATION_NOT_FOUND: &str = "заявление не найдено";
pub const GROUP_NOT_FOUND: &str = "группа не найдена";
pub const CAMPAIGN_NOT_FOUND: &str = "кампания не найдена";
pub const ORGANIZATION_NOT_FOUND: &str = "организация не найдена";
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
pub const EDUCATOR_REQUIRED: &str = "укажите педагога, за которого подаётся заявление";
pub const NOT_ACTIVE: &str = "заявление уже отозвано или отклонено";
pub const REASON: &str = "допустимые значения: illness, work, family, schedule, other";
pub const NOTE_REQUIRED: &str = "укажите причину";
pub const SUMMARY_BY: &str = "допустимые значения: organization, municipality";
pub const STATUS: &str = "допустимые значения: enrolled, waitlisted, withdrawn, rejected";
pub const TEXT_INVALID: &str = "текст содержит недопустимые символы";
pub const DUPLICATE: &str = "такая запись уже есть";
pub const MUNICIPALITY_NOT_FOUND: &str = "муниципалитет не найден";
pub const NAME_A_UNIT: &str = "укажите организацию или муниципалитет";
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
