// The regional operator's review of the campaign's programs: the
// technical review (accept, or return with remarks the provider sees),
// then the experts' assignment and its progress.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client";
import type { components } from "../api/schema";
import { type Campaign, useCampaign } from "../campaign";
import { type ProblemBody, ProblemView } from "../problem";
import { saveCsv, toCsv } from "../csv";
import { t } from "../i18n";

type Program = components["schemas"]["Program"];
type Assignments = components["schemas"]["AssignmentList"];

export function Review() {
  const [campaign] = useCampaign();
  if (campaign === undefined) return <p>{t.loading}</p>;
  if (campaign === null) return <p>{t.noCampaign}</p>;
  return (
    <section>
      <h1>{t.review.title}</h1>
      <Technical campaign={campaign} />
      <Experts campaign={campaign} />
      {campaign.current_phase === "schedule" && <Schedule campaign={campaign} />}
    </section>
  );
}

function Technical({ campaign }: { campaign: Campaign }) {
  const [items, setItems] = useState<Program[] | null>(null);
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const [message, setMessage] = useState("");
  const load = async () => {
    const { data } = await api.GET("/api/v1/programs", {
      params: { query: { campaign_id: campaign.id, status: "submitted", limit: 200 } },
    });
    setItems(data?.items ?? []);
  };
  useEffect(() => {
    load();
  }, []);

  const decide = async (id: string, decision: "accept" | "return", remarks: string) => {
    setProblem(null);
    const { error } = await api.POST("/api/v1/programs/{id}/technical-review", {
      params: { path: { id } },
      body: { decision, remarks },
    });
    if (error) setProblem(error);
    else setMessage(decision === "accept" ? t.review.accepted : t.review.returned);
    await load();
  };

  if (items === null) return <p>{t.loading}</p>;
  return (
    <>
      <h2>{t.review.technical}</h2>
      {message && <p role="status">{message}</p>}
      <ProblemView problem={problem} />
      {items.length === 0 && <p>{t.review.nothingSubmitted}</p>}
      <ul class="cards">
        {items.map((p) => (
          <li class="card" key={p.id}>
            <h3>{p.fields?.title}</h3>
            <p>
              {p.provider_name} · {p.fields?.direction} · {t.catalog.hours(p.fields?.hours ?? 0)}
            </p>
            <ul class="checklist">
              {p.checklist?.map((c) => (
                <li key={c.code}>
                  {c.passed ? "✓" : "✗"} {c.title}
                  {c.note && ` (${c.note})`}
                </li>
              ))}
            </ul>
            <Decision onDecide={(d, r) => decide(p.id ?? "", d, r)} />
          </li>
        ))}
      </ul>
    </>
  );
}

function Decision({ onDecide }: { onDecide: (d: "accept" | "return", remarks: string) => void }) {
  const [remarks, setRemarks] = useState("");
  return (
    <div class="inline">
      <button type="button" onClick={() => onDecide("accept", "")}>
        {t.review.accept}
      </button>
      <label>
        {t.review.remarks}
        <input value={remarks} onInput={(e) => setRemarks(e.currentTarget.value)} />
      </label>
      <button type="button" class="secondary" disabled={!remarks.trim()} onClick={() => onDecide("return", remarks)}>
        {t.review.return}
      </button>
    </div>
  );
}

function Experts({ campaign }: { campaign: Campaign }) {
  const [list, setList] = useState<Assignments | null>(null);
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const load = async () => {
    const { data } = await api.GET("/api/v1/campaigns/{id}/expert-assignments", {
      params: { path: { id: campaign.id ?? "" }, query: { limit: 200 } },
    });
    setList(data ?? null);
  };
  useEffect(() => {
    load();
  }, []);
  const assign = async () => {
    setProblem(null);
    const { data, error } = await api.POST("/api/v1/campaigns/{id}/expert-assignments", {
      params: { path: { id: campaign.id ?? "" } },
      body: {},
    });
    if (error) setProblem(error);
    else setList(data ?? null);
  };
  return (
    <>
      <h2>{t.review.experts}</h2>
      <ProblemView problem={problem} />
      {campaign.current_phase === "expert_review" && (
        <button type="button" onClick={assign}>
          {t.review.assign}
        </button>
      )}
      {list && (list.items?.length ?? 0) > 0 && (
        <>
          <p>{t.review.progress(list.submitted ?? 0, list.pending ?? 0, list.declined ?? 0)}</p>
          <button
            type="button"
            class="secondary"
            onClick={() =>
              saveCsv(
                "expert-assignments.csv",
                toCsv(
                  [t.review.program, t.review.state, t.review.reason],
                  (list.items ?? []).map((a) => [a.program_title ?? "", t.review.states[a.state ?? ""] ?? a.state ?? "", a.reason ?? ""]),
                ),
              )
            }
          >
            {t.review.csv}
          </button>
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th>{t.review.program}</th>
                  <th>{t.review.state}</th>
                  <th>{t.review.reason}</th>
                </tr>
              </thead>
              <tbody>
                {list.items?.map((a) => (
                  <tr key={`${a.program_id}-${a.expert_id}`}>
                    <td>{a.program_title}</td>
                    <td>{t.review.states[a.state ?? ""] ?? a.state}</td>
                    <td>{a.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}

/** The schedule's approval publishes the groups to the catalog. */
function Schedule({ campaign }: { campaign: Campaign }) {
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const [done, setDone] = useState("");
  const approve = async () => {
    setProblem(null);
    const { error } = await api.POST("/api/v1/campaigns/{id}/schedule/approve", {
      params: { path: { id: campaign.id ?? "" } },
    });
    if (error) setProblem(error);
    else setDone(t.review.scheduleApproved);
  };
  return (
    <>
      <h2>{t.review.schedule}</h2>
      {done && <p role="status">{done}</p>}
      <ProblemView problem={problem} />
      <button type="button" onClick={approve}>
        {t.review.approveSchedule}
      </button>
    </>
  );
}
