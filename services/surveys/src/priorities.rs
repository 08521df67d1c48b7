//! What the needs survey leads to: the ministry's priority directions and
//! topic base, coverage of the deficits in demand by the published
//! registry (the gaps go to providers), and each educator's trajectory —
//! the registry's programs that address their deficits.

use chrono::{DateTime, Utc};
use pd_bus::RpcContext;
use pd_bus::outbox::PendingEvent;
use pd_domain::bounds::{NAME, TITLE};
use pd_domain::error::Validator;
use pd_domain::{AppError, Principal};
use pd_proto::Message;
use pd_proto::surveys::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::{campaign_region, db_error, ensure, optional_id, ts};
use crate::domain::access;
use crate::{State, messages as msg};

const MAX_DIRECTIONS: usize = 50;
const MAX_TOPICS: usize = 200;

pub(crate) async fn publish(
    s: State,
    ctx: RpcContext,
    req: pb::PublishPrioritiesRequest,
) -> Result<pb::Priorities, AppError> {
    let p = ctx.principal()?;
    let clean = |items: &[String]| {
        items
            .iter()
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty())
            .collect::<Vec<_>>()
    };
    let (directions, topics) = (clean(&req.directions), clean(&req.topics));
    let mut v = Validator::new();
    if directions.is_empty() {
        v.add("directions", msg::REQUIRED);
    }
    // Within one event (256 KiB) whatever the text: 50 × 500 and 200 × 300
    // characters of Cyrillic take at most 170 KB.
    v.max_items("directions", &directions, MAX_DIRECTIONS, TITLE);
    v.max_items("topics", &topics, MAX_TOPICS, NAME);
    v.finish()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let (campaign, region) = campaign_region(&mut tx, p, &req.campaign_id).await?;
    ensure(access::publishes_priorities(p, region))?;
    let at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO priorities (campaign_id, region_id, directions, topics, published_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (campaign_id) DO UPDATE SET directions = $3, topics = $4, published_by = $5, published_at = now()
         RETURNING published_at",
    )
    .bind(campaign)
    .bind(region)
    .bind(&directions)
    .bind(&topics)
    .bind(p.user_id)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let event = pb::PrioritiesPublished {
        campaign_id: campaign.to_string(),
        region_id: region.to_string(),
        directions: directions.clone(),
        topics: topics.clone(),
        published_at: ts(at),
    };
    s.outbox
        .write(
            &mut tx,
            "priorities_published",
            &campaign.to_string(),
            &ctx.actor(),
            &event,
        )
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(pb::Priorities {
        campaign_id: campaign.to_string(),
        directions,
        topics,
        published_at: ts(at),
    })
}

pub(crate) async fn get(
    s: State,
    ctx: RpcContext,
    req: pb::CampaignRequest,
) -> Result<pb::Priorities, AppError> {
    let p = ctx.principal()?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let (campaign, _) = campaign_region(&mut conn, p, &req.campaign_id).await?;
    let row: Option<(Vec<String>, Vec<String>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT directions, topics, published_at FROM priorities WHERE campaign_id = $1",
    )
    .bind(campaign)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    let (directions, topics, at) = row.ok_or_else(|| AppError::not_found(msg::NO_PRIORITIES))?;
    Ok(pb::Priorities {
        campaign_id: campaign.to_string(),
        directions,
        topics,
        published_at: ts(at),
    })
}

/// Every deficit with demand, with the published programs addressing it.
async fn coverage_of(conn: &mut PgConnection, campaign: Uuid) -> Result<pb::Coverage, AppError> {
    let rows: Vec<(String, String, i64, Vec<Uuid>)> = sqlx::query_as(
        "SELECT d.code, COALESCE(c.name, ''), count(DISTINCT d.educator_id),
                COALESCE((SELECT array_agg(p.id ORDER BY p.title, p.id) FROM known_programs p
                          WHERE p.campaign_id = $1 AND d.code = ANY(p.competences)), '{}')
         FROM educator_deficits d
         LEFT JOIN competences c ON c.campaign_id = d.campaign_id AND c.code = d.code
         WHERE d.campaign_id = $1
         GROUP BY d.code, c.name ORDER BY count(DISTINCT d.educator_id) DESC, d.code",
    )
    .bind(campaign)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let published: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM known_programs WHERE campaign_id = $1)")
            .bind(campaign)
            .fetch_one(conn)
            .await
            .map_err(db_error)?;
    let rows: Vec<pb::CoverageRow> = rows
        .into_iter()
        .map(|(competence, name, demand, programs)| pb::CoverageRow {
            gap: programs.is_empty(),
            competence,
            name,
            demand,
            program_ids: programs.iter().map(Uuid::to_string).collect(),
        })
        .collect();
    Ok(pb::Coverage {
        campaign_id: campaign.to_string(),
        gaps: rows.iter().filter(|r| r.gap).count() as i64,
        rows,
        registry_published: published,
    })
}

pub(crate) async fn coverage(
    s: State,
    ctx: RpcContext,
    req: pb::CampaignRequest,
) -> Result<pb::Coverage, AppError> {
    let p = ctx.principal()?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let (campaign, region) = campaign_region(&mut conn, p, &req.campaign_id).await?;
    ensure(access::reads_region_figures(p, region))?;
    coverage_of(&mut conn, campaign).await
}

/// Sends the uncovered deficits to providers (`coverage_gaps_published`).
pub(crate) async fn publish_gaps(
    s: State,
    ctx: RpcContext,
    req: pb::CampaignRequest,
) -> Result<pb::Coverage, AppError> {
    let p = ctx.principal()?;
    let mut tx = s.pool.begin().await.map_err(db_error)?;
    let (campaign, region) = campaign_region(&mut tx, p, &req.campaign_id).await?;
    ensure(access::manages_region(p, region))?;
    let cov = coverage_of(&mut tx, campaign).await?;
    let region_id = region.to_string();
    let mut events = Vec::new();
    for gap in cov.rows.iter().filter(|r| r.gap) {
        let event = pb::CoverageGapPublished {
            campaign_id: campaign.to_string(),
            region_id: region_id.clone(),
            gap: Some(gap.clone()),
        };
        events.push(PendingEvent {
            event_type: "coverage_gap_published",
            aggregate_id: format!("{campaign}:{}", gap.competence),
            payload: event.encode_to_vec(),
        });
    }
    let summary = pb::CoverageGapsPublished {
        campaign_id: campaign.to_string(),
        region_id,
        published_at: ts(Utc::now()),
        gap_count: events.len() as i32,
    };
    s.outbox
        .write_many(&mut tx, &ctx.actor(), events)
        .await
        .map_err(db_error)?;
    s.outbox
        .write(
            &mut tx,
            "coverage_gaps_published",
            &campaign.to_string(),
            &ctx.actor(),
            &summary,
        )
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(cov)
}

/// The educator whose trajectory is asked: the caller, or one an operator oversees.
async fn whose(conn: &mut PgConnection, p: &Principal, asked: &str) -> Result<Uuid, AppError> {
    match optional_id("educator_id", asked)? {
        None => {
            access::educator_id(p).ok_or_else(|| AppError::invalid("educator_id", msg::REQUIRED))
        }
        Some(e) if access::educator_id(p) == Some(e) => Ok(e),
        Some(e) => {
            let place: Option<(Uuid, Uuid, Uuid)> = sqlx::query_as(
                "SELECT region_id, municipality_id, organization_id FROM known_educators WHERE id = $1",
            )
            .bind(e)
            .fetch_optional(conn)
            .await
            .map_err(db_error)?;
            match place {
                Some((region, municipality, organization))
                    if access::oversees(
                        p,
                        &access::Workplace {
                            region,
                            municipality,
                            organization,
                        },
                    ) =>
                {
                    Ok(e)
                }
                _ => Err(AppError::not_found(msg::EDUCATOR_NOT_FOUND)),
            }
        }
    }
}

/// A published program and which of the educator's deficits it addresses.
#[derive(sqlx::FromRow)]
struct ProgramRow {
    id: Uuid,
    title: String,
    provider_name: String,
    direction: String,
    addresses: Vec<String>,
    hours: i32,
    form: String,
}

/// The registry's programs that address the educator's deficits, those
/// addressing more of them first.
pub(crate) async fn trajectory(
    s: State,
    ctx: RpcContext,
    req: pb::TrajectoryRequest,
) -> Result<pb::Trajectory, AppError> {
    let p = ctx.principal()?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let (campaign, _) = campaign_region(&mut conn, p, &req.campaign_id).await?;
    let educator = whose(&mut conn, p, &req.educator_id).await?;
    let deficits: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT code FROM educator_deficits WHERE campaign_id = $1 AND educator_id = $2 ORDER BY code",
    )
    .bind(campaign)
    .bind(educator)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let rows: Vec<ProgramRow> = sqlx::query_as(
        "SELECT id, title, provider_name, direction,
                ARRAY(SELECT unnest(competences) INTERSECT SELECT unnest($2::text[]) ORDER BY 1) AS addresses,
                hours, form
         FROM known_programs WHERE campaign_id = $1 AND competences && $2::text[]
         ORDER BY cardinality(ARRAY(SELECT unnest(competences) INTERSECT SELECT unnest($2::text[]))) DESC, title, id
         LIMIT 50",
    )
    .bind(campaign)
    .bind(&deficits)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(pb::Trajectory {
        deficits,
        items: rows
            .into_iter()
            .map(|r| pb::TrajectoryItem {
                program_id: r.id.to_string(),
                title: r.title,
                provider_name: r.provider_name,
                direction: r.direction,
                addresses: r.addresses,
                hours: r.hours,
                form: r.form,
            })
            .collect(),
    })
}
