// The signed-in session: the platform's access and refresh tokens, kept
// for the browser tab only (sessionStorage). An expired access token is
// refreshed once; when that fails the session ends and says so.

const KEY = "pd.session";

export interface Session {
  access: string;
  refresh: string;
}

let listeners: Array<(s: Session | null, expired: boolean) => void> = [];

export function current(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as Session;
  } catch {
    return null;
  }
}

export function save(s: Session | null, expired = false): void {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
  listeners.forEach((l) => l(s, expired));
}

export function onChange(l: (s: Session | null, expired: boolean) => void): () => void {
  listeners.push(l);
  return () => {
    listeners = listeners.filter((x) => x !== l);
  };
}
