//! The published registry: a public, paginated catalog of the approved
//! programs, ordered by direction, with their providers and groups.

use pd_bus::RpcContext;
use pd_domain::AppError;
use pd_domain::bounds::{NAME, TITLE};
use pd_domain::error::Validator;
use pd_proto::registry::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::{db_error, limit, offset, optional_id};
use crate::domain::programs as rules;
use crate::programs::ProgramRow;
use crate::{State, messages as msg};

/// The filters of the catalog; all optional.
#[derive(Default)]
struct Filter {
    campaign: Option<Uuid>,
    direction: Option<String>,
    form: Option<String>,
    kind: Option<String>,
    provider: Option<Uuid>,
    municipality: Option<Uuid>,
    /// A LIKE pattern.
    text: Option<String>,
    subject: Option<String>,
    competence: Option<String>,
}

/// An approved program with its provider's name, its published groups and
/// the number of programs matching the filters.
#[derive(sqlx::FromRow)]
struct EntryRow {
    #[sqlx(flatten)]
    program: ProgramRow,
    provider_name: Option<String>,
    groups: sqlx::types::Json<Vec<pb::Group>>,
    total: i64,
}

/// `$7`, the text, is matched on the expression the trigram index
/// `programs_catalog_text` holds.
const FILTER: &str = "FROM programs g LEFT JOIN known_providers k ON k.id = g.provider_id
    WHERE g.status = 'approved'
      AND ($1::uuid IS NULL OR g.campaign_id = $1)
      AND ($2::text IS NULL OR g.direction = $2)
      AND ($3::text IS NULL OR g.form = $3)
      AND ($4::text IS NULL OR g.kind = $4)
      AND ($5::uuid IS NULL OR g.provider_id = $5)
      AND ($6::uuid IS NULL OR EXISTS (SELECT 1 FROM groups x WHERE x.program_id = g.id
                                        AND x.status = 'published' AND x.municipality_id = $6))
      AND ($7::text IS NULL OR (g.title || ' ' || g.topic || ' ' || g.annotation) ILIKE $7)
      AND ($8::text IS NULL OR EXISTS (SELECT 1 FROM unnest(g.target_subjects) s WHERE lower(s) = lower($8)))
      AND ($9::text IS NULL OR EXISTS (SELECT 1 FROM unnest(g.competences) c WHERE lower(c) = lower($9)))";

/// One page of the catalog, groups and all, in one query (`limit` None:
/// every entry). Past the last page the total is counted apart.
async fn entries(
    conn: &mut PgConnection,
    f: &Filter,
    limit: Option<i64>,
    offset: i64,
) -> Result<(Vec<pb::CatalogEntry>, i64), AppError> {
    // The page is chosen on narrow rows first; only its (at most `limit`)
    // programs are then read whole with their groups: a deep page no longer
    // builds the groups of every program before it.
    let page = format!(
        "WITH page AS (
             SELECT g.id, count(*) OVER () AS total {FILTER}
             ORDER BY g.direction, g.title, g.id LIMIT $10 OFFSET $11)
         SELECT g.*, k.name AS provider_name, page.total,
                COALESCE((SELECT json_agg(json_build_object(
                    'id', x.id::text, 'program_id', x.program_id::text, 'starts_on', x.starts_on::text,
                    'ends_on', x.ends_on::text, 'online', x.online, 'address', x.address,
                    'municipality_id', COALESCE(x.municipality_id::text, ''), 'capacity', x.capacity,
                    'min_size', x.min_size, 'language', x.language, 'status', x.status,
                    'cancellation', x.cancellation, 'cancel_reason', x.cancel_reason)
                    ORDER BY x.starts_on, x.id)
                  FROM groups x WHERE x.program_id = g.id AND x.status = 'published'), '[]') AS groups
         FROM page JOIN programs g ON g.id = page.id LEFT JOIN known_providers k ON k.id = g.provider_id
         ORDER BY g.direction, g.title, g.id"
    );
    let rows: Vec<EntryRow> = bind_filter(sqlx::query_as(sqlx::AssertSqlSafe(page)), f)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    let total = match rows.first() {
        Some(r) => r.total,
        None if offset > 0 => {
            let count = format!("SELECT count(*) {FILTER}");
            let q = sqlx::query_scalar(sqlx::AssertSqlSafe(count));
            let q = q
                .bind(f.campaign)
                .bind(&f.direction)
                .bind(&f.form)
                .bind(&f.kind)
                .bind(f.provider)
                .bind(f.municipality)
                .bind(&f.text)
                .bind(&f.subject)
                .bind(&f.competence);
            q.fetch_one(&mut *conn).await.map_err(db_error)?
        }
        None => 0,
    };
    Ok((rows.into_iter().map(entry).collect(), total))
}

fn bind_filter<'q, O>(
    q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    f: &'q Filter,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    q.bind(f.campaign)
        .bind(&f.direction)
        .bind(&f.form)
        .bind(&f.kind)
        .bind(f.provider)
        .bind(f.municipality)
        .bind(&f.text)
        .bind(&f.subject)
        .bind(&f.competence)
}

fn entry(row: EntryRow) -> pb::CatalogEntry {
    let r = row.program;
    let fields = r.fields();
    pb::CatalogEntry {
        program_id: r.id.to_string(),
        campaign_id: r.campaign_id.to_string(),
        provider_id: r.provider_id.to_string(),
        provider_name: row.provider_name.unwrap_or_default(),
        direction: r.direction,
        title: r.title,
        topic: r.topic,
        annotation: r.annotation,
        kind: r.kind,
        form: r.form,
        hours: r.hours,
        target_positions: r.target_positions,
        groups: row.groups.0,
        target_subjects: r.target_subjects,
        modules: fields.modules,
        competences: r.competences,
        internship_site: r.internship_site,
        cost_per_learner: r.cost_per_learner,
        max_group_size: r.max_group_size,
    }
}

/// Every approved program of the campaign, by direction and title.
pub(crate) async fn entries_of_campaign(
    conn: &mut PgConnection,
    campaign: Uuid,
) -> Result<Vec<pb::CatalogEntry>, AppError> {
    let filter = Filter {
        campaign: Some(campaign),
        ..Default::default()
    };
    Ok(entries(conn, &filter, None, 0).await?.0)
}

/// Public: no sign-in needed.
pub(crate) async fn catalog(
    state: State,
    _ctx: RpcContext,
    req: pb::CatalogRequest,
) -> Result<pb::Catalog, AppError> {
    let text = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    // An unknown value of an enumerated filter is the client's mistake, not
    // an empty page.
    let mut v = Validator::new();
    for (field, value, allowed) in [
        ("form", &req.form, &rules::FORMS),
        ("kind", &req.kind, &rules::KINDS),
    ] {
        if text(value).is_some_and(|x| !allowed.contains(&x.as_str())) {
            v.add(field, msg::one_of(allowed));
        }
    }
    v.max_len("direction", req.direction.trim(), TITLE);
    v.max_len("text", req.text.trim(), TITLE);
    v.max_len("subject", req.subject.trim(), NAME);
    v.max_len("competence", req.competence.trim(), NAME);
    v.finish()?;
    let filter = Filter {
        campaign: optional_id("campaign_id", &req.campaign_id)?,
        provider: optional_id("provider_id", &req.provider_id)?,
        municipality: optional_id("municipality_id", &req.municipality_id)?,
        direction: text(&req.direction),
        form: text(&req.form),
        kind: text(&req.kind),
        text: text(&req.text).map(|t| format!("%{}%", pd_domain::request::like_escape(&t))),
        subject: text(&req.subject),
        competence: text(&req.competence),
    };
    let (limit, offset) = (limit(req.limit)?, offset(req.offset)?);
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    let (items, total) = entries(&mut conn, &filter, Some(limit), offset).await?;
    Ok(pb::Catalog { items, total })
}
