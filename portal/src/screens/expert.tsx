// The expert's assignments: each program's content (without its
// provider: the scoring is blind), the year's criteria to score, the
// conclusion; or a decline, stating a conflict of interest.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client";
import type { components } from "../api/schema";
import { type Campaign, useCampaign } from "../campaign";
import { type ProblemBody, ProblemView } from "../problem";
import { t } from "../i18n";

type Program = components["schemas"]["Program"];
type Review = components["schemas"]["Review"];

export function Expert({ userId }: { userId: string }) {
  const [campaign] = useCampaign();
  const [items, setItems] = useState<Program[] | null>(null);
  const load = async (c: Campaign) => {
    const { data } = await api.GET("/api/v1/programs", { params: { query: { campaign_id: c.id, limit: 200 } } });
    // An expert is listed only the programs assigned to them (without the
    // other experts' ids); staff who also review see the whole list, with
    // the ids, and keep their own.
    setItems((data?.items ?? []).filter((p) => !p.expert_ids?.length || p.expert_ids.includes(userId)));
  };
  useEffect(() => {
    if (campaign) load(campaign);
  }, [campaign]);
  if (campaign === undefined || (campaign && items === null)) return <p>{t.loading}</p>;
  if (campaign === null) return <p>{t.noCampaign}</p>;
  return (
    <section>
      <h1>{t.expert.title}</h1>
      {items?.length === 0 && <p>{t.expert.empty}</p>}
      <ul class="cards">
        {items?.map((p) => (
          <li class="card" key={p.id}>
            <Assignment program={p} campaign={campaign} userId={userId} onDone={() => load(campaign)} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function Assignment({
  program,
  campaign,
  userId,
  onDone,
}: {
  program: Program;
  campaign: Campaign;
  userId: string;
  onDone: () => void;
}) {
  const id = program.id ?? "";
  const f = program.fields;
  const [mine, setMine] = useState<Review | null | undefined>(undefined);
  useEffect(() => {
    api.GET("/api/v1/programs/{id}/reviews", { params: { path: { id } } }).then(({ data }) => {
      setMine(data?.items?.find((r) => r.expert_id === userId) ?? null);
    });
  }, [id]);
  return (
    <>
      <h2>{f?.title}</h2>
      <p>
        {f?.direction} · {f?.topic} · {t.catalog.hours(f?.hours ?? 0)} · {t.programs.forms[f?.form ?? ""] ?? f?.form}
      </p>
      <p>{f?.annotation}</p>
      <details>
        <summary>{t.expert.modules}</summary>
        <ol>
          {f?.modules?.map((m, i) => (
            <li key={i}>
              {m.name}: {t.catalog.hours(m.hours ?? 0)}, {m.assessment_form}
            </li>
          ))}
        </ol>
      </details>
      {mine === undefined && <p>{t.loading}</p>}
      {mine && <p role="status">{t.expert.submitted(mine.score_percent ?? 0, t.expert.conclusions[mine.conclusion ?? ""] ?? "")}</p>}
      {mine === null && campaign.current_phase === "expert_review" && (
        <>
          <ScoreForm program={id} campaign={campaign} onDone={setMine} />
          <DeclineForm program={id} onDone={onDone} />
        </>
      )}
    </>
  );
}

function ScoreForm({
  program,
  campaign,
  onDone,
}: {
  program: string;
  campaign: Campaign;
  onDone: (review: Review) => void;
}) {
  const criteria = campaign.criteria ?? [];
  const [scores, setScores] = useState<Record<string, string>>({});
  const [conclusion, setConclusion] = useState<"include" | "exclude">("include");
  const [comment, setComment] = useState("");
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const send = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    const { data, error } = await api.POST("/api/v1/programs/{id}/reviews", {
      params: { path: { id: program } },
      body: {
        scores: criteria.map((c) => ({ criterion: c.code ?? "", score: Number(scores[c.code ?? ""] ?? "") })),
        conclusion,
        comment,
      },
    });
    if (error) setProblem(error);
    if (data) onDone(data);
  };
  return (
    <form onSubmit={send} aria-label={t.expert.scoreForm}>
      <ProblemView problem={problem} />
      <fieldset>
        <legend>{t.expert.criteria}</legend>
        {criteria.map((c) => (
          <label key={c.code}>
            {t.expert.criterion(c.name ?? c.code ?? "", c.max_score ?? 0)}
            <input
              type="number"
              required
              min={0}
              max={c.max_score}
              value={scores[c.code ?? ""] ?? ""}
              onInput={(e) => setScores({ ...scores, [c.code ?? ""]: e.currentTarget.value })}
            />
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>{t.expert.conclusion}</legend>
        {Object.entries(t.expert.conclusions).map(([code, label]) => (
          <label class="check" key={code}>
            <input type="radio" name={`conclusion-${program}`} checked={conclusion === code} onChange={() => setConclusion(code as "include" | "exclude")} />
            {label}
          </label>
        ))}
      </fieldset>
      <label>
        {t.expert.comment}
        <textarea value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
      </label>
      <button type="submit">{t.expert.send}</button>
    </form>
  );
}

function DeclineForm({ program, onDone }: { program: string; onDone: () => void }) {
  const [reason, setReason] = useState("");
  const [conflict, setConflict] = useState(false);
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const send = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    const { error } = await api.POST("/api/v1/programs/{id}/expert-declines", {
      params: { path: { id: program } },
      body: { reason, conflict_of_interest: conflict },
    });
    if (error) setProblem(error);
    else onDone();
  };
  return (
    <details>
      <summary>{t.expert.decline}</summary>
      <form onSubmit={send}>
        <ProblemView problem={problem} />
        <label>
          {t.expert.declineReason}
          <input required value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input type="checkbox" checked={conflict} onChange={(e) => setConflict(e.currentTarget.checked)} />
          {t.expert.conflict}
        </label>
        <button type="submit" class="secondary">
          {t.expert.declineSend}
        </button>
      </form>
    </details>
  );
}
