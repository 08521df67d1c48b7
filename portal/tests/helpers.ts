// What the browser tests share: the demo's logins, signing in and out,
// screenshots, the API for the steps a scenario takes off-screen.
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";

/** The demo's logins (`  login  password  role` lines), by login and,
 * for the first of each role, by role. */
export function logins(): Map<string, { login: string; password: string }> {
  const file = process.env.PORTAL_LOGINS;
  const out = new Map<string, { login: string; password: string }>();
  if (!file) return out;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const [login, password, role] = line.trim().split(/\s+/);
    if (!login || !password || !role) continue;
    if (!out.has(role)) out.set(role, { login, password });
    out.set(`login:${login}`, { login, password });
  }
  return out;
}

function who(roleOrLogin: string): { login: string; password: string } {
  const all = logins();
  const found = all.get(`login:${roleOrLogin}`) ?? all.get(roleOrLogin);
  expect(found, `a demo login for ${roleOrLogin}`).toBeDefined();
  return found!;
}

/** Signs in by role (its first demo login) or by login. */
export async function signIn(page: Page, roleOrLogin: string): Promise<void> {
  const who_ = who(roleOrLogin);
  expect(who_).toBeDefined();
  await page.goto("/");
  await page.getByLabel("Логин").fill(who_.login);
  await page.getByLabel("Пароль").fill(who_.password);
  await page.getByRole("button", { name: "Войти" }).click();
  // Signed in once the session is kept (a navigation before would lose it).
  await expect(page.getByRole("button", { name: "Выйти" })).toBeVisible();
}

/** Signs out and waits until the session is over (the server is told first). */
export async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Выйти" }).click();
  await expect(page.getByRole("button", { name: "Войти" })).toBeVisible();
}

/** A screenshot of the screen for a reviewer; on a phone, first the
 * check that the screen fits its width (wide tables scroll in their own
 * box, the page does not scroll sideways). */
export async function shot(page: Page, name: string): Promise<void> {
  const width = page.viewportSize()?.width ?? 0;
  if (width > 0 && width <= 400) {
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(wide, `${name} is wider than the ${width} px phone`).toBeLessThanOrEqual(width);
  }
  await page.screenshot({ path: `screenshots/${test.info().project.name}-${name}.png`, fullPage: true });
}


/** The API as `roleOrLogin`, for the steps a scenario takes off-screen
 * (another educator's application, say). */
export class Api {
  private constructor(
    private readonly request: APIRequestContext,
    private readonly token: string,
  ) {}

  static async as(request: APIRequestContext, roleOrLogin: string): Promise<Api> {
    const { login, password } = who(roleOrLogin);
    const r = await request.post("/api/v1/auth/login", { data: { login, password } });
    expect(r.status(), await r.text()).toBe(200);
    return new Api(request, (await r.json()).access_token);
  }

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const r = await this.request.fetch(path, {
      method,
      data: body,
      headers: { authorization: `Bearer ${this.token}`, ...headers },
    });
    const text = await r.text();
    return { status: r.status(), body: text ? JSON.parse(text) : null };
  }
}

/** Today in the demo region (Europe/Moscow, UTC+3 all year), `n` days on. */
export function day(n: number): string {
  return new Date(Date.now() + 3 * 3_600_000 + n * 86_400_000).toISOString().slice(0, 10);
}

const PHASES = ["program_submission", "expert_review", "schedule", "applications", "post_course"];

/** The calendar with `open` open today (six days around today); the
 * phases before it two days each, back to back, in the past; those after
 * it ten days apart. The needs survey keeps its start (the campaign's
 * year is the year it starts in) and ends before the first of them;
 * `starts_on: ""` leaves a date as it is. */
export function calendar(open: string): { phase: string; starts_on: string; ends_on: string }[] {
  const k = PHASES.indexOf(open);
  expect(k).toBeGreaterThanOrEqual(0);
  const phases = PHASES.map((phase, i) =>
    i < k
      ? { phase, starts_on: day(-3 - 2 * (k - i)), ends_on: day(-2 - 2 * (k - i)) }
      : { phase, starts_on: day(10 * (i - k) - 3), ends_on: day(10 * (i - k) + 3) },
  );
  return [{ phase: "needs_survey", starts_on: "", ends_on: day(-4 - 2 * k) }, ...phases];
}
