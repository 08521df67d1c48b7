// The educator's applications: status, waitlist position, withdrawal with a reason.
import { useEffect, useState } from "preact/hooks";
import { api, problem } from "../api/client";
import type { components } from "../api/schema";
import { t } from "../i18n";
import { formatDate } from "../dates";

type Application = components["schemas"]["Application"];

export function Applications() {
  const [items, setItems] = useState<Application[] | null>(null);
  const [message, setMessage] = useState("");

  const load = async () => {
    const { data } = await api.GET("/api/v1/me/applications");
    setItems(data?.items ?? []);
  };
  useEffect(() => {
    load();
  }, []);

  const withdraw = async (id: string, reason: string) => {
    const { error } = await api.POST("/api/v1/applications/{id}/withdrawal", {
      params: { path: { id } },
      body: { reason },
    });
    setMessage(error ? problem(error, t.failed) : t.applications.withdrawn);
    await load();
  };

  if (items === null) return <p>{t.loading}</p>;
  return (
    <section>
      <h1>{t.applications.title}</h1>
      {message && <p role="status">{message}</p>}
      {items.length === 0 && <p>{t.applications.empty}</p>}
      <ul class="cards">
        {items.map((a) => (
          <li class="card" key={a.id}>
            <h2>{a.program_title}</h2>
            <p>
              {formatDate(a.group_starts_on)} — {formatDate(a.group_ends_on)} · {a.provider_name}
            </p>
            <p>
              {t.applications.status[a.status ?? ""] ?? a.status}
              {a.status === "waitlisted" && `, ${t.applications.position(a.waitlist_position ?? 0)}`}
            </p>
            {(a.status === "enrolled" || a.status === "waitlisted") && <Withdraw onWithdraw={(r) => withdraw(a.id ?? "", r)} />}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Withdraw({ onWithdraw }: { onWithdraw: (reason: string) => void }) {
  const [reason, setReason] = useState("schedule");
  return (
    <form
      class="inline"
      onSubmit={(e) => {
        e.preventDefault();
        onWithdraw(reason);
      }}
    >
      <label>
        {t.applications.withdrawReason}
        <select value={reason} onChange={(e) => setReason(e.currentTarget.value)}>
          {Object.entries(t.applications.reasons)
            .filter(([code]) => code !== "other")
            .map(([code, label]) => (
              <option key={code} value={code}>
                {label}
              </option>
            ))}
        </select>
      </label>
      <button type="submit">{t.applications.withdraw}</button>
    </form>
  );
}
