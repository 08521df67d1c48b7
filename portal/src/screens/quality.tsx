// Quality per program (the region's operators and ministry; a provider its
// own programs): completion, the questionnaire's averages, test results;
// CSV and XLSX for those who would rather work in a spreadsheet.
import { useEffect, useState } from "preact/hooks";
import { api, problem } from "../api/client";
import type { components } from "../api/schema";
import { download } from "../download";
import { t } from "../i18n";
import type { Grant } from "../nav";

type Report = components["schemas"]["QualityReport"];

export function Quality({ grants }: { grants: Grant[] }) {
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState("");
  const [query, setQuery] = useState("");
  useEffect(() => {
    (async () => {
      const provider = grants.find((g) => g.role === "provider_admin")?.scope_id ?? "";
      let region = grants.find((g) => g.role === "regional_operator" || g.role === "ministry")?.scope_id ?? "";
      if (!region && provider) {
        // A provider's region is its record's.
        const { data } = await api.GET("/api/v1/providers", { params: { query: {} } });
        region = data?.items?.find((p) => p.id === provider)?.region_id ?? "";
      }
      const q = { provider_id: provider || undefined };
      setQuery(`/api/v1/regions/${region}/quality${provider ? `?provider_id=${provider}&` : "?"}`);
      const { data, error } = await api.GET("/api/v1/regions/{id}/quality", {
        params: { path: { id: region }, query: q },
      });
      if (error) setError(problem(error, t.failed));
      // Without `format` the answer is JSON (the document also lists CSV and XLSX).
      setReport(typeof data === "object" && data ? data : { programs: [] });
    })();
  }, [grants]);

  if (report === null) return <p>{t.loading}</p>;
  const programs = report.programs ?? [];
  return (
    <section>
      <h1>{t.quality.title}</h1>
      {error && <p role="alert">{error}</p>}
      <p class="actions">
        <button type="button" onClick={async () => setError((await download(`${query}format=csv`, "quality.csv")) ? "" : t.failed)}>
          {t.quality.csv}
        </button>
        <button type="button" onClick={async () => setError((await download(`${query}format=xlsx`, "quality.xlsx")) ? "" : t.failed)}>
          {t.quality.xlsx}
        </button>
      </p>
      {programs.length === 0 ? (
        <p>{t.quality.empty}</p>
      ) : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">{t.quality.program}</th>
                <th scope="col">{t.quality.provider}</th>
                <th scope="col">{t.quality.enrolled}</th>
                <th scope="col">{t.quality.completed}</th>
                <th scope="col">{t.quality.percent}</th>
                <th scope="col">{t.quality.surveyed}</th>
                <th scope="col">{t.quality.averages}</th>
                <th scope="col">{t.quality.tested}</th>
                <th scope="col">{t.quality.passed}</th>
              </tr>
            </thead>
            <tbody>
              {programs.map((p) => (
                <tr key={p.program_id}>
                  <td>{p.program_title}</td>
                  <td>{p.provider_name}</td>
                  <td>{p.enrolled}</td>
                  <td>{p.completed}</td>
                  <td>{p.completion_percent}</td>
                  <td>{p.surveyed}</td>
                  <td>{(p.questions ?? []).map((q) => `${q.text}: ${q.average?.toFixed(2)}`).join("; ")}</td>
                  <td>{p.tested}</td>
                  <td>{p.passed}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
