// Dates and times as the region reads them: in the region's time zone
// (the campaign's `time_zone`), whatever the browser's own zone is.

/** "2026-12-01" → "01.12.2026" (a calendar date has no zone). */
export function formatDate(day: string | undefined): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day ?? "");
  return m ? `${m[3]}.${m[2]}.${m[1]}` : (day ?? "");
}

/** An instant in the region's zone: "01.12.2026, 09:00". */
export function formatDateTime(iso: string | undefined, zone: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat("ru-RU", {
    timeZone: zone || undefined,
    dateStyle: "short",
    timeStyle: "short",
  }).format(d);
}

/** How far `zone`'s wall clock is ahead of UTC at `at` (ms). */
function offset(at: number, zone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(at));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second"));
  return wall - Math.floor(at / 1000) * 1000;
}

/** The instant a calendar day starts in `zone` (a phase opens then). */
export function startOfDay(day: string, zone: string): number {
  const [y, m, d] = day.split("-").map(Number);
  const guess = Date.UTC(y, m - 1, d);
  const first = guess - offset(guess, zone);
  // Near a change of offset the first guess is an hour out: once more.
  return guess - offset(first, zone);
}

/** Today's date in `zone`, as the API writes dates. */
export function today(zone: string, now = Date.now()): string {
  return new Date(now + offset(now, zone)).toISOString().slice(0, 10);
}

/** "2 д 03:04:05" until an instant `ms` away (0 when past). */
export function countdown(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(s / 86400);
  const pad = (n: number) => String(n).padStart(2, "0");
  const clock = `${pad(Math.floor((s % 86400) / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  return days > 0 ? `${days} д ${clock}` : clock;
}
