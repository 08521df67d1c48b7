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
import { useLatest } from "../latest";

type Application = components["schemas"]["Application"];
type Number_ = components["schemas"]["UniqueNumber"];

const PAGE = 50;

export function OperatorApplications() {
  const [campaign] = useCampaign();
  // Bumped by each application filed here, so that the list shows it.
  const [filed, setFiled] = useState(0);
  if (campaign === undefined) return <p>{t.loading}</p>;
  if (campaign === null) return <p>{t.noCampaign}</p>;
  return (
    <section>
      <h1>{t.operatorApplications.title}</h1>
      <List campaign={campaign} version={filed} />
      <OnBehalf campaign={campaign} onFiled={() => setFiled(filed + 1)} />
    </section>
  );
}

function List({ campaign, version }: { campaign: Campaign; version: number }) {
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
  }, [status, page, version]);
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

/** The most groups an application falls back on (the API's bound). */
const MAX_FALLBACKS = 9;

type GroupOption = { id: string; label: string };

/** The groups of the campaign's catalog entries matching `text`, with
 * their program and dates (the first 200 programs; a search narrows). */
async function findGroups(campaign: string, text: string): Promise<GroupOption[]> {
  const { data } = await api.GET("/api/v1/catalog", {
    params: { query: { campaign_id: campaign, limit: 200, ...(text ? { text } : {}) } },
  });
  const out: GroupOption[] = [];
  for (const e of data?.items ?? []) {
    // A program's groups may share their dates: the place and size tell
    // them apart. A cancelled group takes no applications.
    for (const g of (e.groups ?? []).filter((g) => g.status !== "cancelled")) {
      const place = g.online ? t.programs.online : g.address;
      const parts = [e.title, `${formatDate(g.starts_on)} — ${formatDate(g.ends_on)}`, place, t.programs.capacity(g.capacity ?? 0)];
      out.push({ id: g.id ?? "", label: parts.filter(Boolean).join(" · ") });
    }
  }
  return out;
}

/** An application for an educator of the operator's scope, with the
 * groups they ranked after the first one (a paper application lists
 * them): the first with a seat is taken in the same request. A region or
 * municipality has more educators and programs than a list can show, so
 * the educator is also found by the number on their application and the
 * groups by a search of the catalog. */
function OnBehalf({ campaign, onFiled }: { campaign: Campaign; onFiled: () => void }) {
  const id = campaign.id ?? "";
  const [numbers, setNumbers] = useState<Number_[]>([]);
  const [typed, setTyped] = useState("");
  const [found, setFound] = useState<GroupOption[]>([]);
  // Every group seen, so that a choice keeps its label after another search.
  const [labels, setLabels] = useState(new Map<string, string>());
  const [text, setText] = useState("");
  const [who, setWho] = useState("");
  const [group, setGroup] = useState("");
  const [fallbacks, setFallbacks] = useState<string[]>([]);
  const [waitlist, setWaitlist] = useState(false);
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const [done, setDone] = useState("");
  const latest = useLatest();
  const search = async (query: string) => {
    try {
      const groups = await latest(findGroups(id, query));
      if (!groups) return;
      setFound(groups);
      setLabels((known) => new Map([...known, ...groups.map((g): [string, string] => [g.id, g.label])]));
    } catch {
      setProblem({ detail: t.failed });
    }
  };
  useEffect(() => {
    api
      .GET("/api/v1/campaigns/{id}/unique-numbers", { params: { path: { id }, query: { status: "assigned", limit: 200 } } })
      .then(({ data }) => setNumbers((looked) => [...looked, ...(data?.items ?? []).filter((n) => !looked.some((l) => l.id === n.id))]));
    search("");
  }, [id]);
  const number = numbers.find((n) => n.educator_id === who);
  const label = (g: string) => labels.get(g) ?? g;
  const lookUp = async () => {
    setProblem(null);
    setDone("");
    setWho("");
    const { data, error } = await api.GET("/api/v1/unique-numbers/{number}", { params: { path: { number: typed.trim() } } });
    if (error || !data) return setProblem(error ?? {});
    if (data.campaign_id !== id) return setProblem({ detail: t.operatorApplications.otherCampaign });
    // Only an assigned number applies; the others would be refused on filing.
    if (data.status !== "assigned") {
      return setProblem({ detail: t.operatorApplications.numberNotUsable(data.educator_name ?? "", data.status ?? "") });
    }
    setNumbers((ns) => (ns.some((n) => n.educator_id === data.educator_id) ? ns : [data, ...ns]));
    setWho(data.educator_id ?? "");
  };
  // Enter in a search box runs its search, not the form's filing.
  const onEnter = (run: () => void) => (e: KeyboardEvent) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    run();
  };
  // The fallback rows as chosen, empty ones left out (a group is offered
  // in one row of the form at most, so none repeats).
  const ranked = fallbacks.filter(Boolean);
  const setFallback = (i: number, value: string) => setFallbacks(fallbacks.map((f, j) => (j === i ? value : f)));
  const chooseGroup = (value: string) => {
    setGroup(value);
    setFallbacks(fallbacks.map((f) => (f === value ? "" : f)));
  };
  const reset = () => {
    setWho("");
    setTyped("");
    setGroup("");
    setFallbacks([]);
    setWaitlist(false);
  };
  const file = async (e: Event) => {
    e.preventDefault();
    setDone("");
    if (!number) return setProblem({ detail: t.operatorApplications.chooseEducator });
    setProblem(null);
    const { answer } = await sendOnce(`file:${who}:${group}:${ranked.join(",")}:${waitlist}`, (key) =>
      api.POST("/api/v1/applications", {
        params: { header: { "Idempotency-Key": key } },
        body: {
          group_id: group,
          unique_number: number.number ?? "",
          educator_id: who,
          join_waitlist: waitlist,
          fallback_group_ids: ranked,
        },
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
          : t.operatorApplications.filed(data.educator_name ?? "", label(data.group_id ?? "")),
      );
      onFiled();
      reset();
    }
  };
  // The search's groups, and the select's own choice whatever was searched
  // since; a group chosen elsewhere in the form is not offered again.
  const options = (value: string, taken: string[]) => {
    const shown = found.some((g) => g.id === value) || !value ? found : [{ id: value, label: label(value) }, ...found];
    return shown
      .filter((g) => g.id === value || !taken.includes(g.id))
      .map((g) => (
        <option key={g.id} value={g.id}>
          {g.label}
        </option>
      ));
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
      <div>
        <label>
          {t.operatorApplications.byNumber}
          <input
            value={typed}
            onInput={(e) => setTyped(e.currentTarget.value)}
            onKeyDown={onEnter(() => typed.trim() && lookUp())}
            placeholder="XXXX-XXXX-XXXX-XXXX"
          />
        </label>{" "}
        <button type="button" class="secondary" disabled={!typed.trim()} onClick={lookUp}>
          {t.operatorApplications.findNumber}
        </button>
      </div>
      <div>
        <label>
          {t.operatorApplications.programSearch}
          <input value={text} onInput={(e) => setText(e.currentTarget.value)} onKeyDown={onEnter(() => search(text.trim()))} />
        </label>{" "}
        <button type="button" class="secondary" onClick={() => search(text.trim())}>
          {t.operatorApplications.findGroups}
        </button>
      </div>
      <label>
        {t.operatorApplications.group}
        <select required value={group} onChange={(e) => chooseGroup(e.currentTarget.value)}>
          <option value="">—</option>
          {options(group, [])}
        </select>
      </label>
      <fieldset>
        <legend>{t.operatorApplications.fallbacks}</legend>
        {fallbacks.map((f, i) => (
          <div key={i}>
            <label>
              {t.operatorApplications.fallback(i + 1)}
              <select value={f} onChange={(e) => setFallback(i, e.currentTarget.value)}>
                <option value="">—</option>
                {options(f, [group, ...fallbacks])}
              </select>
            </label>{" "}
            <button
              type="button"
              class="secondary"
              aria-label={t.operatorApplications.removeFallback(i + 1)}
              onClick={() => setFallbacks(fallbacks.filter((_, j) => j !== i))}
            >
              ✕
            </button>
          </div>
        ))}
        {fallbacks.length < MAX_FALLBACKS && (
          <button type="button" class="secondary" onClick={() => setFallbacks([...fallbacks, ""])}>
            {t.operatorApplications.addFallback}
          </button>
        )}
      </fieldset>
      <label class="check">
        <input type="checkbox" checked={waitlist} onChange={(e) => setWaitlist(e.currentTarget.checked)} />
        {t.operatorApplications.waitlistIfFull}
      </label>
      <button type="submit">{t.operatorApplications.file}</button>
    </form>
  );
}
