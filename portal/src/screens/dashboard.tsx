// The operators' and the ministry's overview of their scope, as charts:
// the year's deficits and how the registry covers them, applications by
// organization or municipality, completion and test scores by program.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client";
import type { components } from "../api/schema";
import { useCampaign } from "../campaign";
import { BarChart } from "../chart";
import { formatDate } from "../dates";
import { t } from "../i18n";

type Coverage = components["schemas"]["Coverage"];
type Summary = components["schemas"]["Summary"];
type Quality = components["schemas"]["QualityReport"];

export function Dashboard({ regional }: { regional: boolean }) {
  const [campaign] = useCampaign();
  const [coverage, setCoverage] = useState<Coverage | null>(null);
  const [summary, setSummary] = useState<Summary | null>(null);
  const [quality, setQuality] = useState<Quality | null>(null);
  useEffect(() => {
    if (!campaign?.id) return;
    const id = campaign.id;
    api.GET("/api/v1/campaigns/{id}/coverage", { params: { path: { id } } }).then(({ data }) => setCoverage(data ?? null));
    api
      .GET("/api/v1/campaigns/{id}/applications/summary", {
        params: {
          path: { id },
          query: { by: regional ? "municipality" : "organization", time_zone: campaign.time_zone || undefined },
        },
      })
      .then(({ data }) => setSummary(typeof data === "object" ? (data ?? null) : null));
    if (regional && campaign.region_id) {
      api
        .GET("/api/v1/regions/{id}/quality", { params: { path: { id: campaign.region_id } } })
        .then(({ data }) => setQuality(typeof data === "object" ? (data ?? null) : null));
    }
  }, [campaign]);
  if (campaign === undefined) return <p>{t.loading}</p>;
  if (campaign === null) return <p>{t.noCampaign}</p>;
  const rows = summary?.rows ?? [];
  return (
    <section>
      <h1>{t.dashboard.title(campaign.title ?? "")}</h1>
      {coverage && (
        <>
          <BarChart
            title={t.dashboard.deficits}
            bars={(coverage.rows ?? []).map((r) => ({ label: `${r.competence} ${r.name}`, value: r.demand ?? 0, alert: r.gap }))}
          />
          <p>{t.dashboard.gaps(coverage.gaps ?? 0)}</p>
        </>
      )}
      {(summary?.days?.length ?? 0) > 0 && (
        <BarChart
          title={t.dashboard.perDay}
          bars={(summary?.days ?? []).map((d) => ({ label: formatDate(d.day), value: d.submitted ?? 0 }))}
        />
      )}
      {rows.length > 0 ? (
        <>
          <BarChart title={t.dashboard.enrolled} bars={rows.map((r) => ({ label: r.unit_name ?? "", value: r.enrolled ?? 0 }))} />
          <BarChart title={t.dashboard.waitlisted} bars={rows.map((r) => ({ label: r.unit_name ?? "", value: r.waitlisted ?? 0 }))} />
        </>
      ) : (
        <p>{t.dashboard.noApplications}</p>
      )}
      {quality && (quality.programs?.length ?? 0) > 0 && (
        <BarChart
          title={t.dashboard.completion}
          unit="%"
          bars={(quality.programs ?? []).map((p) => ({ label: p.program_title ?? "", value: p.completion_percent ?? 0, alert: (p.completion_percent ?? 0) < 50 }))}
        />
      )}
      {quality && (quality.programs ?? []).some((p) => (p.tested ?? 0) > 0) && (
        <BarChart
          title={t.dashboard.scores}
          bars={t.dashboard.bands.map((label, i) => ({
            label,
            value: (quality.programs ?? []).reduce((sum, p) => sum + (p.score_bands?.[i] ?? 0), 0),
            alert: i < 2,
          }))}
        />
      )}
    </section>
  );
}
