//! Every user-facing string of the identity service, in one place so it can
//! be translated.

pub const REQUIRED: &str = "обязательное поле";
pub const REGION_NOT_FOUND: &str = "регион не найден";
pub const MUNICIPALITY_NOT_FOUND: &str = "муниципальный район не найден";
pub const ORGANIZATION_NOT_FOUND: &str = "организация не найдена";
pub const EDUCATOR_NOT_FOUND: &str = "педагог не найден";
pub const USER_NOT_FOUND: &str = "пользователь не найден";
pub const IMPORT_NOT_FOUND: &str = "импорт не найден";
pub const BAD_CREDENTIALS: &str = "неверный логин или пароль";
pub const BAD_REFRESH: &str = "токен обновления недействителен или истёк";
pub const PD_MODEL: &str = "допустимые значения: un_quota, voucher_hours, cumulative_route";
pub const ORG_KIND: &str =
    "допустимые значения: school, preschool, college, additional_education, provider";
pub const TIME_ZONE: &str = "ожидается часовой пояс IANA, например Europe/Moscow";
pub const REGION_CODE: &str = "код региона: 1–16 латинских букв, цифр, дефисов";
pub const PD_INTERVAL: &str = "периодичность ПК: от 1 до 10 лет";
pub const DATE: &str = "ожидается дата в формате ГГГГ-ММ-ДД или ДД.ММ.ГГГГ (год четырьмя цифрами)";
pub const DATE_IN_FUTURE: &str = "дата не может быть в будущем";
pub const DATE_TOO_OLD: &str = "дата не может быть раньше 1950 года";
pub const ROLE: &str = "неизвестная роль";
pub const SCOPE_REQUIRED: &str = "для этой роли нужна область (scope_id)";
pub const SCOPE_FORBIDDEN: &str = "у роли admin нет области";
pub const SCOPE_NOT_FOUND: &str = "область роли не найдена";
pub const LOGIN: &str = "логин: 3–64 символа: латинские буквы, цифры, . _ -";
pub const PASSWORD: &str = "пароль: от 10 до 256 символов";
pub const DUPLICATE: &str = "такая запись уже существует";
pub const SNILS_TAKEN: &str = "педагог с таким СНИЛС уже есть";
pub const INN_TAKEN: &str = "организация с таким ИНН уже есть";
pub const LOGIN_TAKEN: &str = "такой логин уже занят";
pub const EDUCATOR_HAS_USER: &str = "у педагога уже есть учётная запись";
pub const IMPORT_STATE: &str = "импорт уже передан на обработку";
pub const IMPORT_CHUNKS: &str = "получены не все части файла";
pub const IMPORT_EMPTY: &str = "файл пуст: нужна строка заголовка и хотя бы одна строка данных";
pub const IMPORT_NO_ORG_ACCESS: &str = "нет доступа к организации";
pub const IMPORT_ORG_UNKNOWN: &str = "организация с таким ИНН не найдена";
pub const IMPORT_DUPLICATE_IN_FILE: &str = "СНИЛС повторяется в файле (строка {row})";
pub const IMPORT_COLUMNS: &str = "неверное число столбцов в строке";
pub const IMPORT_ORG_COLUMN: &str =
    "нужен столбец organization_inn (ИНН организации) или параметр organization_id";
pub const GRANT_NOT_FOUND: &str = "назначение роли не найдено";
pub const NOT_TO_ONESELF: &str = "нельзя назначать роли и менять учётную запись самому себе";
pub const ACCOUNT_OUTSIDE_SCOPE: &str = "учётная запись имеет роли вне вашей области: изменить её может только тот, кто ведёт все её роли";
pub const ACCOUNT_INACTIVE: &str = "учётная запись отключена";
pub const ACCOUNT_DISABLED_LOGIN: &str = "учётная запись отключена; обратитесь к оператору";
pub const DUTIES_CONFLICT: &str = "одна учётная запись не может быть администратором организации ДПО и экспертом или членом экспертного совета того же региона";
pub const USER_HAS_EDUCATOR: &str = "учётная запись уже привязана к другому педагогу";
pub const REASON_REQUIRED: &str = "укажите причину";
pub const PASSWORD_CHANGE_REQUIRED: &str =
    "пароль выдан оператором для однократного входа: задайте новый пароль (new_password)";
pub const PASSWORD_SAME: &str = "новый пароль должен отличаться от прежнего";
pub const WRONG_PASSWORD: &str = "неверный текущий пароль";
pub const USER_STATUS: &str = "допустимые значения: active, inactive, all";
pub const AUDIT_ACTION: &str = "неизвестное действие журнала";
pub const EMPLOYMENT_STATUS: &str = "допустимые значения: employed, left, all";
pub const CURSOR_UNKNOWN: &str = "нет такой позиции списка; начните с первой страницы";
pub const OFFSET_WITH_AFTER: &str = "при after смещение offset должно быть 0";
pub const LEAVE_REASON: &str = "допустимые значения: dismissal, retirement, transfer, other";
pub const EDUCATOR_ALREADY_LEFT: &str = "педагог уже выбыл из организации";
