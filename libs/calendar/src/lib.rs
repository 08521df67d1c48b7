//! The campaign calendar as every service sees it: a read-model fed by the
//! registry's `campaign_calendar_changed` events (the registry writes it
//! directly, in the same transaction as the campaign). [`ensure_open`]
//! answers "is phase X open now for campaign C" and refuses with a 409 that
//! names the phase and its dates.

use chrono::{DateTime, NaiveDate, Utc};
use pd_domain::AppError;
use pd_proto::registry::v1::CampaignCalendarChanged;
use sqlx::PgConnection;
use sqlx::migrate::Migrator;
use uuid::Uuid;

pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/calendar");

/// The phases of a campaign, in the order of the cycle.
pub const PHASES: [&str; 6] = [
    "needs_survey",
    "program_submission",
    "expert_review",
    "schedule",
    "applications",
    "post_course",
];

/// The phase's name for people (Russian, as in the ministry's orders).
pub fn phase_title(phase: &str) -> &'static str {
    match phase {
        "needs_survey" => "анкетирование",
        "program_submission" => "подача программ",
        "expert_review" => "экспертиза программ",
        "schedule" => "формирование плана-графика",
        "applications" => "приём заявлений",
        "post_course" => "посткурсовой мониторинг",
        _ => "неизвестная фаза",
    }
}

/// Replaces the calendar of the event's campaign.
pub async fn apply(
    conn: &mut PgConnection,
    event: &CampaignCalendarChanged,
) -> Result<(), sqlx::Error> {
    let campaign: Uuid = event
        .campaign_id
        .parse()
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    let region: Uuid = event
        .region_id
        .parse()
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    sqlx::query("DELETE FROM campaign_calendar WHERE campaign_id = $1")
        .bind(campaign)
        .execute(&mut *conn)
        .await?;
    for p in &event.phases {
        let date = |s: &str| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| sqlx::Error::Decode(Box::new(e)))
        };
        let instant = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))
        };
        sqlx::query(
            "INSERT INTO campaign_calendar (campaign_id, region_id, phase, starts_on, ends_on, opens_at, closes_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(campaign)
        .bind(region)
        .bind(&p.phase)
        .bind(date(&p.starts_on)?)
        .bind(date(&p.ends_on)?)
        .bind(instant(&p.opens_at)?)
        .bind(instant(&p.closes_at)?)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The phase of the campaign open at `now`, if any.
pub async fn open_phase(
    conn: &mut PgConnection,
    campaign: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT phase FROM campaign_calendar WHERE campaign_id = $1 AND opens_at <= $2 AND $2 < closes_at",
    )
    .bind(campaign)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// (phase, starts_on, ends_on, opens_at, closes_at)
type PhaseRow = (String, NaiveDate, NaiveDate, DateTime<Utc>, DateTime<Utc>);

/// `Ok` when one of `phases` is open at `now`; else a 409 naming the
/// phase(s) and their dates.
pub async fn ensure_open(
    conn: &mut PgConnection,
    campaign: Uuid,
    phases: &[&str],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let rows: Vec<PhaseRow> = sqlx::query_as(
        "SELECT phase, starts_on, ends_on, opens_at, closes_at FROM campaign_calendar
         WHERE campaign_id = $1 AND phase = ANY($2)",
    )
    .bind(campaign)
    .bind(phases.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>())
    .fetch_all(conn)
    .await
    .map_err(|e| AppError::internal(format!("calendar: {e}")))?;
    if rows
        .iter()
        .any(|(_, _, _, opens, closes)| *opens <= now && now < *closes)
    {
        return Ok(());
    }
    let first = phases.first().copied().unwrap_or("");
    let dates = rows.iter().find(|r| r.0 == first);
    let when = match dates {
        Some((_, s, e, _, _)) => format!("{} – {}", s.format("%d.%m.%Y"), e.format("%d.%m.%Y")),
        None => "даты не назначены".to_owned(),
    };
    let names: Vec<String> = phases
        .iter()
        .map(|p| format!("«{}»", phase_title(p)))
        .collect();
    let mut err = AppError::conflict(format!(
        "действие доступно только в фазе {} ({when})",
        names.join(" или ")
    ))
    .with("phase", first);
    if let Some((_, s, e, _, _)) = dates {
        err = err
            .with("phase_starts_on", s.to_string())
            .with("phase_ends_on", e.to_string());
    }
    Err(err)
}

/// The last day of `phase` and the instant it closes, if it has dates.
async fn phase_end(
    conn: &mut PgConnection,
    campaign: Uuid,
    phase: &str,
) -> Result<Option<(NaiveDate, DateTime<Utc>)>, AppError> {
    sqlx::query_as(
        "SELECT ends_on, closes_at FROM campaign_calendar WHERE campaign_id = $1 AND phase = $2",
    )
    .bind(campaign)
    .bind(phase)
    .fetch_optional(conn)
    .await
    .map_err(|e| AppError::internal(format!("calendar: {e}")))
}

/// `Ok` until `phase` of the campaign has closed at `now` (before it, or
/// with no dates yet); after it, a 409 (`reason=phase_over`) naming the
/// phase and its last day: what only matters while the phase can still
/// use it (a unique number handed on) is refused once it cannot.
pub async fn ensure_not_over(
    conn: &mut PgConnection,
    campaign: Uuid,
    phase: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let closes = phase_end(conn, campaign, phase).await?;
    match closes {
        Some((ends, at)) if at <= now => Err(AppError::conflict(format!(
            "фаза «{}» закончилась {}",
            phase_title(phase),
            ends.format("%d.%m.%Y")
        ))
        .with("reason", "phase_over")
        .with("phase", phase)
        .with("phase_ends_on", ends.to_string())),
        _ => Ok(()),
    }
}

/// `Ok` once `phase` of the campaign has closed at `now`; else a 409
/// (`reason=phase_not_closed`) naming the phase and when it closes.
pub async fn ensure_closed(
    conn: &mut PgConnection,
    campaign: Uuid,
    phase: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let closes = phase_end(conn, campaign, phase).await?;
    match closes {
        Some((_, at)) if at <= now => Ok(()),
        Some((ends, at)) => Err(AppError::conflict(format!(
            "фаза «{}» ещё не закончилась (до {} включительно)",
            phase_title(phase),
            ends.format("%d.%m.%Y")
        ))
        .with("reason", "phase_not_closed")
        .with("phase", phase)
        .with("closes_at", at.to_rfc3339())),
        None => Err(
            AppError::conflict(format!("даты фазы «{}» не назначены", phase_title(phase)))
                .with("reason", "phase_not_closed")
                .with("phase", phase),
        ),
    }
}
