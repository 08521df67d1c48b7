//! Quality analytics (issue 11; seed 003's monitoring indicators): per
//! program, how many of its enrolled learners completed, the post-course
//! questionnaire's averages per question, the best test scores in bands,
//! completions by municipality; per unit, who is in which state of the
//! post-course window.

use pd_bus::RpcContext;
use pd_domain::{AppError, Principal};
use pd_proto::monitoring::v1 as pb;
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::State;
use crate::db::{self, db_error, ensure};
use crate::domain::access;
use crate::messages as msg;

#[derive(sqlx::FromRow)]
struct ByMunicipality {
    program_id: Uuid,
    municipality_id: Option<Uuid>,
    name: Option<String>,
    completed: i64,
    not_completed: i64,
}

/// One question's average in one program.
#[derive(sqlx::FromRow)]
struct Average {
    program_id: Uuid,
    question_id: String,
    text: String,
    average: f64,
    answers: i64,
}

#[derive(sqlx::FromRow)]
struct Band {
    program_id: Uuid,
    surveyed: i64,
    band: i32,
    tested: i64,
    passed: i64,
}

#[derive(sqlx::FromRow)]
struct StateRow {
    unit_id: Uuid,
    unit_name: String,
    open: i64,
    answered: i64,
    tested: i64,
    missed: i64,
    total: i64,
}

/// Who reads a region's quality figures: its operators and ministry; a
/// provider its own programs.
fn reads_quality(p: &Principal, region: Uuid, provider: Option<Uuid>) -> bool {
    access::manages_region(p, region) || provider.is_some_and(|pr| access::is_provider(p, pr))
}

pub(crate) async fn quality(
    s: State,
    ctx: RpcContext,
    req: pb::QualityRequest,
) -> Result<pb::QualityReport, AppError> {
    let p = ctx.principal()?;
    let region = pd_domain::request::body_id("region_id", &req.region_id)?;
    let provider = db::optional_id("provider_id", &req.provider_id)?;
    ensure(reads_quality(p, region, provider))?;
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let mut programs: BTreeMap<Uuid, pb::ProgramQuality> = BTreeMap::new();
    // Enrolled: the fixed rosters of the programs' groups.
    let rows: Vec<(Uuid, String, Uuid, String, i64)> = sqlx::query_as(
        "SELECT g.program_id, g.program_title, g.provider_id, g.provider_name, count(m.educator_id)
         FROM known_groups g
         JOIN rosters r ON r.group_id = g.id AND r.roster IN ('formed', 'under_min')
         LEFT JOIN roster_members m ON m.group_id = g.id
         WHERE g.region_id = $1 AND ($2::uuid IS NULL OR g.provider_id = $2)
         GROUP BY 1, 2, 3, 4",
    )
    .bind(region)
    .bind(provider)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    for (program, title, provider_id, provider_name, enrolled) in rows {
        programs.insert(
            program,
            pb::ProgramQuality {
                program_id: program.to_string(),
                program_title: title,
                provider_id: provider_id.to_string(),
                provider_name,
                enrolled: enrolled as i32,
                score_bands: vec![0; 5],
                ..Default::default()
            },
        );
    }
    // Completions, by municipality too.
    let rows: Vec<ByMunicipality> = sqlx::query_as(
        "SELECT c.program_id, e.municipality_id, m.name,
                count(DISTINCT (c.group_id, c.educator_id)) FILTER (WHERE c.status = 'completed') AS completed,
                count(DISTINCT (c.group_id, c.educator_id)) FILTER (WHERE c.status = 'not_completed') AS not_completed
         FROM completions c
         LEFT JOIN known_educators e ON e.id = c.educator_id
         LEFT JOIN known_municipalities m ON m.id = e.municipality_id
         WHERE c.region_id = $1 AND ($2::uuid IS NULL OR c.provider_id = $2)
         GROUP BY 1, 2, 3 ORDER BY 3",
    )
    .bind(region)
    .bind(provider)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    for r in rows {
        let Some(q) = programs.get_mut(&r.program_id) else {
            continue;
        };
        q.completed += r.completed as i32;
        q.not_completed += r.not_completed as i32;
        q.municipalities.push(pb::UnitCount {
            unit_id: r.municipality_id.map(|m| m.to_string()).unwrap_or_default(),
            unit_name: r.name.unwrap_or_default(),
            completed: r.completed as i32,
            not_completed: r.not_completed as i32,
        });
    }
    // The questionnaire's averages per question.
    let rows: Vec<Average> = sqlx::query_as(
        "SELECT c.program_id, v->>'question_id' AS question_id, max(v->>'text') AS text,
                avg((v->>'value')::float8) AS average, count(*) AS answers
         FROM post_course_windows w JOIN completions c ON c.id = w.completion_id,
              jsonb_array_elements(w.survey_values) v
         WHERE w.region_id = $1 AND ($2::uuid IS NULL OR c.provider_id = $2)
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind(region)
    .bind(provider)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    for a in rows {
        if let Some(q) = programs.get_mut(&a.program_id) {
            q.questions.push(pb::QuestionAverage {
                question_id: a.question_id,
                text: a.text,
                average: (a.average * 100.0).round() / 100.0,
                answers: a.answers as i32,
            });
        }
    }
    // Questionnaires answered, test bands, passes.
    let rows: Vec<Band> = sqlx::query_as(
        "SELECT c.program_id, count(*) FILTER (WHERE w.survey_done_at IS NOT NULL) AS surveyed,
                least(w.best_percent / 20, 4) AS band, count(*) FILTER (WHERE w.attempts_used > 0) AS tested,
                count(*) FILTER (WHERE w.best_passed) AS passed
         FROM post_course_windows w JOIN completions c ON c.id = w.completion_id
         WHERE w.region_id = $1 AND ($2::uuid IS NULL OR c.provider_id = $2)
         GROUP BY 1, 3",
    )
    .bind(region)
    .bind(provider)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    for b in rows {
        if let Some(q) = programs.get_mut(&b.program_id) {
            q.surveyed += b.surveyed as i32;
            q.tested += b.tested as i32;
            q.passed += b.passed as i32;
            if let Some(slot) = q.score_bands.get_mut(b.band.clamp(0, 4) as usize) {
                *slot += b.tested as i32;
            }
        }
    }
    for q in programs.values_mut() {
        if q.enrolled > 0 {
            q.completion_percent = q.completed * 100 / q.enrolled;
        }
    }
    let mut out: Vec<pb::ProgramQuality> = programs.into_values().collect();
    out.sort_by(|a, b| {
        (&a.provider_name, &a.program_title).cmp(&(&b.provider_name, &b.program_title))
    });
    Ok(pb::QualityReport { programs: out })
}

/// Per organization (or municipality) of the caller's scope: the states
/// of its educators' post-course windows.
pub(crate) async fn window_states(
    s: State,
    ctx: RpcContext,
    req: pb::WindowStatesRequest,
) -> Result<pb::WindowStates, AppError> {
    let p = ctx.principal()?;
    let region = pd_domain::request::body_id("region_id", &req.region_id)?;
    ensure(p.in_region(region))?;
    let by_municipality = match req.by.as_str() {
        "" | "organization" => false,
        "municipality" => true,
        _ => return Err(AppError::invalid("by", msg::BY)),
    };
    let mut conn = s.pool.acquire().await.map_err(db_error)?;
    let scope = pd_units::scope(
        &mut conn,
        p,
        region,
        &req.organization_id,
        &req.municipality_id,
        access::manages_region,
    )
    .await?;
    let (unit, name) = if by_municipality {
        (
            "e.municipality_id",
            "(SELECT name FROM known_municipalities WHERE id = e.municipality_id)",
        )
    } else {
        (
            "e.organization_id",
            "(SELECT name FROM known_organizations WHERE id = e.organization_id)",
        )
    };
    let sql = format!(
        "SELECT {unit} AS unit_id, coalesce({name}, '') AS unit_name,
                count(*) FILTER (WHERE w.closed_at IS NULL AND w.closes_at > $4
                                       AND w.survey_done_at IS NULL) AS open,
                count(*) FILTER (WHERE w.survey_done_at IS NOT NULL) AS answered,
                count(*) FILTER (WHERE w.attempts_used > 0) AS tested,
                count(*) FILTER (WHERE w.missed OR (w.closed_at IS NULL AND w.closes_at <= $4
                                                    AND w.survey_done_at IS NULL)) AS missed,
                count(*) AS total
         FROM post_course_windows w JOIN known_educators e ON e.id = w.educator_id
         WHERE w.region_id = $1 AND ($2::uuid IS NULL OR e.organization_id = $2)
           AND ($3::uuid IS NULL OR e.municipality_id = $3)
         GROUP BY 1, 2 ORDER BY 2"
    );
    let rows: Vec<StateRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(region)
        .bind(scope.organization)
        .bind(scope.municipality)
        .bind(s.clock.now())
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(pb::WindowStates {
        rows: rows
            .into_iter()
            .map(|r| pb::WindowStateRow {
                unit_id: r.unit_id.to_string(),
                unit_name: r.unit_name,
                open: r.open as i32,
                answered: r.answered as i32,
                tested: r.tested as i32,
                missed: r.missed as i32,
                total: r.total as i32,
            })
            .collect(),
    })
}
