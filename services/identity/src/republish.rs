//! Snapshots of what consumers keep, published again on an operator's
//! request (`pd admin republish identity`): for a read-model older than
//! the stream's retention, or one that predates a field (a region's PD
//! model, a grant's login). Each event gets the aggregate's next version,
//! so consumers apply it over what they hold.

use pd_bus::outbox::{Outbox, PendingEvent};
use pd_proto::identity::v1 as pb;
use prost::Message;
use sqlx::PgPool;
use uuid::Uuid;

use crate::organizations::{MunicipalityRow, ProviderRow};
use crate::regions::RegionRow;

/// An account with its login, display name, and its grants' roles and
/// scopes side by side.
type AccountGrants = (Uuid, String, String, Vec<String>, Vec<Uuid>);

/// How many snapshots of each kind were written to the outbox.
#[derive(Debug, Default)]
pub struct Republished {
    pub regions: usize,
    pub municipalities: usize,
    pub providers: usize,
    pub grants: usize,
}

/// Writes every region, municipality, provider and account's scoped grants to
/// the outbox in one transaction; the running identity's relay publishes.
pub async fn republish(pool: &PgPool, subject_prefix: &str) -> anyhow::Result<Republished> {
    let outbox = Outbox::with_prefix(subject_prefix, crate::SERVICE);
    let mut tx = pool.begin().await?;
    let mut done = Republished::default();

    let regions: Vec<RegionRow> = sqlx::query_as(
        "SELECT id, code, name, time_zone, pd_model, pd_interval_years, created_at FROM regions ORDER BY id",
    )
    .fetch_all(&mut *tx)
    .await?;
    done.regions = regions.len();
    let events = regions.into_iter().map(|r| {
        let region = pb::Region::from(r);
        event(
            "region_updated",
            region.id.clone(),
            &pb::RegionUpdated {
                region: Some(region),
            },
        )
    });
    outbox
        .write_many(&mut tx, "system", events.collect())
        .await?;

    let municipalities: Vec<MunicipalityRow> = sqlx::query_as(
        "SELECT id, region_id, name, code, created_at FROM municipalities ORDER BY id",
    )
    .fetch_all(&mut *tx)
    .await?;
    done.municipalities = municipalities.len();
    let events = municipalities.into_iter().map(|m| {
        let m = pb::Municipality::from(m);
        event(
            "municipality_created",
            m.id.clone(),
            &pb::MunicipalityCreated {
                municipality: Some(m),
            },
        )
    });
    outbox
        .write_many(&mut tx, "system", events.collect())
        .await?;

    let providers: Vec<ProviderRow> = sqlx::query_as(
        "SELECT id, region_id, name, inn, licence_number, created_at FROM providers ORDER BY id",
    )
    .fetch_all(&mut *tx)
    .await?;
    done.providers = providers.len();
    let events = providers.into_iter().map(|p| {
        let p = pb::Provider::from(p);
        event(
            "provider_created",
            p.id.clone(),
            &pb::ProviderCreated { provider: Some(p) },
        )
    });
    outbox
        .write_many(&mut tx, "system", events.collect())
        .await?;

    // One snapshot per account, also of accounts with no grant left, so a
    // consumer that missed a revocation drops the grant.
    let accounts: Vec<AccountGrants> = sqlx::query_as(
        "SELECT u.id, u.login, u.display_name,
                COALESCE(array_agg(g.role ORDER BY g.role, g.scope_id) FILTER (WHERE g.scope_id IS NOT NULL), '{}'),
                COALESCE(array_agg(g.scope_id ORDER BY g.role, g.scope_id) FILTER (WHERE g.scope_id IS NOT NULL), '{}')
         FROM users u LEFT JOIN role_grants g ON g.user_id = u.id
         GROUP BY u.id ORDER BY u.id",
    )
    .fetch_all(&mut *tx)
    .await?;
    done.grants = accounts.iter().map(|a| a.3.len()).sum();
    let events = accounts
        .into_iter()
        .map(|(user, login, display_name, roles, scopes)| {
            let e = pb::GrantsSnapshot {
                user_id: user.to_string(),
                grants: roles
                    .into_iter()
                    .zip(scopes)
                    .map(|(role, scope)| pb::ScopedGrant {
                        role,
                        scope_id: scope.to_string(),
                    })
                    .collect(),
                login,
                display_name,
            };
            event("grants_snapshot", user.to_string(), &e)
        });
    outbox
        .write_many(&mut tx, "system", events.collect())
        .await?;
    tx.commit().await?;
    // The running identity's relay (of this process or another) publishes now.
    pd_bus::outbox::announce(pool).await;
    tracing::info!(?done, "identity snapshots republished");
    Ok(done)
}

fn event<M: Message>(event_type: &'static str, aggregate_id: String, m: &M) -> PendingEvent {
    PendingEvent {
        event_type,
        aggregate_id,
        payload: m.encode_to_vec(),
    }
}
