// A refused request as the user reads it: the API's detail and, for a
// 422, each field at fault under the name people call it.
import { t } from "./i18n";

export interface ProblemBody {
  detail?: string;
  code?: string;
  errors?: { field?: string; message?: string }[];
}

export function ProblemView({ problem }: { problem: ProblemBody | null }) {
  if (!problem) return null;
  return (
    <div role="alert">
      <p>{problem.detail || t.failed}</p>
      {(problem.errors?.length ?? 0) > 0 && (
        <ul>
          {problem.errors?.map((e, i) => (
            <li key={i}>
              {t.fields[e.field ?? ""] ?? e.field}: {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
