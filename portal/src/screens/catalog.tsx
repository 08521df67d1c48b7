// The published registry, public: no sign-in needed.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client";
import type { components } from "../api/schema";
import { t } from "../i18n";
import { FormOptions } from "./programs";

type Entry = components["schemas"]["CatalogEntry"];

export function Catalog({ educator }: { educator: boolean }) {
  const [text, setText] = useState("");
  const [form, setForm] = useState("");
  const [items, setItems] = useState<Entry[] | null>(null);
  const [error, setError] = useState("");

  const load = async (q: string, f = form) => {
    setError("");
    const { data, error } = await api.GET("/api/v1/catalog", {
      params: { query: { text: q, form: f || undefined, limit: 50 } },
    });
    if (error) setError(t.failed);
    setItems(data?.items ?? []);
  };
  useEffect(() => {
    load("");
  }, []);

  return (
    <section>
      <h1>{t.catalog.title}</h1>
      <form
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          load(text);
        }}
      >
        <label>
          {t.catalog.search}
          <input type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
        <label>
          {t.programs.fForm}
          <select value={form} onChange={(e) => setForm(e.currentTarget.value)}>
            <option value="">{t.catalog.anyForm}</option>
            <FormOptions />
          </select>
        </label>
        <button type="submit">{t.catalog.find}</button>
      </form>
      {error && <p role="alert">{error}</p>}
      {items === null && <p>{t.loading}</p>}
      {items?.length === 0 && <p>{t.catalog.empty}</p>}
      <ul class="cards">
        {items?.map((p) => (
          <li class="card" key={p.program_id}>
            <h2>{p.title}</h2>
            <p>
              {p.direction} · {t.catalog.hours(p.hours ?? 0)} · {t.catalog.groups(p.groups?.length ?? 0)}
            </p>
            <p>
              {t.catalog.provider}: {p.provider_name}
            </p>
            {educator && (p.groups?.length ?? 0) > 0 && (
              <a class="button" href={`#/apply/${encodeURIComponent(p.program_id ?? "")}`}>
                {t.apply.toApply}
              </a>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
