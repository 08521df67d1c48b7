// The ministry's campaign: the calendar of its phases (moving them is
// logged), the funding of the year, the priority directions and topics.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client";
import type { components } from "../api/schema";
import { type Campaign, useCampaign } from "../campaign";
import { formatDateTime } from "../dates";
import { sendOnce } from "../idempotency";
import { type ProblemBody, ProblemView } from "../problem";
import { t } from "../i18n";

type Phase = components["schemas"]["Phase"];

export function CampaignScreen() {
  const [campaign, reload] = useCampaign();
  if (campaign === undefined) return <p>{t.loading}</p>;
  if (campaign === null) return <p>{t.noCampaign}</p>;
  return (
    <section>
      <h1>{campaign.title}</h1>
      <p>
        {t.calendar.current}: <strong>{t.phases[campaign.current_phase ?? ""] ?? t.calendar.between}</strong>
      </p>
      <Calendar campaign={campaign} onSaved={reload} />
      <Funding campaign={campaign} />
      <Priorities campaign={campaign} />
    </section>
  );
}

function Calendar({ campaign, onSaved }: { campaign: Campaign; onSaved: () => void }) {
  const [phases, setPhases] = useState<Phase[]>(campaign.phases ?? []);
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const [saved, setSaved] = useState("");
  useEffect(() => setPhases(campaign.phases ?? []), [campaign]);
  const set = (i: number, k: "starts_on" | "ends_on", v: string) =>
    setPhases(phases.map((p, j) => (j === i ? { ...p, [k]: v } : p)));
  const save = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    setSaved("");
    const { error } = await api.PATCH("/api/v1/campaigns/{id}", {
      params: { path: { id: campaign.id ?? "" } },
      body: { phases },
    });
    if (error) {
      setProblem(error);
      return;
    }
    setSaved(t.calendar.saved);
    onSaved();
  };
  return (
    <form class="card" onSubmit={save}>
      <h2>{t.calendar.title}</h2>
      {saved && <p role="status">{saved}</p>}
      <ProblemView problem={problem} />
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>{t.calendar.phase}</th>
              <th>{t.calendar.starts}</th>
              <th>{t.calendar.ends}</th>
            </tr>
          </thead>
          <tbody>
            {phases.map((p, i) => (
              <tr key={p.phase}>
                <th scope="row">{t.phases[p.phase ?? ""] ?? p.phase}</th>
                <td>
                  <input
                    type="date"
                    aria-label={`${t.phases[p.phase ?? ""]}: ${t.calendar.starts}`}
                    value={p.starts_on}
                    onInput={(e) => set(i, "starts_on", e.currentTarget.value)}
                  />
                </td>
                <td>
                  <input
                    type="date"
                    aria-label={`${t.phases[p.phase ?? ""]}: ${t.calendar.ends}`}
                    value={p.ends_on}
                    onInput={(e) => set(i, "ends_on", e.currentTarget.value)}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p>{t.calendar.zone(campaign.time_zone ?? "")}</p>
      <button type="submit">{t.calendar.save}</button>
    </form>
  );
}

function Funding({ campaign }: { campaign: Campaign }) {
  const id = campaign.id ?? "";
  const [funding, setFunding] = useState<components["schemas"]["Funding"] | null>(null);
  const [form, setForm] = useState({ budget: "", normative: "", reserve: "10" });
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const load = async () => {
    const { data } = await api.GET("/api/v1/campaigns/{id}/funding", { params: { path: { id } } });
    if (!data) return;
    setFunding(data);
    setForm({
      budget: String((data.budget_kopecks ?? 0) / 100),
      normative: String((data.normative_cost_kopecks ?? 0) / 100),
      reserve: String(data.reserve_percent ?? 0),
    });
  };
  useEffect(() => {
    load();
  }, [id]);
  const save = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    const { data, error } = await api.PUT("/api/v1/campaigns/{id}/funding", {
      params: { path: { id } },
      body: {
        budget_kopecks: Math.round(Number(form.budget) * 100),
        normative_cost_kopecks: Math.round(Number(form.normative) * 100),
        reserve_percent: Number(form.reserve) || 0,
      },
    });
    if (error) setProblem(error);
    if (data) setFunding(data);
  };
  const [result, setResult] = useState("");
  // Once the lists are confirmed and the money set: quotas, then numbers.
  // It happens once, so it is confirmed first.
  const allocate = async () => {
    if (!window.confirm(t.calendar.allocateConfirm)) return;
    setProblem(null);
    // Under one key until a final answer: a retry after a lost answer gets
    // the run's own answer back, not "allocated already".
    const { answer } = await sendOnce(`allocation:${id}`, (key) =>
      api.POST("/api/v1/campaigns/{id}/allocation", { params: { path: { id }, header: { "Idempotency-Key": key } } }),
    );
    if (!answer) {
      setProblem({ detail: t.apply.noAnswer });
      return;
    }
    const { data, error } = answer;
    if (error) {
      setProblem(error);
      await load();
    }
    if (data) {
      setResult(t.calendar.allocated(data.numbers_assigned ?? 0, data.unused_places ?? 0));
      setFunding({ ...funding, allocated_at: data.allocated_at });
    }
  };
  const allocated = Boolean(funding?.allocated_at);
  return (
    <form class="card" onSubmit={save}>
      <h2>{t.calendar.funding}</h2>
      <ProblemView problem={problem} />
      {funding && (
        <p>
          {t.calendar.places(funding.funded_places ?? 0, funding.reserve_places ?? 0)}
          {allocated && ` · ${t.calendar.allocatedAt(formatDateTime(funding.allocated_at, campaign.time_zone))}`}
        </p>
      )}
      <label>
        {t.calendar.budget}
        <input type="number" min={0} step="0.01" disabled={allocated} value={form.budget} onInput={(e) => setForm({ ...form, budget: e.currentTarget.value })} />
      </label>
      <label>
        {funding?.pd_model === "un_quota" || !funding?.pd_model ? t.calendar.normative : t.calendar.normativeHour}
        <input type="number" min={0} step="0.01" disabled={allocated} value={form.normative} onInput={(e) => setForm({ ...form, normative: e.currentTarget.value })} />
      </label>
      <label>
        {t.calendar.reserve}
        <input type="number" min={0} max={50} disabled={allocated} value={form.reserve} onInput={(e) => setForm({ ...form, reserve: e.currentTarget.value })} />
      </label>
      {!allocated && <button type="submit">{t.calendar.saveFunding}</button>}
      {!allocated && (funding?.funded_places ?? 0) > 0 && (
        <button type="button" onClick={allocate}>
          {t.calendar.allocate}
        </button>
      )}
      {result && <p role="status">{result}</p>}
    </form>
  );
}

function Priorities({ campaign }: { campaign: Campaign }) {
  const id = campaign.id ?? "";
  const [directions, setDirections] = useState("");
  const [topics, setTopics] = useState("");
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const [saved, setSaved] = useState("");
  useEffect(() => {
    api.GET("/api/v1/campaigns/{id}/priorities", { params: { path: { id } } }).then(({ data }) => {
      setDirections((data?.directions ?? []).join("\n"));
      setTopics((data?.topics ?? []).join("\n"));
    });
  }, [id]);
  const lines = (s: string) =>
    s
      .split("\n")
      .map((x) => x.trim())
      .filter(Boolean);
  const save = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    setSaved("");
    const { error } = await api.PUT("/api/v1/campaigns/{id}/priorities", {
      params: { path: { id } },
      body: { directions: lines(directions), topics: lines(topics) },
    });
    if (error) setProblem(error);
    else setSaved(t.calendar.prioritiesSaved);
  };
  return (
    <form class="card" onSubmit={save}>
      <h2>{t.calendar.priorities}</h2>
      {saved && <p role="status">{saved}</p>}
      <ProblemView problem={problem} />
      <label>
        {t.calendar.directions}
        <textarea value={directions} onInput={(e) => setDirections(e.currentTarget.value)} />
      </label>
      <label>
        {t.calendar.topics}
        <textarea value={topics} onInput={(e) => setTopics(e.currentTarget.value)} />
      </label>
      <button type="submit">{t.calendar.savePriorities}</button>
    </form>
  );
}
