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

/** One refresh at a time, however many calls found the token expired. */
function refreshOnce(): Promise<boolean> {
  refreshing ??= refresh().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

// A copy of each request made before it is sent (sending uses its body
// up), for the retry after a refresh.
const copies = new WeakMap<Request, Request>();

const auth: Middleware = {
  async onRequest({ request }) {
    const s = current();
    if (s) request.headers.set("authorization", `Bearer ${s.access}`);
    copies.set(request, request.clone());
    return request;
  },
  async onResponse({ request, response }) {
    if (response.status !== 401 || !current() || request.url.includes("/auth/")) return response;
    if (!(await refreshOnce())) return response;
    const retry = copies.get(request) ?? request;
    retry.headers.set("authorization", `Bearer ${current()?.access ?? ""}`);
    return fetch(retry);
  },
};
api.use(auth);

/** `fetch` with the session's token and the same one refresh on a 401,
 * for what the typed client does not send (files up and down). */
export async function authFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const go = () => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${current()?.access ?? ""}`);
    return fetch(path, { ...init, headers });
  };
  const r = await go();
  if (r.status === 401 && current() && (await refreshOnce())) return go();
  return r;
}

/** Ends the session on the server too (its refresh token is revoked). */
export async function signOut(): Promise<void> {
  const s = current();
  if (s) {
    await fetch("/api/v1/auth/logout", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${s.access}` },
      body: JSON.stringify({ refresh_token: s.refresh }),
    }).catch(() => undefined);
  }
  save(null);
}

/** The problem+json `detail` of a failed call, for the user. */
export function problem(error: unknown, fallback: string): string {
  const e = error as { detail?: string } | undefined;
  return e?.detail || fallback;
}
