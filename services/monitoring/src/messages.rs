//! Every user-facing string of the monitoring service, in one place.

// Completions.
pub const DATE: &str = "дата в формате ГГГГ-ММ-ДД";
pub const LEARNERS_REQUIRED: &str = "в пакете нет ни одного слушателя";
pub const LEARNER_TWICE: &str = "слушатель с этим документом указан в пакете дважды";
pub const GROUP_ID: &str = "группа (UUID): в пакете или у каждого слушателя";
pub const EDUCATOR_ID: &str = "идентификатор педагога (UUID) из списка группы";
pub const STATUS: &str = "допустимые значения: completed, not_completed";
pub const DOCUMENT_TYPE: &str =
    "допустимые значения: pk_certificate, pp_diploma, training_certificate";
pub const DOCUMENT_NUMBER: &str = "укажите номер документа";
pub const ISSUED_IN_FUTURE: &str = "дата выдачи документа ещё не наступила";
pub const REASON_REQUIRED: &str = "укажите, почему обучение не завершено";
pub const MODULE_NAME: &str = "укажите название модуля";
pub const NOT_ON_ROSTER: &str = "педагога нет в утверждённом списке группы";
pub const ROSTER_NOT_FIXED: &str =
    "список группы ещё не утверждён (итоги приёма заявлений не подведены)";
pub const ROSTER_ENDED: &str =
    "группа отменена или объединена с другой: итоги по ней не принимаются";
pub const GROUP_NOT_FOUND: &str = "группа не найдена";
pub const PROVIDER_NOT_FOUND: &str = "поставщик не найден";
pub const PROVIDER_MISMATCH: &str = "поставщик в теле не совпадает с темой сообщения";
pub const JSON_INVALID: &str = "некорректный JSON";
pub const ALREADY_COMPLETED: &str =
    "слушатель уже завершил обучение в этой группе: отметка «не завершил» не принимается";
pub const GROUP_CANCELLED: &str = "группа отменена: итоги по ней не принимаются";

// The ФИС ФРДО export's row problems.
pub const FRDO_KIND: &str = "вид документа не из шаблона ДПО";
pub const FRDO_MISSING_M: &str = "не указан";
pub const FRDO_MISSING_F: &str = "не указана";
pub const FRDO_MISSING_N: &str = "не указано";
pub const FRDO_NO_ACCESS: &str = "нет доступа к персональным данным педагога";

// Document types of ДПО (ФИС ФРДО's names).
pub const DOC_PK: &str = "Удостоверение о повышении квалификации";
pub const DOC_PP: &str = "Диплом о профессиональной переподготовке";
pub const DOC_TRAINING: &str = "Справка об обучении";
pub const DOC_TRAINING_KIND: &str = "Справка об обучении или о периоде обучения";
pub const OTHER_PROVIDER: &str = "группа другого поставщика";
pub const DOCUMENT_CHANGED: &str = "документ с этим номером уже принят с другими данными; для исправления обратитесь к региональному оператору";
pub const BATCH_REFUSED: &str =
    "пакет не принят: исправьте ошибки слушателей и отправьте его целиком";

// Windows.
pub const WINDOW_NOT_FOUND: &str = "окно мониторинга не найдено";
pub const WINDOW_STATUS: &str = "допустимые значения: open, closed, missed";
pub const BY: &str = "допустимые значения: organization, municipality";
pub const REGION_NOT_FOUND: &str = "регион не найден";

// Documents.
pub const DOCUMENT_NOT_FOUND: &str = "документ не найден";
pub const REVOKE_REASON: &str = "укажите причину отзыва";
pub const EDUCATOR_NOT_FOUND: &str = "педагог не найден";

// Records.
pub const RECORD_NOT_FOUND: &str = "запись о повышении квалификации не найдена";
pub const RECORD_DATES: &str = "дата окончания раньше даты начала";
pub const RECORD_IN_FUTURE: &str = "обучение ещё не закончилось";
pub const REQUIRED: &str = "обязательное поле";
pub const DECISION: &str = "допустимые значения: verify, reject";
pub const REJECT_REASON: &str = "укажите причину отклонения";
pub const RECORD_DECIDED: &str = "запись уже проверена";
pub const OWN_DECLARATION: &str = "запись, внесённую вами, проверяет другой оператор";
pub const RECORD_STATUS: &str = "допустимые значения: verified, pending, rejected";

// Shared.
pub const DUPLICATE: &str = "такая запись уже есть";
pub const TEXT_INVALID: &str = "текст содержит недопустимые символы";
