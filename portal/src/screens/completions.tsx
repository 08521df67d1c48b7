// A provider pushes its learners' results from a CSV file (the same
// batch its system can send with an API key): accepted or refused whole,
// each learner at fault named with the file's line.
import { useState } from "preact/hooks";
import { api, problem } from "../api/client";
import { parse } from "../completions_csv";
import { t } from "../i18n";
import type { Grant } from "../nav";

interface FieldError {
  field?: string;
  message?: string;
}

/** `learners[3].educator_id` → line 5 of the file (header is line 1),
 * and the column as people call it. */
function place(field: string): [string, string] {
  const m = /^learners\[(\d+)\]\.(.*)$/.exec(field);
  if (!m) return ["", t.fields[field] ?? field];
  return [String(Number(m[1]) + 2), t.fields[m[2]] ?? m[2]];
}

export function Completions({ grants }: { grants: Grant[] }) {
  const provider = grants.find((g) => g.role === "provider_admin")?.scope_id ?? "";
  const [message, setMessage] = useState("");
  const [errors, setErrors] = useState<FieldError[]>([]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem("file") as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    setErrors([]);
    const { learners, unknownColumns } = parse(await file.text());
    if (learners.length === 0) {
      setMessage(t.completions.empty);
      return;
    }
    const { data, error } = await api.POST("/api/v1/providers/{id}/completions", {
      params: { path: { id: provider } },
      body: { learners },
    });
    const skipped = unknownColumns.length ? ` ${t.completions.unknownColumns(unknownColumns.join(", "))}` : "";
    if (data) {
      setMessage(t.completions.accepted(data.recorded ?? 0, data.unchanged ?? 0) + skipped);
      return;
    }
    const fields = ((error as { errors?: FieldError[] } | undefined)?.errors ?? []) as FieldError[];
    setErrors(fields);
    setMessage(fields.length ? t.completions.refused : problem(error, t.failed));
  };

  return (
    <section>
      <h1>{t.completions.title}</h1>
      <p>{t.completions.hint}</p>
      <form onSubmit={submit}>
        <label>
          {t.completions.file}
          <input name="file" type="file" accept=".csv,text/csv" required />
        </label>
        <button type="submit">{t.completions.send}</button>
      </form>
      {message && <p role="status">{message}</p>}
      {errors.length > 0 && (
        <table>
          <caption>{t.completions.refused}</caption>
          <thead>
            <tr>
              <th scope="col">{t.completions.line}</th>
              <th scope="col">{t.completions.field}</th>
              <th scope="col">{t.completions.problem}</th>
            </tr>
          </thead>
          <tbody>
            {errors.map((e, i) => (
              <tr key={i}>
                <td>{place(e.field ?? "")[0]}</td>
                <td>{place(e.field ?? "")[1]}</td>
                <td>{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
