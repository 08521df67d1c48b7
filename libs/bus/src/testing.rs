//! For tests of a service over the bus (`services/*/tests`): a caller with
//! a role, and another service's event published as its relay would.

use crate::{Bus, CallContext};
use pd_domain::{Grant, Principal, Role};
use pd_runtime::settings::AuthSettings;
use pd_runtime::tokens::TokenIssuer;
use prost::Message;
use uuid::Uuid;

/// A caller holding `role` over `scope`, with a token signed by `auth`'s key.
pub fn context_as(
    auth: &AuthSettings,
    role: Role,
    scope: Option<Uuid>,
) -> anyhow::Result<CallContext> {
    context_with(auth, vec![Grant::new(role, scope)])
}

/// A caller holding `grants` (with their regions, as identity signs them).
pub fn context_with(auth: &AuthSettings, grants: Vec<Grant>) -> anyhow::Result<CallContext> {
    let principal = Principal {
        user_id: Uuid::now_v7(),
        login: "test".into(),
        grants,
    };
    let token = TokenIssuer::new(auth)?.issue(&principal)?;
    Ok(CallContext {
        authorization: Some(format!("Bearer {token}")),
        ..Default::default()
    })
}

/// Publishes `payload` as event `event` of service `source` on its stream,
/// with the aggregate's `version` (0: unversioned), and waits for the ack.
pub async fn publish_event<M: Message>(
    bus: &Bus,
    source: &str,
    event: &str,
    aggregate: &str,
    version: u64,
    payload: &M,
) -> anyhow::Result<()> {
    let mut envelope = crate::events::envelope(event, aggregate, "test", payload);
    envelope.version = version;
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", envelope.event_id.as_str());
    bus.jetstream()
        .publish_with_headers(
            bus.event_subject(source, event),
            headers,
            bytes::Bytes::from(envelope.encode_to_vec()),
        )
        .await?
        .await?;
    Ok(())
}

/// A campaign's calendar with `phase` open from a day ago for `days`
/// days, as the registry publishes it (`campaign_calendar_changed`).
pub fn calendar_open_now(
    campaign: Uuid,
    region: Uuid,
    phase: &str,
    days: i64,
) -> pd_proto::registry::v1::CampaignCalendarChanged {
    let now = chrono::Utc::now();
    let (from, to) = (
        now - chrono::Duration::days(1),
        now + chrono::Duration::days(days),
    );
    pd_proto::registry::v1::CampaignCalendarChanged {
        campaign_id: campaign.to_string(),
        region_id: region.to_string(),
        year: now
            .date_naive()
            .format("%Y")
            .to_string()
            .parse()
            .unwrap_or(2026),
        time_zone: "Europe/Moscow".into(),
        phases: vec![pd_proto::registry::v1::PhaseWindow {
            phase: phase.into(),
            starts_on: from.date_naive().to_string(),
            ends_on: to.date_naive().to_string(),
            opens_at: from.to_rfc3339(),
            closes_at: to.to_rfc3339(),
        }],
    }
}
