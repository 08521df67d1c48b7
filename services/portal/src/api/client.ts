// The gateway's API, typed from its OpenAPI document (`npm run api`
// generates schema.d.ts from it): a changed API breaks the type check,
// not the users. Every call carries the session's token; a 401 refreshes
// it once and retries.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import { current, save } from "../session";

export const api = createClient<paths>({ baseUrl: "" });

let refreshing: Promise<boolean> | null = null;

/** Trades the refresh token for new tokens; `false` ends the session. */
async function refresh(): Promise<boolean> {
  const s = current();
  if (!s) return false;
  const r = await fetch("/api/v1/auth/refresh", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ refresh_token: s.refresh }),
  });
  if (!r.ok) {
    save(null, true);
    return false;
  }
  const t = (await r.json()) as { access_token?: string; refresh_token?: string };
  save({ access: t.access_token ?? "", refresh: t.refresh_token ?? "" });
  return true;
}

const auth: Middleware = {
  async onRequest({ request }) {
    const s = current();
    if (s) request.headers.set("authorization", `Bearer ${s.access}`);
    return request;
  },
  async onResponse({ request, response }) {
    if (response.status !== 401 || !current() || request.url.includes("/auth/")) return response;
    refreshing ??= refresh().finally(() => {
      refreshing = null;
    });
    if (!(await refreshing)) return response;
    const retry = request.clone();
    retry.headers.set("authorization", `Bearer ${current()?.access ?? ""}`);
    return fetch(retry);
  },
};
api.use(auth);

/** The problem+json `detail` of a failed call, for the user. */
export function problem(error: unknown, fallback: string): string {
  const e = error as { detail?: string } | undefined;
  return e?.detail || fallback;
}
