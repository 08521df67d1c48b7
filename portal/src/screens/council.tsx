// The expert council: the agenda of the open session with the tally as
// votes come in (read again every few seconds), each member's vote, the
// protocol once closed. The regional operator convenes and closes the
// session; the ministry (the presidium) approves or returns the protocol.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client";
import type { components } from "../api/schema";
import { type Campaign, useCampaign } from "../campaign";
import { formatDate, today } from "../dates";
import { download } from "../download";
import type { Grant } from "../nav";
import { type ProblemBody, ProblemView } from "../problem";
import { t } from "../i18n";

type Session = components["schemas"]["CouncilSession"];
type Protocol = components["schemas"]["Protocol"];

/** How often the open session's tally is read again. */
const TALLY_REFRESH_MS = 3000;

export function Council({ grants, userId }: { grants: Grant[]; userId: string }) {
  const [campaign] = useCampaign();
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const operator = grants.some((g) => g.role === "regional_operator");
  const ministry = grants.some((g) => g.role === "ministry");
  const load = async (c: Campaign) => {
    const { data } = await api.GET("/api/v1/campaigns/{id}/council-sessions", {
      params: { path: { id: c.id ?? "" }, query: { limit: 50 } },
    });
    setSessions(data?.items ?? []);
  };
  useEffect(() => {
    if (campaign) load(campaign);
  }, [campaign]);
  if (campaign === undefined || (campaign && sessions === null)) return <p>{t.loading}</p>;
  if (campaign === null) return <p>{t.noCampaign}</p>;
  const reload = () => load(campaign);
  const shown = (sessions ?? []).filter((s) => s.status !== "cancelled");
  return (
    <section>
      <h1>{t.council.title}</h1>
      {shown.length === 0 && <p>{t.council.none}</p>}
      {shown.map((s) => (
        <article class="card" key={s.id}>
          <h2>{t.council.session(formatDate(s.held_on), s.protocol_number ?? "")}</h2>
          <p>{t.council.status[s.status ?? ""] ?? s.status}</p>
          {s.status === "open" ? (
            <OpenSession id={s.id ?? ""} userId={userId} operator={operator} onClosed={reload} />
          ) : (
            <ProtocolView session={s} ministry={ministry} onDone={reload} />
          )}
        </article>
      ))}
      {operator && !shown.some((s) => s.status === "open") && <Convene campaign={campaign} onDone={reload} />}
    </section>
  );
}

function OpenSession({
  id,
  userId,
  operator,
  onClosed,
}: {
  id: string;
  userId: string;
  operator: boolean;
  onClosed: () => void;
}) {
  const [session, setSession] = useState<Session | null>(null);
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const read = async () => {
    const { data } = await api.GET("/api/v1/council-sessions/{id}", { params: { path: { id } } });
    // Closed (or cancelled) meanwhile: the list shows the protocol instead.
    if (data && data.status !== "open") onClosed();
    else if (data) setSession(data);
  };
  useEffect(() => {
    read();
    const timer = setInterval(read, TALLY_REFRESH_MS);
    return () => clearInterval(timer);
  }, [id]);

  const vote = async (program: string, v: "for" | "against" | "abstain") => {
    setProblem(null);
    const { data, error } = await api.POST("/api/v1/council-sessions/{id}/votes", {
      params: { path: { id } },
      body: { program_id: program, vote: v },
    });
    if (error) setProblem(error);
    if (data) setSession(data);
  };
  const close = async () => {
    setProblem(null);
    const { error } = await api.POST("/api/v1/council-sessions/{id}/close", { params: { path: { id } }, body: {} });
    if (error) setProblem(error);
    else onClosed();
  };

  if (!session) return <p>{t.loading}</p>;
  const member = session.member_ids?.includes(userId) ?? false;
  return (
    <>
      <p>{t.council.quorum(session.quorum ?? 0, session.member_ids?.length ?? 0)}</p>
      <ProblemView problem={problem} />
      <div class="scroll">
        <table aria-label={t.council.agenda}>
          <caption>{t.council.agenda}</caption>
          <thead>
            <tr>
              <th>{t.council.program}</th>
              <th>{t.council.experts}</th>
              <th>{t.council.votesFor}</th>
              <th>{t.council.votesAgainst}</th>
              <th>{t.council.votesAbstain}</th>
              {member && <th>{t.council.myVote}</th>}
            </tr>
          </thead>
          <tbody>
            {session.agenda?.map((a) => (
              <tr key={a.program_id}>
                <td>
                  {a.title}
                  <br />
                  <small>{a.provider_name}</small>
                </td>
                <td>{a.status === "expert_rejected" ? t.council.expertRejected : t.council.expertPassed}</td>
                <td data-tally="for">{a.votes_for}</td>
                <td data-tally="against">{a.votes_against}</td>
                <td data-tally="abstain">{a.votes_abstain}</td>
                {member && (
                  <td>
                    <div class="actions" role="group" aria-label={t.council.voteOn(a.title ?? "")}>
                      {Object.entries(t.council.votes).map(([code, label]) => (
                        <button
                          type="button"
                          key={code}
                          class={a.my_vote === code ? "" : "secondary"}
                          aria-pressed={a.my_vote === code}
                          onClick={() => vote(a.program_id ?? "", code as "for" | "against" | "abstain")}
                        >
                          {label}
                        </button>
                      ))}
                    </div>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {operator && (
        <button type="button" onClick={close}>
          {t.council.close}
        </button>
      )}
    </>
  );
}

function ProtocolView({ session, ministry, onDone }: { session: Session; ministry: boolean; onDone: () => void }) {
  const id = session.id ?? "";
  const [protocol, setProtocol] = useState<Protocol | null>(null);
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const [reason, setReason] = useState("");
  useEffect(() => {
    api.GET("/api/v1/council-sessions/{id}/protocol", { params: { path: { id } } }).then(({ data }) => setProtocol(data ?? null));
  }, [id, session.status]);
  const act = async (action: "approve" | "return") => {
    setProblem(null);
    const { error } =
      action === "approve"
        ? await api.POST("/api/v1/council-sessions/{id}/approve", { params: { path: { id } } })
        : await api.POST("/api/v1/council-sessions/{id}/return", { params: { path: { id } }, body: { reason } });
    if (error) setProblem(error);
    else onDone();
  };
  if (!protocol) return null;
  return (
    <>
      <div class="scroll">
        <table>
          <caption>{t.council.protocol(protocol.number ?? "")}</caption>
          <thead>
            <tr>
              <th>{t.council.program}</th>
              <th>{t.council.votesFor}</th>
              <th>{t.council.votesAgainst}</th>
              <th>{t.council.votesAbstain}</th>
              <th>{t.council.decision}</th>
            </tr>
          </thead>
          <tbody>
            {protocol.entries?.map((e) => (
              <tr key={e.program_id}>
                <td>{e.title}</td>
                <td>{e.votes_for}</td>
                <td>{e.votes_against}</td>
                <td>{e.votes_abstain}</td>
                <td>{t.council.decisions[e.decision ?? ""] ?? e.decision}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ProblemView problem={problem} />
      <div class="actions">
        <button
          type="button"
          class="link"
          onClick={() => download(`/api/v1/council-sessions/${id}/protocol.html`, `protocol-${protocol.number}.html`)}
        >
          {t.council.downloadProtocol}
        </button>
        {ministry && session.status === "closed" && (
          <>
            <button type="button" onClick={() => act("approve")}>
              {t.council.approve}
            </button>
            <label>
              {t.council.returnReason}
              <input value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
            </label>
            <button type="button" class="secondary" disabled={!reason.trim()} onClick={() => act("return")}>
              {t.council.returnProtocol}
            </button>
          </>
        )}
      </div>
    </>
  );
}

/** The operator seats the region's council members for a session today. */
function Convene({ campaign, onDone }: { campaign: Campaign; onDone: () => void }) {
  const [members, setMembers] = useState<{ id: string; name: string }[]>([]);
  const [chosen, setChosen] = useState<string[]>([]);
  const [chair, setChair] = useState("");
  const [secretary, setSecretary] = useState("");
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  useEffect(() => {
    api.GET("/api/v1/users", { params: { query: { role: "council_member", limit: 200 } } }).then(({ data }) => {
      const all = (data?.items ?? []).map((u) => ({ id: u.id ?? "", name: u.display_name || u.login || "" }));
      setMembers(all);
      setChosen(all.map((m) => m.id));
      setChair(all[0]?.id ?? "");
      setSecretary(all[1]?.id ?? all[0]?.id ?? "");
    });
  }, []);
  const convene = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    const { error } = await api.POST("/api/v1/campaigns/{id}/council-sessions", {
      params: { path: { id: campaign.id ?? "" } },
      body: {
        held_on: today(campaign.time_zone || "Europe/Moscow"),
        member_ids: chosen,
        chair_id: chair,
        secretary_id: secretary,
      },
    });
    if (error) setProblem(error);
    else onDone();
  };
  const pick = (label: string, value: string, set: (v: string) => void) => (
    <label>
      {label}
      <select value={value} onChange={(e) => set(e.currentTarget.value)}>
        {members
          .filter((m) => chosen.includes(m.id))
          .map((m) => (
            <option key={m.id} value={m.id}>
              {m.name}
            </option>
          ))}
      </select>
    </label>
  );
  return (
    <form class="card" onSubmit={convene}>
      <h2>{t.council.convene}</h2>
      <ProblemView problem={problem} />
      <fieldset>
        <legend>{t.council.members}</legend>
        {members.map((m) => (
          <label class="check" key={m.id}>
            <input
              type="checkbox"
              checked={chosen.includes(m.id)}
              onChange={(e) => {
                const next = e.currentTarget.checked ? [...chosen, m.id] : chosen.filter((x) => x !== m.id);
                setChosen(next);
                // The chair and the secretary sit at the session.
                if (!next.includes(chair)) setChair(next[0] ?? "");
                if (!next.includes(secretary)) setSecretary(next[1] ?? next[0] ?? "");
              }}
            />
            {m.name}
          </label>
        ))}
      </fieldset>
      {pick(t.council.chair, chair, setChair)}
      {pick(t.council.secretary, secretary, setSecretary)}
      <button type="submit">{t.council.conveneButton}</button>
    </form>
  );
}
