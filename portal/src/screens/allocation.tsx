// The operators' allocation: quotas and how each was computed, refusals
// to decide, and freed places to reassign before the cascade's deadline
// (the organization's, then the municipality's, then the region's).
import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client";
import type { components } from "../api/schema";
import { type Campaign, useCampaign } from "../campaign";
import { toCsv, saveCsv } from "../csv";
import { sendOnce } from "../idempotency";
import { formatDateTime } from "../dates";
import { type ProblemBody, ProblemView } from "../problem";
import { t } from "../i18n";

type Quota = components["schemas"]["Quota"];
type Refusal = components["schemas"]["Refusal"];
type FreePlace = components["schemas"]["FreePlace"];
type Candidate = components["schemas"]["Candidate"];

export function Allocation() {
  const [campaign] = useCampaign();
  if (campaign === undefined) return <p>{t.loading}</p>;
  if (campaign === null) return <p>{t.noCampaign}</p>;
  return (
    <section>
      <h1>{t.allocation.title}</h1>
      <Quotas campaign={campaign} />
      <Refusals campaign={campaign} />
      <FreePlaces campaign={campaign} />
    </section>
  );
}

function Quotas({ campaign }: { campaign: Campaign }) {
  const [level, setLevel] = useState("municipality");
  const [list, setList] = useState<{ items: Quota[]; rule: string } | null>(null);
  useEffect(() => {
    api
      .GET("/api/v1/campaigns/{id}/quotas", { params: { path: { id: campaign.id ?? "" }, query: { level, limit: 200 } } })
      .then(({ data }) => setList({ items: data?.items ?? [], rule: data?.rule ?? "" }));
  }, [level]);
  const csv = () =>
    saveCsv(
      "quotas.csv",
      toCsv(
        [t.allocation.unit, t.allocation.candidates, t.allocation.share, t.allocation.floor, t.allocation.rank, t.allocation.quota, t.allocation.assigned],
        (list?.items ?? []).map((q) => [
          q.unit_name ?? "",
          q.candidates ?? 0,
          q.exact_share ?? "",
          q.floor ?? 0,
          q.remainder_rank ?? 0,
          q.quota ?? 0,
          q.assigned ?? 0,
        ]),
      ),
    );
  return (
    <>
      <h2>{t.allocation.quotas}</h2>
      <div class="inline">
        <label>
          {t.allocation.level}
          <select value={level} onChange={(e) => setLevel(e.currentTarget.value)}>
            <option value="municipality">{t.allocation.levels.municipality}</option>
            <option value="organization">{t.allocation.levels.organization}</option>
          </select>
        </label>
        <button type="button" class="secondary" onClick={csv}>
          {t.allocation.csv}
        </button>
      </div>
      {list?.rule && <p>{list.rule}</p>}
      <div class="scroll">
        <table aria-label={t.allocation.quotas}>
          <thead>
            <tr>
              <th>{t.allocation.unit}</th>
              <th>{t.allocation.candidates}</th>
              <th>{t.allocation.share}</th>
              <th>{t.allocation.floor}</th>
              <th>{t.allocation.rank}</th>
              <th>{t.allocation.quota}</th>
              <th>{t.allocation.assigned}</th>
            </tr>
          </thead>
          <tbody>
            {list?.items.map((q) => (
              <tr key={q.unit_id}>
                <td>{q.unit_name}</td>
                <td>{q.candidates}</td>
                <td>{q.exact_share}</td>
                <td>{q.floor}</td>
                <td>
                  {q.remainder_rank}
                  {q.extra_place && ` (${t.allocation.extra})`}
                </td>
                <td>{q.quota}</td>
                <td>{q.assigned}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function Refusals({ campaign }: { campaign: Campaign }) {
  const [items, setItems] = useState<Refusal[]>([]);
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const [notes, setNotes] = useState<Record<string, string>>({});
  const load = async () => {
    const { data, error } = await api.GET("/api/v1/campaigns/{id}/refusals", {
      params: { path: { id: campaign.id ?? "" }, query: { status: "requested", limit: 200 } },
    });
    if (error) setProblem(error);
    setItems(data?.items ?? []);
  };
  useEffect(() => {
    load();
  }, []);
  const decide = async (id: string, approve: boolean) => {
    setProblem(null);
    const { error } = await api.POST("/api/v1/refusals/{id}/decision", {
      params: { path: { id } },
      body: { approve, note: notes[id] ?? "" },
    });
    if (error) setProblem(error);
    await load();
  };
  return (
    <>
      <h2>{t.allocation.refusals}</h2>
      <ProblemView problem={problem} />
      {items.length > 0 && (
        <button
          type="button"
          class="secondary"
          onClick={() =>
            saveCsv(
              "refusals.csv",
              toCsv(
                [t.allocation.educator, t.allocation.number, t.allocation.reason, t.allocation.requested],
                items.map((r) => [r.educator_name ?? "", r.number ?? "", r.reason ?? "", formatDateTime(r.requested_at, campaign.time_zone)]),
              ),
            )
          }
        >
          {t.allocation.refusalsCsv}
        </button>
      )}
      {items.length === 0 && <p>{t.allocation.noRefusals}</p>}
      <ul class="cards">
        {items.map((r) => (
          <li class="card" key={r.id}>
            <p>
              <strong>{r.educator_name}</strong> · <span class="code">{r.number}</span> ·{" "}
              {formatDateTime(r.requested_at, campaign.time_zone)}
            </p>
            <p>{r.reason}</p>
            <div class="inline">
              <button type="button" onClick={() => decide(r.id ?? "", true)}>
                {t.allocation.approve}
              </button>
              <label>
                {t.allocation.note}
                <input value={notes[r.id ?? ""] ?? ""} onInput={(e) => setNotes({ ...notes, [r.id ?? ""]: e.currentTarget.value })} />
              </label>
              <button type="button" class="secondary" onClick={() => decide(r.id ?? "", false)}>
                {t.allocation.reject}
              </button>
            </div>
          </li>
        ))}
      </ul>
    </>
  );
}

function FreePlaces({ campaign }: { campaign: Campaign }) {
  const id = campaign.id ?? "";
  const [places, setPlaces] = useState<FreePlace[]>([]);
  const [waiting, setWaiting] = useState<Candidate[]>([]);
  const [chosen, setChosen] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const [done, setDone] = useState("");
  const load = async () => {
    const { data } = await api.GET("/api/v1/campaigns/{id}/free-places", {
      params: { path: { id }, query: { status: "open", limit: 200 } },
    });
    setPlaces(data?.items ?? []);
    const { data: c } = await api.GET("/api/v1/campaigns/{id}/candidates", {
      params: { path: { id }, query: { unfunded_only: true, limit: 200 } },
    });
    setWaiting((c?.items ?? []).filter((x) => x.status === "included" && !x.unique_number));
  };
  useEffect(() => {
    load();
  }, []);
  const assign = async (place: string) => {
    setProblem(null);
    setDone("");
    // One key per try until a final answer: a refusal (not this level's
    // turn yet, say) is kept by the platform under its key for a day.
    const action = `free-place:${place}:${chosen[place] ?? ""}`;
    const { answer } = await sendOnce(action, (key) =>
      api.POST("/api/v1/free-places/{id}/assignment", {
        params: { path: { id: place }, header: { "Idempotency-Key": key } },
        body: { educator_id: chosen[place] ?? "" },
      }),
    );
    if (!answer) {
      setProblem({ detail: t.apply.noAnswer });
      return;
    }
    const { data, error } = answer;
    if (error) setProblem(error);
    if (data) setDone(t.allocation.assignedTo(data.number ?? ""));
    await load();
  };
  const zone = campaign.time_zone;
  return (
    <>
      <h2>{t.allocation.freePlaces}</h2>
      {done && <p role="status">{done}</p>}
      <ProblemView problem={problem} />
      {places.length === 0 && <p>{t.allocation.noFreePlaces}</p>}
      {places.length > 0 && (
        <button
          type="button"
          class="secondary"
          onClick={() =>
            saveCsv(
              "free-places.csv",
              toCsv(
                [t.allocation.number, t.allocation.assigner, t.allocation.until, t.allocation.untilMunicipality],
                places.map((f) => [
                  f.freed_number ?? "",
                  t.allocation.levels[f.level ?? ""] ?? f.level ?? "",
                  formatDateTime(f.organization_until, zone),
                  formatDateTime(f.municipality_until, zone),
                ]),
              ),
            )
          }
        >
          {t.allocation.freePlacesCsv}
        </button>
      )}
      <ul class="cards">
        {places.map((f) => (
          <li class="card" key={f.id}>
            <p>
              {t.allocation.freed(f.freed_number ?? "", formatDateTime(f.freed_at, zone))} ·{" "}
              {t.allocation.levels[f.level ?? ""] ?? f.level}
            </p>
            <p>
              {t.allocation.deadlines(formatDateTime(f.organization_until, zone), formatDateTime(f.municipality_until, zone))}
            </p>
            <div class="inline">
              <label>
                {t.allocation.to}
                <select value={chosen[f.id ?? ""] ?? ""} onChange={(e) => setChosen({ ...chosen, [f.id ?? ""]: e.currentTarget.value })}>
                  <option value="">—</option>
                  {waiting.map((c) => (
                    <option key={c.educator_id} value={c.educator_id}>
                      {c.rank}. {c.name}
                    </option>
                  ))}
                </select>
              </label>
              <button type="button" disabled={!chosen[f.id ?? ""]} onClick={() => assign(f.id ?? "")}>
                {t.allocation.assign}
              </button>
            </div>
          </li>
        ))}
      </ul>
    </>
  );
}
