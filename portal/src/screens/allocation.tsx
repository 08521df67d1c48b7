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
import { useLatest } from "../latest";

type Quota = components["schemas"]["Quota"];
type Refusal = components["schemas"]["Refusal"];
type FreePlace = components["schemas"]["FreePlace"];
type Candidate = components["schemas"]["Candidate"];
type UniqueNumber = components["schemas"]["UniqueNumber"];

export function Allocation({ grants }: { grants: { role?: string }[] }) {
  const [campaign] = useCampaign();
  if (campaign === undefined) return <p>{t.loading}</p>;
  if (campaign === null) return <p>{t.noCampaign}</p>;
  // Those who decide for an organization record refusals for its educators.
  const records = grants.some((g) => g.role === "org_operator" || g.role === "regional_operator");
  return <AllocationOf campaign={campaign} records={records} />;
}

function AllocationOf({ campaign, records }: { campaign: Campaign; records: boolean }) {
  // A refusal decided or recorded, or a place assigned, changes the
  // refusals, the numbers and the places: each list is read again.
  const [changed, setChanged] = useState(0);
  const change = () => setChanged((n) => n + 1);
  return (
    <section>
      <h1>{t.allocation.title}</h1>
      <Quotas campaign={campaign} />
      <Refusals campaign={campaign} changed={changed} onChange={change} />
      {records && <RecordRefusal campaign={campaign} changed={changed} onChange={change} />}
      <FreePlaces campaign={campaign} changed={changed} onChange={change} />
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

function Refusals({ campaign, changed, onChange }: { campaign: Campaign; changed: number; onChange: () => void }) {
  const [items, setItems] = useState<Refusal[]>([]);
  const [status, setStatus] = useState("requested");
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const [notes, setNotes] = useState<Record<string, string>>({});
  // The answer for the status chosen before may come after the one for
  // the status chosen now: only the latest is shown.
  const latest = useLatest();
  const load = async () => {
    const answer = await latest(
      api.GET("/api/v1/campaigns/{id}/refusals", {
        params: { path: { id: campaign.id ?? "" }, query: { status, limit: 200 } },
      }),
    );
    if (!answer) return;
    const { data, error } = answer;
    if (error) setProblem(error);
    setItems(data?.items ?? []);
  };
  useEffect(() => {
    load();
  }, [status, changed]);
  const decide = async (id: string, approve: boolean) => {
    setProblem(null);
    const { error } = await api.POST("/api/v1/refusals/{id}/decision", {
      params: { path: { id } },
      body: { approve, note: notes[id] ?? "" },
    });
    if (error) setProblem(error);
    onChange();
  };
  const zone = campaign.time_zone;
  return (
    <>
      <h2>{t.allocation.refusals}</h2>
      <ProblemView problem={problem} />
      <label>
        {t.allocation.refusalStatus}
        <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
          {Object.entries(t.allocation.refusalStatuses).map(([value, name]) => (
            <option value={value} key={value}>
              {name}
            </option>
          ))}
        </select>
      </label>
      {items.length > 0 && (
        <button
          type="button"
          class="secondary"
          onClick={() =>
            saveCsv(
              "refusals.csv",
              toCsv(
                [
                  t.allocation.educator,
                  t.allocation.number,
                  t.allocation.reason,
                  t.allocation.requested,
                  t.allocation.refusalStatus,
                  t.allocation.decided,
                  t.allocation.note,
                ],
                items.map((r) => [
                  r.educator_name ?? "",
                  r.number ?? "",
                  r.reason ?? "",
                  formatDateTime(r.requested_at, zone),
                  t.allocation.refusalStatuses[r.status ?? ""] ?? r.status ?? "",
                  r.decided_at ? formatDateTime(r.decided_at, zone) : "",
                  r.decision_note ?? "",
                ]),
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
              {formatDateTime(r.requested_at, zone)}
            </p>
            <p>{r.reason}</p>
            {r.status === "requested" ? (
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
            ) : (
              <p>
                {t.allocation.refusalStatuses[r.status ?? ""] ?? r.status}
                {r.decided_at && `, ${formatDateTime(r.decided_at, zone)}`}
                {r.decision_note && ` · ${r.decision_note}`}
              </p>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}

/** An operator records the refusal an educator told them of (seed 002):
 * approved as recorded, so its place is freed at once. */
function RecordRefusal({ campaign, changed, onChange }: { campaign: Campaign; changed: number; onChange: () => void }) {
  const id = campaign.id ?? "";
  const [holders, setHolders] = useState<UniqueNumber[]>([]);
  const [educator, setEducator] = useState("");
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const [done, setDone] = useState("");
  const load = async () => {
    const { data } = await api.GET("/api/v1/campaigns/{id}/unique-numbers", {
      params: { path: { id }, query: { status: "assigned", limit: 200 } },
    });
    setHolders(data?.items ?? []);
  };
  useEffect(() => {
    load();
  }, [changed]);
  const record = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    setDone("");
    // One key per educator and reason until a final answer: a retry after a
    // lost answer repeats the same request.
    const { answer } = await sendOnce(`refusal:${id}:${educator}:${reason}`, (key) =>
      api.POST("/api/v1/campaigns/{id}/refusals", {
        params: { path: { id }, header: { "Idempotency-Key": key } },
        body: { educator_id: educator, reason },
      }),
    );
    if (!answer) {
      setProblem({ detail: t.apply.noAnswer });
      return;
    }
    const { data, error } = answer;
    if (error) setProblem(error);
    if (data) {
      setDone(t.allocation.recorded(data.educator_name ?? "", data.number ?? ""));
      setEducator("");
      setReason("");
      onChange();
    }
  };
  if (holders.length === 0) return null;
  return (
    <form class="card" onSubmit={record}>
      <h2>{t.allocation.recordRefusal}</h2>
      {done && <p role="status">{done}</p>}
      <ProblemView problem={problem} />
      <label>
        {t.allocation.educator}
        <select value={educator} required onChange={(e) => setEducator(e.currentTarget.value)}>
          <option value="">—</option>
          {holders.map((n) => (
            <option value={n.educator_id} key={n.id}>
              {n.educator_name} · {n.number}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t.allocation.reason}
        <input value={reason} required onInput={(e) => setReason(e.currentTarget.value)} />
      </label>
      <button type="submit">{t.allocation.record}</button>
    </form>
  );
}

function FreePlaces({ campaign, changed, onChange }: { campaign: Campaign; changed: number; onChange: () => void }) {
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
  }, [changed]);
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
    onChange();
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
