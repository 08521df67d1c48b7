//! Every user-facing string of the allocation service, in one place.

pub const CAMPAIGN_NOT_FOUND: &str = "кампания не найдена";
pub const ORGANIZATION_NOT_FOUND: &str = "организация не найдена";
pub const NOT_A_CANDIDATE: &str = "педагог не входит в список подлежащих повышению квалификации";
pub const REFUSAL_NOT_FOUND: &str = "заявление об отказе не найдено";
pub const PLACE_NOT_FOUND: &str = "свободное место не найдено";
pub const NUMBER_NOT_FOUND: &str = "уникальный номер не найден";
pub const NUMBER_MALFORMED: &str =
    "уникальный номер — 16 знаков: цифры и латинские буквы, например 7KQ2-XM4P-0D9R-WT3F";
pub const NUMBER_MISTYPED: &str = "в номере опечатка: проверьте каждый знак";
pub const EXCLUSION_REASON: &str = "допустимые значения: leave, dismissal, other";
pub const NOTE_REQUIRED: &str = "укажите причину";
pub const LIST_CONFIRMED: &str =
    "список организации уже подтверждён; изменения после подтверждения невозможны";
pub const ALLOCATED: &str = "квоты уже распределены и номера присвоены";
pub const NO_FUNDING: &str = "министерство ещё не установило объём финансирования";
pub const BUDGET: &str = "сумма в копейках, не меньше 0";
pub const NORMATIVE: &str = "норматив в копейках, больше 0";
pub const RESERVE: &str = "резерв от 0 до 50 %";
pub const LEVEL: &str = "допустимые значения: municipality, organization";
pub const STATUS: &str = "недопустимое значение статуса";
pub const NOT_FUNDED: &str = "у вас нет действующего уникального номера в этой кампании";
pub const EDUCATOR_NOT_FUNDED: &str =
    "у педагога нет действующего уникального номера в этой кампании";
pub const EDUCATOR_NOT_FOUND: &str = "педагог не найден";
pub const REFUSAL_OPEN: &str = "заявление об отказе уже подано и ждёт решения";
pub const REFUSAL_DECIDED: &str = "решение по заявлению уже принято";
pub const NUMBER_USED: &str = "номер уже использован в заявлении на обучение";
pub const PLACE_TAKEN: &str = "место уже передано другому педагогу";
pub const NOT_YOUR_TURN: &str = "сейчас место распределяет оператор другого уровня";
pub const OUT_OF_PLACE_SCOPE: &str =
    "педагог должен работать в организации (районе, регионе) этого места";
pub const REFUSED_THIS_YEAR: &str = "педагог отказался от обучения в этом году";
pub const ALREADY_FUNDED: &str = "у педагога уже есть уникальный номер в этой кампании";
pub const NOT_CONFIRMED: &str = "педагог не входит в подтверждённый список организации";
pub const TEXT_INVALID: &str = "текст содержит недопустимые символы";
pub const EDUCATORS_ONLY: &str = "только для педагогов";
pub const PLACES_TOO_MANY: &str = "не больше 1 000 000 мест: проверьте сумму и норматив";
pub const DUPLICATE: &str = "такая запись уже существует";

/// The ranking rule, as shown to educators and operators.
pub const RANK_RULE: &str = "Номера получают подтверждённые кандидаты организации по очереди: \
сначала те, у кого нет сведений о повышении квалификации, затем по дате окончания последнего \
повышения квалификации — от самой ранней; при равенстве — по фамилии, имени, отчеству и \
идентификатору педагога.";

/// The quota rule.
pub const QUOTA_RULE: &str = "Места делятся между муниципалитетами, затем внутри муниципалитета \
между организациями пропорционально числу подтверждённых кандидатов методом наибольшего остатка: \
каждый получает целую часть своей доли, оставшиеся места — по одному в порядке убывания дробных \
остатков (при равенстве — тот, у кого больше кандидатов, затем меньший идентификатор).";
pub const OVER_BUDGET: &str =
    "сертификат этого педагога стоит больше, чем осталось в бюджете кампании";
/// Why a voucher holder ranked within the quota may still wait.
pub const VOUCHER_QUOTA_RULE: &str = " Места считаются сертификатами на 72 часа; если сертификаты \
на 90 часов не помещаются в бюджет кампании, сертификата лишаются последние в очереди своих \
организаций.";
