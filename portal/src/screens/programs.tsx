// The provider's programs: draft, submit, the operator's remarks and the
// checklist, resubmit; for an approved program its groups (schedule) and
// each group's roster.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client";
import type { components } from "../api/schema";
import { type Campaign, scopeOf, useCampaign } from "../campaign";
import { formatDate } from "../dates";
import { download } from "../download";
import type { Grant } from "../nav";
import { type ProblemBody, ProblemView } from "../problem";
import { t } from "../i18n";

type Program = components["schemas"]["Program"];
type Fields = components["schemas"]["ProgramFields"];
type Group = components["schemas"]["Group"];

export function Programs({ grants }: { grants: Grant[] }) {
  const [campaign] = useCampaign();
  const provider = scopeOf(grants, "provider_admin");
  const [items, setItems] = useState<Program[] | null>(null);
  const [message, setMessage] = useState("");
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const [editing, setEditing] = useState("");

  const load = async () => {
    if (!campaign?.id) return;
    // This year's programs: earlier campaigns' are not scheduled again.
    const { data } = await api.GET("/api/v1/programs", {
      params: { query: { provider_id: provider, campaign_id: campaign.id, limit: 200 } },
    });
    setItems(data?.items ?? []);
  };
  useEffect(() => {
    load();
  }, [campaign]);

  const act = async (id: string, action: "submit" | "withdraw") => {
    setProblem(null);
    const path = action === "submit" ? "/api/v1/programs/{id}/submit" : "/api/v1/programs/{id}/withdraw";
    const { error } = await api.POST(path, { params: { path: { id } } });
    if (error) setProblem(error);
    else setMessage(action === "submit" ? t.programs.submitted : t.programs.withdrawn);
    await load();
  };

  if (campaign === null) return <p>{t.noCampaign}</p>;
  if (campaign === undefined || items === null) return <p>{t.loading}</p>;
  return (
    <section>
      <h1>{t.programs.title}</h1>
      {message && <p role="status">{message}</p>}
      <ProblemView problem={problem} />
      {items.length === 0 && <p>{t.programs.empty}</p>}
      <ul class="cards">
        {items.map((p) => (
          <li class="card" key={p.id}>
            <h2>{p.fields?.title}</h2>
            <p>
              {t.programs.status[p.status ?? ""] ?? p.status} · {t.catalog.hours(p.fields?.hours ?? 0)}
            </p>
            {p.remarks && (
              <p class="remarks">
                {t.programs.remarks}: {p.remarks}
              </p>
            )}
            {(p.status === "draft" || p.status === "returned") && (
              <>
                <Checklist program={p} />
                <div class="actions">
                  <button type="button" onClick={() => act(p.id ?? "", "submit")}>
                    {p.status === "returned" ? t.programs.resubmit : t.programs.submit}
                  </button>
                  <button type="button" class="secondary" onClick={() => setEditing(editing === p.id ? "" : (p.id ?? ""))}>
                    {t.programs.edit}
                  </button>
                </div>
                {editing === p.id && campaign && (
                  <ProgramForm
                    campaign={campaign}
                    provider={provider}
                    program={p}
                    onDone={() => {
                      setEditing("");
                      setMessage(t.programs.saved);
                      load();
                    }}
                  />
                )}
              </>
            )}
            {p.status === "submitted" && (
              <button type="button" class="secondary" onClick={() => act(p.id ?? "", "withdraw")}>
                {t.programs.withdraw}
              </button>
            )}
            {p.status === "approved" && campaign && <Groups program={p} campaign={campaign} />}
          </li>
        ))}
      </ul>
      {campaign?.current_phase === "program_submission" && (
        <ProgramForm
          campaign={campaign}
          provider={provider}
          onDone={() => {
            setMessage(t.programs.drafted);
            load();
          }}
        />
      )}
    </section>
  );
}

function Checklist({ program }: { program: Program }) {
  if (!program.checklist?.length) return null;
  return (
    <ul class="checklist">
      {program.checklist.map((c) => (
        <li key={c.code}>
          {c.passed ? "✓" : "✗"} {c.title}
          {c.note && ` (${c.note})`}
        </li>
      ))}
    </ul>
  );
}

/** The form's text fields for a program (a new one: the defaults). */
function formOf(p?: Program) {
  const f = p?.fields;
  return {
    title: f?.title ?? "",
    direction: f?.direction ?? "",
    topic: f?.topic ?? "",
    annotation: f?.annotation ?? "",
    hours: String(f?.hours ?? 36),
    form: f?.form ?? "blended",
    positions: (f?.target_positions ?? ["учитель"]).join(", "),
    subjects: (f?.target_subjects ?? []).join(", "),
    competences: (f?.competences ?? []).join(", "),
    modules: (f?.modules ?? []).map((m) => `${m.name}; ${m.hours}; ${m.assessment_form}`).join("\n"),
    size: String(f?.max_group_size ?? 25),
    cost: String(f?.cost_per_learner ?? 0),
  };
}

/** A new draft, or the changes to a draft or a returned program: modules
 * one per line, "name; hours; assessment". */
function ProgramForm({
  campaign,
  provider,
  program,
  onDone,
}: {
  campaign: Campaign;
  provider: string;
  program?: Program;
  onDone: () => void;
}) {
  const blank = formOf(program);
  const [f, setF] = useState(blank);
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const set = (k: keyof typeof f) => (e: { currentTarget: { value: string } }) =>
    setF({ ...f, [k]: e.currentTarget.value });
  const list = (s: string) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);

  const save = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    const modules = f.modules
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => {
        const [name, hours, assessment_form] = l.split(";").map((x) => x.trim());
        return { name, hours: Number(hours) || 0, assessment_form: assessment_form ?? "" };
      });
    const fields: Fields = {
      kind: program?.fields?.kind ?? "ordinary",
      title: f.title,
      direction: f.direction,
      topic: f.topic,
      annotation: f.annotation,
      hours: Number(f.hours) || 0,
      form: f.form,
      target_positions: list(f.positions),
      target_subjects: list(f.subjects),
      modules,
      competences: list(f.competences),
      internship_site: program?.fields?.internship_site ?? "",
      max_group_size: Number(f.size) || 0,
      cost_per_learner: Number(f.cost) || 0,
    };
    const { error } = program
      ? await api.PUT("/api/v1/programs/{id}", { params: { path: { id: program.id ?? "" } }, body: fields })
      : await api.POST("/api/v1/programs", {
          body: { campaign_id: campaign.id ?? "", provider_id: provider, fields },
        });
    if (error) {
      setProblem(error);
      return;
    }
    setF(blank);
    onDone();
  };

  return (
    <form onSubmit={save} class="card" aria-label={program ? t.programs.edit : t.programs.newDraft}>
      <h2>{program ? t.programs.edit : t.programs.newDraft}</h2>
      <ProblemView problem={problem} />
      <label>
        {t.programs.fTitle}
        <input required value={f.title} onInput={set("title")} />
      </label>
      <label>
        {t.programs.fDirection}
        <input required value={f.direction} onInput={set("direction")} />
      </label>
      <label>
        {t.programs.fTopic}
        <input required value={f.topic} onInput={set("topic")} />
      </label>
      <label>
        {t.programs.fAnnotation}
        <textarea required value={f.annotation} onInput={set("annotation")} />
      </label>
      <label>
        {t.programs.fHours}
        <input type="number" min={16} value={f.hours} onInput={set("hours")} />
      </label>
      <label>
        {t.programs.fForm}
        <select value={f.form} onChange={set("form")}>
          <FormOptions />
        </select>
      </label>
      <label>
        {t.programs.fPositions}
        <input value={f.positions} onInput={set("positions")} />
      </label>
      <label>
        {t.programs.fSubjects}
        <input value={f.subjects} onInput={set("subjects")} />
      </label>
      <label>
        {t.programs.fCompetences}
        <input value={f.competences} onInput={set("competences")} />
      </label>
      <label>
        {t.programs.fModules}
        <textarea value={f.modules} onInput={set("modules")} placeholder={t.programs.modulesHint} />
      </label>
      <label>
        {t.programs.fSize}
        <input type="number" min={1} value={f.size} onInput={set("size")} />
      </label>
      <label>
        {t.programs.fCost}
        <input type="number" min={0} step="0.01" value={f.cost} onInput={set("cost")} />
      </label>
      <button type="submit">{program ? t.programs.saveChanges : t.programs.save}</button>
    </form>
  );
}

/** An approved program's groups; new ones while the schedule is open. */
function Groups({ program, campaign }: { program: Program; campaign: Campaign }) {
  const id = program.id ?? "";
  const [groups, setGroups] = useState<Group[]>([]);
  const [g, setG] = useState({
    starts_on: "",
    ends_on: "",
    capacity: "25",
    min_size: "10",
    online: true,
    address: "",
    municipality_id: "",
  });
  const [municipalities, setMunicipalities] = useState<{ id?: string; name?: string }[]>([]);
  useEffect(() => {
    if (!campaign.region_id) return;
    api
      .GET("/api/v1/regions/{id}/municipalities", { params: { path: { id: campaign.region_id } } })
      .then(({ data }) => setMunicipalities(data?.items ?? []));
  }, [campaign.region_id]);
  const [problem, setProblem] = useState<ProblemBody | null>(null);
  const load = async () => {
    const { data } = await api.GET("/api/v1/programs/{id}/groups", { params: { path: { id } } });
    setGroups(data?.items ?? []);
  };
  useEffect(() => {
    load();
  }, [id]);

  const add = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    const { error } = await api.POST("/api/v1/programs/{id}/groups", {
      params: { path: { id } },
      body: {
        starts_on: g.starts_on,
        ends_on: g.ends_on,
        capacity: Number(g.capacity) || 0,
        min_size: Number(g.min_size) || 0,
        online: g.online,
        // An in-person group names where it meets.
        address: g.online ? "" : g.address,
        municipality_id: g.online ? "" : g.municipality_id,
      },
    });
    if (error) setProblem(error);
    await load();
  };

  return (
    <div>
      <h3>{t.programs.groups}</h3>
      {groups.length === 0 && <p>{t.programs.noGroups}</p>}
      <ul>
        {groups.map((x) => (
          <li key={x.id}>
            {formatDate(x.starts_on)} — {formatDate(x.ends_on)} · {t.programs.capacity(x.capacity ?? 0)} ·{" "}
            {x.online ? t.programs.online : x.address} · {t.programs.groupStatus[x.status ?? ""] ?? x.status} ·{" "}
            {t.fields.group_id}: <span class="code">{x.id}</span>
            <Roster group={x.id ?? ""} />
          </li>
        ))}
      </ul>
      {campaign.current_phase === "schedule" && (
        <form class="inline" onSubmit={add} aria-label={t.programs.newGroup}>
          <ProblemView problem={problem} />
          <label>
            {t.programs.starts}
            <input type="date" required value={g.starts_on} onInput={(e) => setG({ ...g, starts_on: e.currentTarget.value })} />
          </label>
          <label>
            {t.programs.ends}
            <input type="date" required value={g.ends_on} onInput={(e) => setG({ ...g, ends_on: e.currentTarget.value })} />
          </label>
          <label>
            {t.programs.seats}
            <input type="number" min={1} value={g.capacity} onInput={(e) => setG({ ...g, capacity: e.currentTarget.value })} />
          </label>
          <label>
            {t.programs.minSize}
            <input type="number" min={1} value={g.min_size} onInput={(e) => setG({ ...g, min_size: e.currentTarget.value })} />
          </label>
          <label class="check">
            <input type="checkbox" checked={g.online} onChange={(e) => setG({ ...g, online: e.currentTarget.checked })} />
            {t.programs.onlineGroup}
          </label>
          {!g.online && (
            <>
              <label>
                {t.programs.municipality}
                <select required value={g.municipality_id} onChange={(e) => setG({ ...g, municipality_id: e.currentTarget.value })}>
                  <option value="">—</option>
                  {municipalities.map((m) => (
                    <option key={m.id} value={m.id}>
                      {m.name}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                {t.programs.address}
                <input required value={g.address} onInput={(e) => setG({ ...g, address: e.currentTarget.value })} />
              </label>
            </>
          )}
          <button type="submit">{t.programs.addGroup}</button>
        </form>
      )}
    </div>
  );
}

function Roster({ group }: { group: string }) {
  const [open, setOpen] = useState(false);
  const [members, setMembers] = useState<components["schemas"]["RosterMember"][] | null>(null);
  useEffect(() => {
    if (!open || members) return;
    api
      .GET("/api/v1/groups/{id}/roster", { params: { path: { id: group } } })
      .then(({ data }) => setMembers(typeof data === "object" ? (data?.members ?? []) : []));
  }, [open]);
  return (
    <details onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>{t.programs.roster}</summary>
      <button
        type="button"
        class="link"
        onClick={() => download(`/api/v1/groups/${group}/roster?format=csv`, `roster-${group}.csv`)}
      >
        {t.programs.rosterCsv}
      </button>
      {members === null ? (
        <p>{t.loading}</p>
      ) : members.length === 0 ? (
        <p>{t.programs.rosterEmpty}</p>
      ) : (
        <ol>
          {members.map((m) => (
            <li key={m.application_id}>
              {m.educator_name} · {m.organization_name} <span class="code">{m.educator_id}</span>
            </li>
          ))}
        </ol>
      )}
    </details>
  );
}

/** The forms of study, as options of a select. */
export function FormOptions() {
  return (
    <>
      {Object.entries(t.programs.forms).map(([code, label]) => (
        <option key={code} value={code}>
          {label}
        </option>
      ))}
    </>
  );
}
