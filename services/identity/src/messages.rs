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
pub const IMPORT_EDUCATOR_OUTSIDE_SCOPE: &str =
    "педагог с этим СНИЛС работает в организации вне вашей области";
pub const IMPORT_EDUCATOR_LEFT: &str =
    "педагог с этим СНИЛС отмечен выбывшим из организации; импорт не возвращает выбывших";
pub const IMPORT_KIND: &str = "допустимые значения: educators, organizations";
pub const IMPORT_OTHER_KIND: &str = "этот импорт другого вида";
pub const IMPORT_REGION_FOR_ORGANIZATIONS: &str =
    "регион указывается только для импорта организаций";
pub const IMPORT_ORGANIZATION_FOR_EDUCATORS: &str =
    "организация указывается только для импорта педагогов";
pub const IMPORT_CHECKED: &str =
    "проверка пройдена: {rows} строк; новых {new}, изменится {changed}, без изменений {unchanged}";
pub const IMPORT_DONE: &str =
    "импортировано: новых педагогов {new}, изменено {changed}, без изменений {unchanged}";
pub const IMPORT_REJECTED: &str = "ошибок: {errors} в {rows} строках; ничего не импортировано";
pub const IMPORT_CHANGED_MEANWHILE: &str =
    "ошибок: {errors}: эти педагоги изменены во время импорта; ничего не импортировано";
pub const ORG_IMPORT_MUNICIPALITY_UNKNOWN: &str =
    "муниципальный район с таким названием в регионе не найден";
pub const ORG_IMPORT_MUNICIPALITY_AMBIGUOUS: &str =
    "этому названию соответствуют несколько муниципальных районов; укажите id района";
pub const ORG_IMPORT_NO_MUNICIPALITY_ACCESS: &str = "нет доступа к муниципальному району";
pub const ORG_IMPORT_OTHER_REGION: &str = "организация с таким ИНН есть в другом регионе";
pub const ORG_IMPORT_OTHER_MUNICIPALITY: &str = "организация с этим ИНН относится к другому муниципальному району; импорт не переносит организации";
pub const ORG_IMPORT_DUPLICATE_IN_FILE: &str = "ИНН повторяется в файле (строка {row})";
pub const ORG_IMPORT_KIND: &str = "допустимые значения: school (школа), preschool (детский сад), college (колледж, техникум), additional_education (дополнительное образование), provider (организация ДПО)";
pub const ORG_IMPORT_KIND_REQUIRED: &str = "для новой организации нужен тип (kind)";
pub const ORG_IMPORT_REJECTED: &str = "ошибок в файле: {errors}; ничего не импортировано";
pub const ORG_IMPORT_CHECKED: &str = "проверка пройдена: новых организаций {created}, изменится {updated}, без изменений {unchanged}";
pub const ORG_IMPORT_DONE: &str =
    "импортировано: новых организаций {created}, изменено {updated}, без изменений {unchanged}";
pub const FILE_TOO_LARGE: &str = "файл больше {mb} МБ";
pub const IMPORT_INTERNAL: &str = "внутренняя ошибка при импорте; попробуйте ещё раз";
pub const MISSING_COLUMN: &str = "нет обязательного столбца";
pub const IMPORT_TAKEN_MEANWHILE: &str = "ошибок: {errors} — эти педагоги добавлены другим импортом во время этого; ничего не импортировано";
pub const MUNICIPALITY_CODE: &str = "код ОКТМО — 8 или 11 цифр";

// Provider API keys.
pub const PROVIDER_NOT_FOUND: &str = "поставщик не найден";
pub const PROVIDER_KEY_NOT_FOUND: &str = "ключ не найден";
pub const PROVIDER_KEY_INVALID: &str = "ключ API неизвестен, отозван или выдан другому поставщику";
pub const BIRTH_DATE: &str = "дата рождения: ГГГГ-ММ-ДД, старше 16 лет, не ранее 1920 года";
pub const SEX: &str = "допустимые значения: male, female";
pub const SEX_IMPORT: &str = "пол: м или ж (male, female)";
