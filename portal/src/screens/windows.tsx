// An educator's open questionnaires and tests (the needs survey, a
// diagnostic, the post-course questionnaire and test): a questionnaire is
// answered (and may be changed while open); a test is taken attempt by
// attempt, the best score kept.
import { useEffect, useState } from "preact/hooks";
import { api, problem } from "../api/client";
import type { components } from "../api/schema";
import { t } from "../i18n";
import { useCampaign } from "../campaign";
import { formatDateTime } from "../dates";

type Window = components["schemas"]["Window"];
type Question = components["schemas"]["Question"];
type Answer = components["schemas"]["Answer"];
type Attempt = components["schemas"]["Attempt"];

export function Windows() {
  const [items, setItems] = useState<Window[] | null>(null);
  const [open, setOpen] = useState<string>("");
  // Closing times in the region's zone (the campaign carries it).
  const [campaign] = useCampaign();
  const zone = campaign?.time_zone || undefined;
  useEffect(() => {
    api.GET("/api/v1/windows", { params: { query: { status: "open" } } }).then(({ data }) => setItems(data?.items ?? []));
  }, []);
  if (items === null) return <p>{t.loading}</p>;
  return (
    <section>
      <h1>{t.windows.title}</h1>
      {items.length === 0 && <p>{t.windows.empty}</p>}
      <ul class="cards">
        {items.map((w) => (
          <li class="card" key={w.id}>
            <h2>{w.title}</h2>
            <p>{t.windows.until(formatDateTime(w.closes_at, zone))}</p>
            {open === w.id ? (
              w.instrument_kind === "test" ? (
                <Test window={w} />
              ) : (
                <Questionnaire window={w} />
              )
            ) : (
              <button type="button" onClick={() => setOpen(w.id ?? "")}>
                {w.instrument_kind === "test" ? t.windows.openTest : t.windows.answer}
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The questions as a form; `answers` holds the choices made. */
function Questions({ questions, answers, set }: { questions: Question[]; answers: Record<string, Answer>; set: (a: Answer) => void }) {
  return (
    <>
      {questions.map((q) => {
        const id = q.id ?? "";
        const a = answers[id] ?? { question_id: id };
        if (q.kind === "single_choice" || q.kind === "multiple_choice") {
          const multiple = q.kind === "multiple_choice";
          return (
            <fieldset key={id}>
              <legend>{q.text}</legend>
              {(q.options ?? []).map((o, i) => (
                <label class="check" key={i}>
                  <input
                    type={multiple ? "checkbox" : "radio"}
                    name={id}
                    checked={(a.choices ?? []).includes(i)}
                    onChange={(e) => {
                      const on = e.currentTarget.checked;
                      const rest = (a.choices ?? []).filter((c) => c !== i);
                      set({ ...a, choices: multiple ? (on ? [...rest, i] : rest) : [i] });
                    }}
                  />
                  {o}
                </label>
              ))}
            </fieldset>
          );
        }
        if (q.kind === "scale") {
          return (
            <label key={id}>
              {q.text} ({t.windows.scale})
              <input type="number" min={1} max={5} value={a.scale || ""} onInput={(e) => set({ ...a, scale: Number(e.currentTarget.value) })} />
            </label>
          );
        }
        return (
          <label key={id}>
            {q.text}
            <textarea value={a.text ?? ""} onInput={(e) => set({ ...a, text: e.currentTarget.value })} />
          </label>
        );
      })}
    </>
  );
}

function Questionnaire({ window }: { window: Window }) {
  const [questions, setQuestions] = useState<Question[]>([]);
  const [answers, setAnswers] = useState<Record<string, Answer>>({});
  const [message, setMessage] = useState("");
  useEffect(() => {
    api.GET("/api/v1/windows/{id}", { params: { path: { id: window.id ?? "" } } }).then(({ data }) => setQuestions(data?.questions ?? []));
  }, [window.id]);
  const submit = async (e: Event) => {
    e.preventDefault();
    const { error } = await api.PUT("/api/v1/windows/{id}/response", {
      params: { path: { id: window.id ?? "" } },
      body: { answers: Object.values(answers) },
    });
    setMessage(error ? problem(error, t.failed) : t.windows.saved);
  };
  return (
    <form onSubmit={submit}>
      <Questions questions={questions} answers={answers} set={(a) => setAnswers({ ...answers, [a.question_id ?? ""]: a })} />
      <button type="submit">{t.windows.send}</button>
      {message && <p role="status">{message}</p>}
    </form>
  );
}

function Test({ window }: { window: Window }) {
  const [attempt, setAttempt] = useState<Attempt | null>(null);
  const [answers, setAnswers] = useState<Record<string, Answer>>({});
  const [message, setMessage] = useState("");
  const start = async () => {
    setMessage("");
    const { data, error } = await api.POST("/api/v1/windows/{id}/attempts", { params: { path: { id: window.id ?? "" } } });
    if (error) setMessage(problem(error, t.windows.noAttemptsLeft));
    setAnswers({});
    setAttempt(data ?? null);
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const { data, error } = await api.POST("/api/v1/attempts/{id}/submit", {
      params: { path: { id: attempt?.id ?? "" } },
      body: { answers: Object.values(answers) },
    });
    setAttempt(null);
    setMessage(
      error
        ? problem(error, t.failed)
        : `${t.windows.result(data?.percent ?? 0, data?.best_percent ?? 0)}. ${t.windows.attemptsLeft(data?.attempts_left ?? 0)}`,
    );
  };
  return (
    <div>
      {message && <p role="status">{message}</p>}
      {attempt ? (
        <form onSubmit={submit}>
          <Questions questions={attempt.questions ?? []} answers={answers} set={(a) => setAnswers({ ...answers, [a.question_id ?? ""]: a })} />
          <button type="submit">{t.windows.submitTest}</button>
        </form>
      ) : (
        <button type="button" onClick={start}>
          {t.windows.startTest}
        </button>
      )}
    </div>
  );
}
