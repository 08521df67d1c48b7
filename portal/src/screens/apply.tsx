// Applying in the December window: the program's groups with the seats
// left (read again every few seconds), a countdown until the window
// opens, the program's other groups ranked after the chosen one when the
// educator accepts them (one request takes a seat in the first with one),
// the waitlist when a group is full, and a retry that repeats the same
// request (its Idempotency-Key), never a second application.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client";
import type { components } from "../api/schema";
import { type Campaign, useCampaign } from "../campaign";
import { countdown, formatDate, startOfDay } from "../dates";
import { sendOnce } from "../idempotency";
import { type ProblemBody, ProblemView } from "../problem";
import { nextPoll, retryAfter, stale } from "../polling";
import { t } from "../i18n";
import * as shortlist from "../shortlist";

type Entry = components["schemas"]["CatalogEntry"];
type Seats = components["schemas"]["GroupSeats"];
type Application = components["schemas"]["Application"];

/** How often the seats left are read again while the window is open. */
const SEATS_REFRESH_MS = 5000;

/** The program's catalog entry (its groups), page by page. */
async function entry(campaign: string, program: string): Promise<Entry | null> {
  for (let offset = 0; offset < 5000; offset += 200) {
    const { data } = await api.GET("/api/v1/catalog", { params: { query: { campaign_id: campaign, limit: 200, offset } } });
    const found = data?.items?.find((e) => e.program_id === program);
    if (found) return found;
    if ((data?.items?.length ?? 0) < 200) return null;
  }
  return null;
}

/** The educator's number that funds them in the campaign: `null` when
 * none does, `undefined` while it is read. */
export function useFundingNumber(campaign: Campaign | null | undefined): string | null | undefined {
  const [number, setNumber] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    if (!campaign?.id) return;
    api
      .GET("/api/v1/campaigns/{id}/allocation/me", { params: { path: { id: campaign.id } } })
      // A number refused or passed on is still shown there: only a funded
      // educator's number applies.
      .then(({ data }) => setNumber((data?.status === "funded" && data.unique_number?.number) || null));
  }, [campaign]);
  return number;
}

export function Apply({ program, userId }: { program: string; userId: string }) {
  const [campaign] = useCampaign();
  const [item, setItem] = useState<Entry | null | undefined>(undefined);
  const number = useFundingNumber(campaign);
  useEffect(() => {
    if (!campaign?.id) return;
    entry(campaign.id, program).then(setItem);
  }, [campaign, program]);
  if (campaign === undefined || (campaign && (item === undefined || number === undefined))) return <p>{t.loading}</p>;
  if (campaign === null) return <p>{t.noCampaign}</p>;
  if (!item) return <p>{t.apply.noProgram}</p>;
  return (
    <section>
      <h1>{item.title}</h1>
      <p>
        {item.provider_name} · {t.catalog.hours(item.hours ?? 0)} · {t.programs.forms[item.form ?? ""] ?? item.form}
      </p>
      <p>{item.annotation}</p>
      <Window campaign={campaign}>
        {number ? <Groups item={item} number={number} userId={userId} campaignId={campaign.id ?? ""} /> : <p>{t.apply.noNumber}</p>}
      </Window>
    </section>
  );
}

/** The application window's state: a countdown before, a notice after. */
export function Window({ campaign, children }: { campaign: Campaign; children: preact.ComponentChildren }) {
  const phase = campaign.phases?.find((p) => p.phase === "applications");
  const zone = campaign.time_zone || "Europe/Moscow";
  const opens = phase?.starts_on ? startOfDay(phase.starts_on, zone) : 0;
  const closes = phase?.ends_on ? startOfDay(phase.ends_on, zone) + 86_400_000 : 0;
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  if (!phase) return <p>{t.apply.noWindow}</p>;
  if (now < opens) {
    return (
      <div class="card">
        <p>{t.apply.opensOn(formatDate(phase.starts_on), formatDate(phase.ends_on))}</p>
        <p role="timer" aria-live="off" class="countdown">
          {t.apply.opensIn} {countdown(opens - now)}
        </p>
      </div>
    );
  }
  if (now >= closes) return <p class="card">{t.apply.closed(formatDate(phase.ends_on))}</p>;
  return (
    <>
      <p>{t.apply.openUntil(formatDate(phase.ends_on))}</p>
      {children}
    </>
  );
}

function Groups({ item, number, userId, campaignId }: { item: Entry; number: string; userId: string; campaignId: string }) {
  const [seats, setSeats] = useState<Record<string, Seats>>({});
  // When each group's figure was read (refused reads keep the older one).
  const [readAt, setReadAt] = useState<Record<string, number>>({});
  const [picks, setPicks] = useState(() => shortlist.load(userId, campaignId));
  const pick = (g: NonNullable<Entry["groups"]>[number]) => {
    const next = shortlist.add(picks, {
      group_id: g.id ?? "",
      program_id: item.program_id ?? "",
      title: item.title ?? "",
      starts_on: g.starts_on ?? undefined,
      ends_on: g.ends_on ?? undefined,
      place: g.online ? t.programs.online : (g.address ?? undefined),
      campaign_id: campaignId,
    });
    shortlist.save(userId, next);
    setPicks(next);
  };
  const groups = (item.groups ?? []).filter((g) => g.status !== "cancelled");
  // The groups' seats left, all of the program's in one read; when it
  // fails the groups keep their last figures. Returns the waits the
  // platform asked for (Retry-After).
  const read = async (): Promise<number[]> => {
    // Nothing to show, nothing to ask.
    if (groups.length === 0 || !item.program_id) return [];
    let answer;
    try {
      answer = await api.GET("/api/v1/programs/{id}/availability", { params: { path: { id: item.program_id } } });
    } catch {
      return [];
    }
    const out: Record<string, Seats> = Object.fromEntries((answer.data?.groups ?? []).map((g) => [g.group_id ?? "", g]));
    setSeats((known) => ({ ...known, ...out }));
    const now = Date.now();
    setReadAt((known) => ({ ...known, ...Object.fromEntries(Object.keys(out).map((id) => [id, now])) }));
    return retryAfter(answer.response);
  };
  // Off by default: the groups differ in dates and place.
  const [others, setOthers] = useState(false);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const poll = async () => {
      // A hidden tab does not read: nobody is looking at it.
      const asked = document.hidden ? [] : await read();
      if (!stopped) timer = setTimeout(poll, nextPoll(SEATS_REFRESH_MS, asked));
    };
    poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [item.program_id]);
  if (groups.length === 0) return <p>{t.apply.noGroups}</p>;
  const label = (id: string) => {
    const g = groups.find((o) => o.id === id);
    return g ? t.apply.group(formatDate(g.starts_on), formatDate(g.ends_on)) : "";
  };
  // The other groups in the order shown, at most nine (the API's limit).
  const fallbacks = (id: string) => (others ? groups.map((o) => o.id ?? "").filter((o) => o !== id).slice(0, 9) : []);
  return (
    <>
      {groups.length > 1 && (
        <label class="check">
          <input type="checkbox" checked={others} onChange={(e) => setOthers(e.currentTarget.checked)} />{" "}
          {t.apply.otherGroups}
        </label>
      )}
      <ul class="cards">
        {groups.map((g) => (
          <li class="card" key={g.id}>
            <h2>{t.apply.group(formatDate(g.starts_on), formatDate(g.ends_on))}</h2>
            <p>
              {g.online ? t.programs.online : g.address}
              {seats[g.id ?? ""] && (
                <>
                  {" · "}
                  <span data-seats={seats[g.id ?? ""].seats_left}>
                    {t.apply.seatsLeft(seats[g.id ?? ""].seats_left ?? 0, seats[g.id ?? ""].capacity ?? 0)}
                  </span>
                  {stale(readAt[g.id ?? ""], Date.now(), SEATS_REFRESH_MS) && (
                    <> {t.apply.asOf(new Date(readAt[g.id ?? ""]).toLocaleTimeString("ru-RU"))}</>
                  )}
                </>
              )}
            </p>
            <ApplyButton group={g.id ?? ""} fallbacks={fallbacks(g.id ?? "")} label={label} number={number} onAnswer={read} />{" "}
            {picks.some((p) => p.group_id === g.id) ? (
              <a href="#/shortlist">{t.shortlist.onList}</a>
            ) : (
              <button
                type="button"
                class="secondary"
                aria-label={t.shortlist.addGroup(label(g.id ?? ""))}
                disabled={picks.length >= shortlist.MAX_PICKS}
                onClick={() => pick(g)}
              >
                {t.shortlist.add}
              </button>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}

type Outcome =
  | { kind: "idle" }
  | { kind: "sending" }
  | { kind: "done"; application: Application }
  // `ranked`: the request's fallbacks, sent again as they were.
  | { kind: "full"; ranked: string[] }
  | { kind: "retry"; after: number; waitlist: boolean; ranked: string[] }
  | { kind: "refused"; problem: ProblemBody };

type ButtonProps = {
  group: string;
  /** Groups to take a seat in, in order, when `group` is full. */
  fallbacks: string[];
  /** A group's name on this screen. */
  label: (group: string) => string;
  number: string;
  onAnswer: () => void;
};

function ApplyButton({ group, fallbacks, label, number, onAnswer }: ButtonProps) {
  const [outcome, setOutcome] = useState<Outcome>({ kind: "idle" });
  // A retry repeats the very request (its key and its fallbacks), even if
  // the box was ticked or cleared meanwhile.
  const send = async (waitlist: boolean, ranked: string[]) => {
    setOutcome({ kind: "sending" });
    const { answer, retryAfter } = await sendOnce(`apply:${group}:${number}:${waitlist}:${ranked.join(",")}`, (key) =>
      api.POST("/api/v1/applications", {
        params: { header: { "Idempotency-Key": key } },
        body: { group_id: group, unique_number: number, join_waitlist: waitlist, fallback_group_ids: ranked },
      }),
    );
    if (!answer) {
      setOutcome({ kind: "retry", after: retryAfter, waitlist, ranked });
      return;
    }
    onAnswer();
    const data = answer.data;
    const error = answer.error as (ProblemBody & { reason?: string }) | undefined;
    if (data) setOutcome({ kind: "done", application: data });
    // The program's other groups with seats are listed on this screen.
    else if (error?.reason === "group_full") setOutcome({ kind: "full", ranked });
    else setOutcome({ kind: "refused", problem: error ?? {} });
  };

  switch (outcome.kind) {
    case "done": {
      const a = outcome.application;
      return (
        <p role="status">
          {a.status === "waitlisted"
            ? t.apply.waitlisted(a.waitlist_position ?? 0)
            : a.group_id && a.group_id !== group
              ? t.apply.enrolledIn(label(a.group_id))
              : t.apply.enrolled}{" "}
          <a href="#/applications">{t.nav.applications}</a>
        </p>
      );
    }
    case "full":
      return (
        <div role="status">
          <p>{outcome.ranked.length > 0 ? t.apply.allFull : t.apply.full}</p>
          <button type="button" onClick={() => send(true, outcome.ranked)}>
            {t.apply.joinWaitlist}
          </button>
        </div>
      );
    case "retry":
      return (
        <div role="alert">
          <p>{outcome.after > 0 ? t.apply.busy(outcome.after) : t.apply.noAnswer}</p>
          <button type="button" onClick={() => send(outcome.waitlist, outcome.ranked)}>
            {t.apply.retry}
          </button>
        </div>
      );
    default:
      return (
        <>
          {outcome.kind === "refused" && <ProblemView problem={outcome.problem} />}
          <button type="button" disabled={outcome.kind === "sending"} onClick={() => send(false, fallbacks)}>
            {outcome.kind === "sending" ? t.apply.sending : t.apply.apply}
          </button>
        </>
      );
  }
}
