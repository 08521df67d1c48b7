// Idempotency keys for requests a user may have to repeat (the December
// application): one key per intended action, kept until the platform has
// answered for good, so a retry after a lost answer is the same request
// and never a second application.

/** A random key; `crypto.randomUUID` needs HTTPS, regional intranets may
 * serve the portal over plain HTTP, `getRandomValues` works on both. */
export function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The key of `action`, the same one until `settle(action)`. */
export function keyFor(action: string, store: Storage = sessionStorage): string {
  const name = `pd.idempotency.${action}`;
  let key = store.getItem(name);
  if (!key) {
    key = newKey();
    store.setItem(name, key);
  }
  return key;
}

/** The platform answered for good: the next try is a new request. */
export function settle(action: string, store: Storage = sessionStorage): void {
  store.removeItem(`pd.idempotency.${action}`);
}

/** Whether an answer is final, or the same request should be retried
 * (no answer, overload, too many requests, a gateway between). */
export function isFinal(status: number | undefined): boolean {
  // A 500 is not kept under its key either: the same request runs again.
  return status !== undefined && status !== 429 && status !== 500 && status !== 502 && status !== 503 && status !== 504;
}

/** An answer worth keeping: the response and whatever the client read. */
export interface Answered {
  response: Response;
}

/** Sends `action` under its key: `null` when the platform gave no final
 * answer (no answer, overload: the same request may go again, with the
 * `Retry-After` seconds when it said so); the answer otherwise, the key
 * then settled. */
export async function sendOnce<R extends Answered>(
  action: string,
  send: (key: string) => Promise<R>,
  store: Storage = sessionStorage,
): Promise<{ answer: R | null; retryAfter: number }> {
  let answer: R;
  try {
    answer = await send(keyFor(action, store));
  } catch {
    return { answer: null, retryAfter: 0 };
  }
  if (!isFinal(answer.response.status)) {
    return { answer: null, retryAfter: Number(answer.response.headers.get("retry-after") ?? "0") || 0 };
  }
  settle(action, store);
  return { answer, retryAfter: 0 };
}
