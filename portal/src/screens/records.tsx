// PD history: an educator's records (completions and declared PD) and
// the form to declare PD taken elsewhere; operators verify or reject the
// declared records of their scope.
import { useEffect, useState } from "preact/hooks";
import { api, problem } from "../api/client";
import type { components } from "../api/schema";
import { t } from "../i18n";
import { formatDate } from "../dates";
import type { Grant } from "../nav";

type Record_ = components["schemas"]["PdRecord"];

function Row({ r }: { r: Record_ }) {
  return (
    <li class="card">
      <h3>{r.program_title}</h3>
      <p>
        {formatDate(r.started_on)} — {formatDate(r.ended_on)} · {t.catalog.hours(r.hours ?? 0)} · {r.provider_name}
        {r.funded ? ` · ${t.records.funded}` : ""}
      </p>
      <p>
        {r.document_type} {r.document_number} · <strong>{t.records.status[r.status ?? ""] ?? r.status}</strong>
        {r.reject_reason ? `: ${r.reject_reason}` : ""}
      </p>
    </li>
  );
}

export function MyRecords() {
  const [items, setItems] = useState<Record_[]>([]);
  const [message, setMessage] = useState("");
  const load = () => api.GET("/api/v1/pd-records", { params: { query: {} } }).then(({ data }) => setItems(data?.items ?? []));
  useEffect(() => {
    load();
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const v = (k: string) => String(f.get(k) ?? "");
    const { error } = await api.POST("/api/v1/pd-records", {
      params: { header: { "Idempotency-Key": crypto.randomUUID() } },
      body: {
        started_on: v("started_on"),
        ended_on: v("ended_on"),
        document_type: v("document_type"),
        document_number: v("document_number"),
        program_title: v("program_title"),
        hours: Number(v("hours")),
        provider_name: v("provider_name"),
      },
    });
    if (error) {
      setMessage(problem(error, t.failed));
      return;
    }
    form.reset();
    setMessage(t.records.added);
    await load();
  };
  return (
    <section>
      <h2>{t.records.history}</h2>
      {items.length === 0 && <p>{t.records.empty}</p>}
      <ul class="cards">
        {items.map((r) => (
          <Row key={r.id} r={r} />
        ))}
      </ul>
      <details>
        <summary>{t.records.declare}</summary>
        <form onSubmit={submit}>
          <label>
            {t.records.program}
            <input name="program_title" required />
          </label>
          <label>
            {t.records.provider}
            <input name="provider_name" required />
          </label>
          <label>
            {t.records.started}
            <input name="started_on" type="date" required />
          </label>
          <label>
            {t.records.ended}
            <input name="ended_on" type="date" required />
          </label>
          <label>
            {t.records.hours}
            <input name="hours" type="number" min={1} max={2000} required />
          </label>
          <label>
            {t.records.documentType}
            <input name="document_type" required />
          </label>
          <label>
            {t.records.documentNumber}
            <input name="document_number" required />
          </label>
          <button type="submit">{t.records.add}</button>
        </form>
      </details>
      {message && <p role="status">{message}</p>}
    </section>
  );
}

/** The region an operator works in: a regional operator's scope, or the
 * region of an organization's or a municipality's operator's unit. */
async function regionOf(grants: Grant[]): Promise<string> {
  const regional = grants.find((g) => g.role === "regional_operator")?.scope_id;
  if (regional) return regional;
  const org = grants.find((g) => g.role === "org_operator")?.scope_id;
  if (org) {
    const { data } = await api.GET("/api/v1/organizations/{id}", { params: { path: { id: org } } });
    return data?.region_id ?? "";
  }
  const muni = grants.find((g) => g.role === "municipal_operator")?.scope_id;
  if (muni) {
    const { data } = await api.GET("/api/v1/regions", {});
    for (const r of data?.items ?? []) {
      const { data: m } = await api.GET("/api/v1/regions/{id}/municipalities", { params: { path: { id: r.id ?? "" } } });
      if (m?.items?.some((x) => x.id === muni)) return r.id ?? "";
    }
  }
  return "";
}

export function PendingRecords({ grants }: { grants: Grant[] }) {
  const [items, setItems] = useState<Record_[] | null>(null);
  const [message, setMessage] = useState("");
  const load = async () => {
    const region = await regionOf(grants);
    const { data, error } = await api.GET("/api/v1/pd-records", {
      params: { query: { region_id: region, status: "pending" } },
    });
    if (error) setMessage(problem(error, t.failed));
    setItems(data?.items ?? []);
  };
  useEffect(() => {
    load();
  }, [grants]);
  const decide = async (id: string, decision: "verify" | "reject", reason = "") => {
    const { error } = await api.POST("/api/v1/pd-records/{id}/decision", {
      params: { path: { id } },
      body: { decision, reason },
    });
    setMessage(error ? problem(error, t.failed) : t.records.decided);
    await load();
  };
  if (items === null) return <p>{t.loading}</p>;
  return (
    <section>
      <h1>{t.records.pendingTitle}</h1>
      {message && <p role="status">{message}</p>}
      {items.length === 0 && <p>{t.records.empty}</p>}
      <ul class="cards">
        {items.map((r) => (
          <li class="card" key={r.id}>
            <h2>{r.educator_name}</h2>
            <p>
              {r.program_title} · {formatDate(r.started_on)} — {formatDate(r.ended_on)} · {t.catalog.hours(r.hours ?? 0)} · {r.provider_name}
            </p>
            <p>
              {r.document_type} {r.document_number}
            </p>
            <p class="actions">
              <button type="button" onClick={() => decide(r.id ?? "", "verify")}>
                {t.records.verify}
              </button>
              <button
                type="button"
                onClick={() => {
                  const reason = prompt(t.records.rejectReason) ?? "";
                  if (reason.trim()) decide(r.id ?? "", "reject", reason);
                }}
              >
                {t.records.reject}
              </button>
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
