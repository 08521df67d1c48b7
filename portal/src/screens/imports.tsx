// An operator's staff import: the file is sent as it is (the platform
// reads its encoding and delimiter), then the job is followed until it
// ends, with its progress and every bad row's column and error.
import { useState } from "preact/hooks";
import type { components } from "../api/schema";
import { api, authFetch } from "../api/client";
import { t } from "../i18n";
import type { Grant } from "../nav";

type Job = components["schemas"]["ImportJob"];

const DONE = ["completed", "rejected", "failed"];

export function Imports({ grants }: { grants: Grant[] }) {
  const [file, setFile] = useState<File | null>(null);
  const [dryRun, setDryRun] = useState(true);
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState("");
  // An organization's operator imports into their own organization.
  const organization = grants.find((g) => g.role === "org_operator")?.scope_id ?? "";

  const follow = async (id: string) => {
    for (;;) {
      const { data } = await api.GET("/api/v1/educators/imports/{id}", { params: { path: { id } } });
      if (data) setJob(data);
      if (!data || DONE.includes(data.status ?? "")) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setError("");
    setJob(null);
    const query = new URLSearchParams({ dry_run: String(dryRun) });
    if (organization) query.set("organization_id", organization);
    // The file's bytes as they are: openapi-fetch would encode a body.
    const r = await authFetch(`/api/v1/educators/imports?${query}`, {
      method: "POST",
      headers: { "content-type": "text/csv" },
      body: file,
    });
    const body = (await r.json().catch(() => ({}))) as Job & { detail?: string };
    if (!r.ok) {
      setError(body.detail ?? t.failed);
      return;
    }
    setJob(body);
    await follow(body.id ?? "");
  };

  return (
    <section>
      <h1>{t.imports.title}</h1>
      <p>{t.imports.hint}</p>
      <form onSubmit={submit}>
        <label>
          {t.imports.file}
          <input type="file" accept=".csv,text/csv" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} required />
        </label>
        <label class="check">
          <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.currentTarget.checked)} />
          {t.imports.dryRun}
        </label>
        <button type="submit">{t.imports.start}</button>
      </form>
      {error && <p role="alert">{error}</p>}
      {job && (
        <div role="status">
          <p>{t.imports.status[job.status ?? ""] ?? job.status}</p>
          <p>{t.imports.progress(job.processed_rows ?? 0, job.total_rows ?? 0)}</p>
          {job.message && <p>{job.message}</p>}
        </div>
      )}
      {job && (job.errors?.length ?? 0) > 0 && (
        <table>
          <caption>{t.imports.errors}</caption>
          <thead>
            <tr>
              <th scope="col">{t.imports.row}</th>
              <th scope="col">{t.imports.column}</th>
              <th scope="col">{t.imports.problem}</th>
            </tr>
          </thead>
          <tbody>
            {job.errors?.map((e, i) => (
              <tr key={i}>
                <td>{e.row}</td>
                <td>{t.fields[e.column ?? ""] ?? e.column}</td>
                <td>{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
