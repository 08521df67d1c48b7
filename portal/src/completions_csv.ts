// A provider's completions file, as its LMS or a spreadsheet exports it:
// one learner per line, `;` or `,` separated, a header naming the columns
// (English or Russian). Read here into the webhook's JSON; the platform
// checks every value and names each learner at fault.

import type { components } from "./api/schema";

/** The webhook's learner, as the API's types say. */
export type Learner = components["schemas"]["LearnerCompletion"];
type Text = Exclude<keyof Learner, "hours" | "modules">;

const HEADINGS: Record<string, Text | "hours"> = {
  educator_id: "educator_id",
  "id педагога": "educator_id",
  group_id: "group_id",
  "id группы": "group_id",
  status: "status",
  "статус": "status",
  reason: "reason",
  "причина": "reason",
  document_type: "document_type",
  "вид документа": "document_type",
  document_series: "document_series",
  "серия": "document_series",
  document_number: "document_number",
  "номер": "document_number",
  "номер документа": "document_number",
  issued_on: "issued_on",
  "дата выдачи": "issued_on",
  registration_number: "registration_number",
  "регистрационный номер": "registration_number",
  hours: "hours",
  "часы": "hours",
};

/** Cells of one line: quotes hold separators, doubled quotes a quote. */
function cells(line: string, sep: string): string[] {
  const out: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) {
      out.push(cell);
      cell = "";
    } else cell += c;
  }
  out.push(cell);
  return out.map((x) => x.trim());
}

/** `DD.MM.YYYY` (as Excel writes it) to `YYYY-MM-DD`; others as they are. */
function isoDate(s: string): string {
  const m = /^(\d{2})\.(\d{2})\.(\d{4})$/.exec(s);
  return m ? `${m[3]}-${m[2]}-${m[1]}` : s;
}

/** Russian status words accepted beside the API's. */
function status(s: string): string {
  const v = s.toLowerCase();
  if (v === "завершил" || v === "завершила" || v === "окончил") return "completed";
  if (v === "не завершил" || v === "не завершила") return "not_completed";
  return v;
}

export function parse(text: string): { learners: Learner[]; unknownColumns: string[] } {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length === 0) return { learners: [], unknownColumns: [] };
  const sep = (lines[0].match(/;/g)?.length ?? 0) >= (lines[0].match(/,/g)?.length ?? 0) ? ";" : ",";
  const header = cells(lines[0], sep).map((h) => HEADINGS[h.toLowerCase()]);
  const unknownColumns = cells(lines[0], sep).filter((h) => !HEADINGS[h.toLowerCase()]);
  const learners = lines.slice(1).map((line) => {
    // Values go as the file has them (the platform names a wrong one);
    // the enums' types are the API's promise, not a check made here.
    const raw: Record<string, string | number> = { educator_id: "", status: "", hours: 0 };
    cells(line, sep).forEach((value, i) => {
      const key = header[i];
      if (!key) return;
      if (key === "hours") raw.hours = Number.parseInt(value, 10) || 0;
      else if (key === "issued_on") raw.issued_on = isoDate(value);
      else if (key === "status") raw.status = status(value);
      else if (value !== "") raw[key] = value;
    });
    return raw as unknown as Learner;
  });
  return { learners, unknownColumns };
}
