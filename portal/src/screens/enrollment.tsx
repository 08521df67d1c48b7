// The operators' applications: by status with the reasons, CSV of the
// list, and an application filed on behalf of an educator of their scope
// (retried with the same Idempotency-Key, never twice).
import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client";
import type { components } from "../api/schema";
import { type Campaign, useCampaign } from "../campaign";
import { formatDate, formatDateTime } from "../dates";
import { download } from "../download";
import { sendOnce } from "../idempotency";
import { type ProblemBody, ProblemView } from "../problem";
import { t } from "../i18n";

type Application = components["schemas"]["Application"];
type Number_ = components["schemas"]["UniqueNumber"];

const PAGE = 50;

export function OperatorApplications() {
  const [campaign] = useCampaign();
  if (campaign === undefined) return <p>{t.loading}</p>;
  if (campaign === null) return <p>{t.noCampaign}</p>;
  return (
    <section>
      <h1>{t.operatorApplications.title}</h1>
      <List campaign={campaign} />
      <OnBehalf campaign={campaign} />
    </section>
  );
}

function List({ campaign }: { campaign: Campaign }) {
  const id = campaign.id ?? "";
  const [status, setStatus] = useState("");
  const [page, setPage] = useState(0);
  const [list, setList] = useState<{ items: Application[]; total: number } | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    api
      .GET("/api/v1/campaigns/{id}/applications", {
        params: { path: { id }, query: { status: status || undefined, limit: PAGE, offset: page * PAGE } },
      })
      .then(({ data }) => {
        const d = typeof data === "object" ? data : undefined;
        setList({ items: d?.items ?? [], total: d?.total ?? 0 });
      });
  }, [status, page]);
  const csv = async () => {
    const q = new URLSearchParams({ format: "csv", ...(status ? { status } : {}) });
    setError((await download(`/api/v1/campaigns/${id}/applications?${q}`, "applications.csv")) ? "" : t.failed);
  };
  return (
    <>
      <div class="inline">
        <label>
          {t.operatorApplications.status}
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.currentTarget.value);
              setPage(0);
            }}
          >
            <option value="">{t.operatorApplications.all}</option>
            {Object.entries(t.applications.status).map(([code, label]) => (
              <option key={code} value={code}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="secondary" onClick={csv}>
          {t.operatorApplications.csv}
        </button>
      </div>
      {error && <p role="alert">{error}</p>}
      {list && <p>{t.operatorApplications.total(list.total)}</p>}
      <div class="scroll">
        <table aria-label={t.operatorApplications.title}>
          <thead>
            <tr>
              <th>{t.operatorApplications.educator}</th>
              <th>{t.operatorApplications.program}</th>
              <th>{t.operatorApplications.dates}</th>
              <th>{t.operatorApplications.status}</th>
              <th>{t.operatorApplications.reason}</th>
              <th>{t.operatorApplications.submitted}</th>
            </tr>
          </thead>
          <tbody>
            {list?.items.map((a) => (
              <tr key={a.id}>
                <td>{a.educator_name}</td>
                <td>{a.program_title}</td>
                <td>
                  {formatDate(a.group_starts_on)} — {formatDate(a.group_ends_on)}
                </td>
                <td>
                  {t.applications.status[a.status ?? ""] ?? a.status}
                  {a.status === "waitlisted" && `, ${t.applications.position(a.waitlist_position ?? 0)}`}
                </td>
                <td>{t.applications.reasons[a.reason ?? ""] ?? a.reason}</td>
                <td>{formatDateTime(a.submitted_at, campaign.time_zone)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list && list.total > PAGE && (
        <div class="actions">
          <button type="button" class="secondary" disabled={page === 0} onClick={() => setPage(page - 1)}>
            {t.operatorApplications.previous}
          </button>
          <span>{t.operatorApplications.page(page + 1, Math.ceil(list.total / PAGE))}</span>
          <button type="button" class="secondary" disabled={(page + 1) * PAGE >= list.total} onClick={() => setPage(page + 1)}>
            {t.operatorApplications.next}
          </button>
        </div>
      )}
    </>
  );
}

/** An application for an educator of the operator's scope. */
function OnBehalf({ campaign }: { campaign: Campaign }) {
  const id = campaign.id ?? "";
  const [numbers, setNumbers] = useState<Number_[]>([]);
  const [groups, setGroups] = useState<{ id: string; label: string }[]>([]);
  const [who, setWho] = useState("");
  const [group, setGroup] = useState("");
  const [waitlist, setWaitlist] = useState(false);
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const [done, setDone] = useState("");
  useEffect(() => {
    api
      .GET("/api/v1/campaigns/{id}/unique-numbers", { params: { path: { id }, query: { status: "assigned", limit: 200 } } })
      .then(({ data }) => setNumbers(data?.items ?? []));
    api.GET("/api/v1/catalog", { params: { query: { campaign_id: id, limit: 200 } } }).then(({ data }) => {
      const out: { id: string; label: string }[] = [];
      for (const e of data?.items ?? []) {
        for (const g of e.groups ?? []) {
          out.push({ id: g.id ?? "", label: `${e.title} · ${formatDate(g.starts_on)} — ${formatDate(g.ends_on)}` });
        }
      }
      setGroups(out);
    });
  }, [id]);
  const number = numbers.find((n) => n.educator_id === who);
  const file = async (e: Event) => {
    e.preventDefault();
    if (!number) return;
    setProblem(null);
    setDone("");
    const { answer } = await sendOnce(`file:${who}:${group}:${waitlist}`, (key) =>
      api.POST("/api/v1/applications", {
        params: { header: { "Idempotency-Key": key } },
        body: { group_id: group, unique_number: number.number ?? "", educator_id: who, join_waitlist: waitlist },
      }),
    );
    if (!answer) {
      setProblem({ detail: t.apply.noAnswer });
      return;
    }
    const { data, error } = answer;
    if (error) setProblem(error);
    if (data) {
      setDone(
        data.status === "waitlisted"
          ? t.operatorApplications.filedWaitlisted(data.educator_name ?? "", data.waitlist_position ?? 0)
          : t.operatorApplications.filed(data.educator_name ?? ""),
      );
    }
  };
  return (
    <form class="card" onSubmit={file} aria-label={t.operatorApplications.onBehalf}>
      <h2>{t.operatorApplications.onBehalf}</h2>
      {done && <p role="status">{done}</p>}
      <ProblemView problem={problem} />
      <label>
        {t.operatorApplications.educator}
        <select required value={who} onChange={(e) => setWho(e.currentTarget.value)}>
          <option value="">—</option>
          {numbers.map((n) => (
            <option key={n.educator_id} value={n.educator_id}>
              {n.educator_name} ({n.number})
            </option>
          ))}
        </select>
      </label>
      <label>
        {t.operatorApplications.group}
        <select required value={group} onChange={(e) => setGroup(e.currentTarget.value)}>
          <option value="">—</option>
          {groups.map((g) => (
            <option key={g.id} value={g.id}>
              {g.label}
            </option>
          ))}
        </select>
      </label>
      <label class="check">
        <input type="checkbox" checked={waitlist} onChange={(e) => setWaitlist(e.currentTarget.checked)} />
        {t.operatorApplications.waitlistIfFull}
      </label>
      <button type="submit">{t.operatorApplications.file}</button>
    </form>
  );
}
