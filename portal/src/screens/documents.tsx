// The educator's certificates and transcripts: PDF, printable page, and
// the public verification link.
import { useEffect, useState } from "preact/hooks";
import { api, problem } from "../api/client";
import type { components } from "../api/schema";
import { t } from "../i18n";
import { download } from "../download";
import { formatDate } from "../dates";
import { MyRecords } from "./records";

type Doc = components["schemas"]["Document"];

export function Documents() {
  const [items, setItems] = useState<Doc[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    api.GET("/api/v1/documents", { params: { query: {} } }).then(({ data, error }) => {
      if (error) setError(problem(error, t.failed));
      setItems(data?.items ?? []);
    });
  }, []);
  if (items === null) return <p>{t.loading}</p>;
  return (
    <section>
      <h1>{t.documents.title}</h1>
      {error && <p role="alert">{error}</p>}
      {items.length === 0 && <p>{t.documents.empty}</p>}
      <ul class="cards">
        {items.map((d) => (
          <li class="card" key={d.id}>
            <h2>{d.kind === "transcript" ? t.documents.transcript : t.documents.certificate}</h2>
            <p>
              {d.program_title} · {t.catalog.hours(d.hours ?? 0)} · {formatDate(d.starts_on)} — {formatDate(d.ends_on)}
            </p>
            {d.revoked_at && <p role="alert">{t.documents.revoked}</p>}
            <p class="actions">
              <button
                type="button"
                onClick={async () => setError((await download(`/api/v1/documents/${d.id}/pdf`, `${d.code}.pdf`)) ? "" : t.failed)}
              >
                {t.documents.pdf}
              </button>
              <a href={d.verify_path}>{t.documents.verify}</a>
            </p>
          </li>
        ))}
      </ul>
      <MyRecords />
    </section>
  );
}
