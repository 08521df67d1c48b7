// The home screen: who the user is; for an educator, their PD this year
// (candidate or not, funded or not, their unique number and why).
import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client";
import type { components } from "../api/schema";
import { t } from "../i18n";

type Me = components["schemas"]["Me"];
type Campaign = components["schemas"]["Campaign"];
type MyAllocation = components["schemas"]["MyAllocation"];
type Trajectory = components["schemas"]["Trajectory"];
type CompetenceCatalog = components["schemas"]["CompetenceCatalog"];

/** "name (code)" for each code the catalog knows; the bare code otherwise. */
export function competenceNames(codes: string[], catalog: CompetenceCatalog | null): string {
  const names = new Map((catalog?.items ?? []).map((c) => [c.code ?? "", c.name ?? ""]));
  return codes.map((code) => (names.get(code) ? `${names.get(code)} (${code})` : code)).join(", ");
}

export function Home({ me }: { me: Me | null }) {
  if (!me) return <p>{t.loading}</p>;
  const name = me.user?.display_name || me.user?.login || "";
  const educator = (me.user?.grants ?? []).some((g) => g.role === "educator");
  return (
    <section>
      <h1>{t.home.greeting(name)}</h1>
      {educator && <MyYear />}
      <h2>{t.home.yourRoles}</h2>
      <ul>
        {(me.user?.grants ?? []).map((g) => (
          <li key={g.id}>{t.roles[g.role ?? ""] ?? g.role}</li>
        ))}
      </ul>
    </section>
  );
}

/** The educator's state in the newest campaign of their region. */
function MyYear() {
  const [state, setState] = useState<{ campaign: Campaign; mine: MyAllocation } | null>(null);
  const [trajectory, setTrajectory] = useState<Trajectory | null>(null);
  const [catalog, setCatalog] = useState<CompetenceCatalog | null>(null);
  useEffect(() => {
    (async () => {
      const { data } = await api.GET("/api/v1/campaigns", { params: { query: { limit: 1 } } });
      const campaign = data?.items?.[0];
      if (!campaign?.id) return;
      const { data: mine } = await api.GET("/api/v1/campaigns/{id}/allocation/me", {
        params: { path: { id: campaign.id } },
      });
      if (mine) setState({ campaign, mine });
      const { data: mapped } = await api.GET("/api/v1/campaigns/{id}/trajectory", {
        params: { path: { id: campaign.id }, query: {} },
      });
      setTrajectory(mapped ?? null);
      if ((mapped?.items?.length ?? 0) > 0) {
        const { data: competences } = await api.GET("/api/v1/campaigns/{id}/competences", {
          params: { path: { id: campaign.id } },
        });
        setCatalog(competences ?? null);
      }
    })();
  }, []);
  if (!state) return null;
  const { campaign, mine } = state;
  return (
    <div class="card">
      <h2>{t.home.myYear(campaign.title ?? "")}</h2>
      <p>
        <strong>{t.home.status[mine.status ?? ""] ?? mine.status}</strong>
      </p>
      {mine.unique_number?.number && (
        <p>
          {t.home.uniqueNumber}: <span class="code">{mine.unique_number.number}</span>
        </p>
      )}
      {mine.voucher && (
        <p>
          {t.home.voucher}: {mine.voucher.number} · {t.home.hoursLeft(mine.voucher.hours_left ?? 0, mine.voucher.hours ?? 0)}
        </p>
      )}
      <p>
        {t.home.lastPd}: {mine.last_pd_completed_on || t.home.never}
      </p>
      {mine.explanation && (
        <details>
          <summary>{t.home.why}</summary>
          <p>{mine.explanation}</p>
        </details>
      )}
      {(trajectory?.items?.length ?? 0) > 0 && (
        <>
          <h3>{t.home.forDeficits}</h3>
          <ul>
            {trajectory?.items?.map((p) => (
              <li key={p.program_id}>
                <a href={`#/apply/${encodeURIComponent(p.program_id ?? "")}`}>{p.title}</a> · {p.provider_name} ·{" "}
                {t.home.addresses(competenceNames(p.addresses ?? [], catalog))}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
