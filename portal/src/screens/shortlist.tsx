// The educator's ranked list of groups (see shortlist.ts): reordered,
// trimmed, and sent in the window as one application that takes a seat
// in the first group with one. A lost answer is retried as the same
// request (its Idempotency-Key), never a second application.
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api/client";
import type { components } from "../api/schema";
import { useCampaign } from "../campaign";
import { formatDate } from "../dates";
import { sendOnce } from "../idempotency";
import { type ProblemBody, ProblemView } from "../problem";
import { t } from "../i18n";
import * as shortlist from "../shortlist";
import { useFundingNumber, Window } from "./apply";

type Application = components["schemas"]["Application"];
type Body = ReturnType<typeof shortlist.request>;

type Outcome =
  | { kind: "idle" }
  | { kind: "sending" }
  | { kind: "done"; application: Application }
  | { kind: "full" }
  // The request is kept to be sent again as it was, whatever the list
  // became meanwhile (the same key).
  | { kind: "retry"; after: number; body: Body }
  | { kind: "refused"; problem: ProblemBody };

/** The focus target of an emptied list. */
const HEADING = "heading";

export function Shortlist({ userId }: { userId: string }) {
  const [campaign] = useCampaign();
  const number = useFundingNumber(campaign);
  const [list, setList] = useState<shortlist.Pick[]>([]);
  const [outcome, setOutcome] = useState<Outcome>({ kind: "idle" });
  // This year's groups only: last year's are gone from the catalog.
  useEffect(() => {
    if (campaign?.id) setList(shortlist.load(userId, campaign.id));
  }, [campaign, userId]);
  const change = (next: shortlist.Pick[]) => {
    shortlist.save(userId, next);
    setList(next);
  };
  // The buttons by group and label, so that the focus follows a moved
  // entry: a button that becomes disabled (↑ at the top) drops it.
  const buttons = useRef(new Map<string, HTMLButtonElement>());
  const heading = useRef<HTMLHeadingElement>(null);
  const [focus, setFocus] = useState<string | null>(null);
  useEffect(() => {
    if (!focus) return;
    (focus === HEADING ? heading.current : buttons.current.get(focus))?.focus();
    setFocus(null);
  }, [focus, list]);
  // An entry's button, kept by `id` (group and action) for the focus.
  const control = (id: string, label: string, symbol: string, onClick: () => void, disabled: boolean) => (
    <button
      type="button"
      class="secondary"
      ref={(el: HTMLButtonElement | null) => {
        if (el) buttons.current.set(id, el);
        else buttons.current.delete(id);
      }}
      aria-label={label}
      disabled={disabled}
      onClick={onClick}
    >
      {symbol}
    </button>
  );
  const moveAt = (i: number, by: number) => {
    const next = shortlist.move(list, i, by);
    const to = i + by;
    // The same arrow while the entry can go on, else the other one.
    const up = by < 0 ? to > 0 : to === next.length - 1;
    change(next);
    setFocus(`${list[i].group_id}:${up ? "up" : "down"}`);
  };
  const removeAt = (i: number) => {
    const next = shortlist.remove(list, list[i].group_id);
    change(next);
    // The next entry's ✕ (or the one before; the heading when none is
    // left), not the page's start.
    const neighbour = next[Math.min(i, next.length - 1)];
    setFocus(neighbour ? `${neighbour.group_id}:remove` : HEADING);
  };
  const name = (p: shortlist.Pick) =>
    `${p.title}: ${t.apply.group(formatDate(p.starts_on), formatDate(p.ends_on))}${p.place ? `, ${p.place}` : ""}`;
  const send = async (again?: Body) => {
    if (!number) return;
    setOutcome({ kind: "sending" });
    const body = again ?? shortlist.request(list, number);
    const action = `shortlist:${number}:${body.group_id},${body.fallback_group_ids.join(",")}`;
    const { answer, retryAfter } = await sendOnce(action, (key) =>
      api.POST("/api/v1/applications", { params: { header: { "Idempotency-Key": key } }, body }),
    );
    if (!answer) return setOutcome({ kind: "retry", after: retryAfter, body });
    const error = answer.error as (ProblemBody & { reason?: string }) | undefined;
    if (answer.data) setOutcome({ kind: "done", application: answer.data });
    else if (error?.reason === "group_full") setOutcome({ kind: "full" });
    else setOutcome({ kind: "refused", problem: error ?? {} });
  };

  if (campaign === undefined || (campaign && number === undefined)) return <p>{t.loading}</p>;
  const got = outcome.kind === "done" ? list.find((p) => p.group_id === outcome.application.group_id) : undefined;
  return (
    <section>
      <h1 ref={heading} tabIndex={-1}>
        {t.shortlist.title}
      </h1>
      <p>{t.shortlist.explain}</p>
      {list.length === 0 ? (
        <p>{t.shortlist.empty}</p>
      ) : (
        <ol aria-label={t.shortlist.title}>
          {list.map((p, i) => (
            <li key={p.group_id}>
              {name(p)}{" "}
              {control(`${p.group_id}:up`, t.shortlist.up(name(p)), "↑", () => moveAt(i, -1), i === 0)}{" "}
              {control(`${p.group_id}:down`, t.shortlist.down(name(p)), "↓", () => moveAt(i, 1), i === list.length - 1)}{" "}
              {control(`${p.group_id}:remove`, t.shortlist.remove(name(p)), "✕", () => removeAt(i), false)}
            </li>
          ))}
        </ol>
      )}
      {campaign && list.length > 0 && (
        <Window campaign={campaign}>
          {!number ? (
            <p>{t.apply.noNumber}</p>
          ) : outcome.kind === "done" ? (
            <p role="status">
              {outcome.application.status === "waitlisted"
                ? t.apply.waitlisted(outcome.application.waitlist_position ?? 0)
                : t.shortlist.enrolled(got ? name(got) : "")}{" "}
              <a href="#/applications">{t.nav.applications}</a>
            </p>
          ) : (
            <>
              {outcome.kind === "full" && <p role="status">{t.shortlist.allFull}</p>}
              {outcome.kind === "refused" && <ProblemView problem={outcome.problem} />}
              {outcome.kind === "retry" && (
                <p role="alert">{outcome.after > 0 ? t.apply.busy(outcome.after) : t.apply.noAnswer}</p>
              )}
              <button
                type="button"
                disabled={outcome.kind === "sending"}
                onClick={() => send(outcome.kind === "retry" ? outcome.body : undefined)}
              >
                {outcome.kind === "sending" ? t.apply.sending : outcome.kind === "retry" ? t.apply.retry : t.shortlist.send}
              </button>
            </>
          )}
        </Window>
      )}
    </section>
  );
}
