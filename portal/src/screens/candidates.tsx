// The candidates of the operator's scope in the newest campaign: who is
// due for PD, in the organization's order, with their unique number once
// funded; CSV for the spreadsheet.
import { useEffect, useState } from "preact/hooks";
import { api, problem } from "../api/client";
import type { components } from "../api/schema";
import { saveCsv, toCsv } from "../csv";
import { t } from "../i18n";

type Candidate = components["schemas"]["Candidate"];

export function Candidates({ grants }: { grants: { role?: string }[] }) {
  // The organization's operator confirms its list; the region may stand in.
  const confirms = grants.some((g) => g.role === "org_operator" || g.role === "regional_operator");
  const [campaign, setCampaign] = useState("");
  const [campaignId, setCampaignId] = useState("");
  const [items, setItems] = useState<Candidate[] | null>(null);
  const [error, setError] = useState("");
  // Bumped by an exclusion or a return: the list is read again.
  const [changed, setChanged] = useState(0);
  useEffect(() => {
    (async () => {
      const { data } = await api.GET("/api/v1/campaigns", { params: { query: { limit: 1 } } });
      const c = data?.items?.[0];
      setCampaign(c?.title ?? "");
      setCampaignId(c?.id ?? "");
      if (!c?.id) {
        setItems([]);
        return;
      }
      // Every page: a region's list is longer than one.
      const all: Candidate[] = [];
      for (;;) {
        const { data: page, error } = await api.GET("/api/v1/campaigns/{id}/candidates", {
          params: { path: { id: c.id }, query: { limit: 500, offset: all.length } },
        });
        if (error) setError(problem(error, t.failed));
        all.push(...(page?.items ?? []));
        if (!page?.items?.length || all.length >= (page.total ?? 0)) break;
      }
      setItems(all);
    })();
  }, [changed]);
  if (items === null) return <p>{t.loading}</p>;
  const c = t.candidates;
  const status = (s?: string) => (s === "excluded" ? c.excluded : c.included);
  const csv = () =>
    saveCsv(
      "candidates.csv",
      toCsv(
        [c.name, c.position, c.lastPd, c.status, c.rank, c.number],
        items.map((x) => [x.name ?? "", x.position ?? "", x.last_pd_completed_on ?? "", status(x.status), x.rank ?? 0, x.unique_number ?? ""]),
      ),
    );
  return (
    <section>
      <h1>{c.title(campaign)}</h1>
      {error && <p role="alert">{error}</p>}
      {campaignId && <Lists campaign={campaignId} confirms={confirms} changed={changed} />}
      {campaignId && confirms && <Exclusion campaign={campaignId} items={items} onChange={() => setChanged((n) => n + 1)} />}
      <p class="actions">
        <button type="button" onClick={csv}>
          {c.csv}
        </button>
      </p>
      {items.length === 0 ? (
        <p>{c.empty}</p>
      ) : (
        <div class="scroll">
          <table aria-label={c.candidatesTable}>
            <thead>
              <tr>
                <th scope="col">{c.rank}</th>
                <th scope="col">{c.name}</th>
                <th scope="col">{c.position}</th>
                <th scope="col">{c.lastPd}</th>
                <th scope="col">{c.status}</th>
                <th scope="col">{c.number}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((x) => (
                <tr key={x.educator_id}>
                  <td>{x.rank}</td>
                  <td>{x.name}</td>
                  <td>{x.position}</td>
                  <td>{x.last_pd_completed_on}</td>
                  <td>{status(x.status)}</td>
                  <td class="code">{x.unique_number}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Each organization's list of the scope: confirmed or not, and the
 * confirmation (the included candidates then count for the quotas). */
function Lists({ campaign, confirms, changed }: { campaign: string; confirms: boolean; changed: number }) {
  const [items, setItems] = useState<components["schemas"]["ListState"][]>([]);
  const [error, setError] = useState("");
  const load = async () => {
    const { data } = await api.GET("/api/v1/campaigns/{id}/candidate-lists", {
      params: { path: { id: campaign }, query: { limit: 200 } },
    });
    setItems(data?.items ?? []);
  };
  useEffect(() => {
    load();
  }, [campaign, changed]);
  const confirm = async (org: string) => {
    setError("");
    const { error } = await api.POST("/api/v1/campaigns/{id}/candidate-lists/{organization_id}/confirmation", {
      params: { path: { id: campaign, organization_id: org } },
    });
    if (error) setError(problem(error, t.failed));
    await load();
  };
  if (items.length === 0) return null;
  return (
    <div class="scroll">
      {error && <p role="alert">{error}</p>}
      <table>
        <caption>{t.candidates.lists}</caption>
        <thead>
          <tr>
            <th scope="col">{t.candidates.organization}</th>
            <th scope="col">{t.candidates.included}</th>
            <th scope="col">{t.candidates.excluded}</th>
            <th scope="col">{t.candidates.listState}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((l) => (
            <tr key={l.organization_id}>
              <td>{l.organization_name}</td>
              <td>{l.included}</td>
              <td>{l.excluded}</td>
              <td>
                {l.confirmed ? (
                  t.candidates.confirmedCount(l.confirmed_count ?? 0)
                ) : !confirms ? (
                  t.candidates.notConfirmed
                ) : (
                  <button type="button" onClick={() => confirm(l.organization_id ?? "")}>
                    {t.candidates.confirm}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Before its list is confirmed, the organization's operator takes a
 * candidate off it with a reason (leave, dismissal, or another, named),
 * or puts an excluded one back. */
function Exclusion({ campaign, items, onChange }: { campaign: string; items: Candidate[]; onChange: () => void }) {
  const c = t.candidates;
  const [educator, setEducator] = useState("");
  const [reason, setReason] = useState("leave");
  const [note, setNote] = useState("");
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  const name = (id: string) => items.find((x) => x.educator_id === id)?.name ?? "";
  const answered = (failed: unknown, message: string) => {
    if (failed) {
      setError(problem(failed, t.failed));
      return;
    }
    setDone(message);
    setEducator("");
    setNote("");
    onChange();
  };
  const exclude = async (e: Event) => {
    e.preventDefault();
    setError("");
    setDone("");
    const { error } = await api.PUT("/api/v1/campaigns/{id}/candidates/{educator_id}/exclusion", {
      params: { path: { id: campaign, educator_id: educator } },
      body: { reason, note },
    });
    answered(error, c.excludedDone(name(educator)));
  };
  const include = async (id: string) => {
    setError("");
    setDone("");
    const { error } = await api.DELETE("/api/v1/campaigns/{id}/candidates/{educator_id}/exclusion", {
      params: { path: { id: campaign, educator_id: id } },
    });
    answered(error, c.includedDone(name(id)));
  };
  const excluded = items.filter((x) => x.status === "excluded");
  return (
    <form class="card" onSubmit={exclude}>
      <h2>{c.exclusion}</h2>
      {done && <p role="status">{done}</p>}
      {error && <p role="alert">{error}</p>}
      <label>
        {c.candidate}
        <select value={educator} required onChange={(e) => setEducator(e.currentTarget.value)}>
          <option value="">—</option>
          {items
            .filter((x) => x.status !== "excluded")
            .map((x) => (
              <option value={x.educator_id} key={x.educator_id}>
                {x.name}
              </option>
            ))}
        </select>
      </label>
      <label>
        {c.reason}
        <select value={reason} onChange={(e) => setReason(e.currentTarget.value)}>
          {Object.entries(c.reasons).map(([value, label]) => (
            <option value={value} key={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        {c.note}
        <input value={note} required={reason === "other"} onInput={(e) => setNote(e.currentTarget.value)} />
      </label>
      <button type="submit">{c.exclude}</button>
      {excluded.length > 0 && (
        <ul>
          {excluded.map((x) => (
            <li key={x.educator_id}>
              {x.name}
              {x.exclusion_note && ` · ${x.exclusion_note}`}{" "}
              <button type="button" class="secondary" onClick={() => include(x.educator_id ?? "")}>
                {c.include}
              </button>
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}
