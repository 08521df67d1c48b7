// Screens that read a figure again on a timer (the seats left while the
// application window is open). At the window's opening thousands of them
// are open at once, and the gateway refuses their reads first when it is
// busy (503 with Retry-After): a screen then waits as long as it is asked
// before reading again, instead of adding to the load.

/** The wait before the next read: the screen's interval, or longer when
 * an answer asked for it (Retry-After, in seconds), spread by ±20 %
 * (`draw` in [0, 1)) so that the screens opened at the same second do not
 * all read again at the same second. */
export function nextPoll(intervalMs: number, retryAfterSeconds: number[], draw: number = Math.random()): number {
  const asked = retryAfterSeconds.filter((s) => Number.isFinite(s) && s > 0);
  const wait = Math.max(intervalMs, ...asked.map((s) => s * 1000));
  return Math.floor(wait * (0.8 + 0.4 * draw));
}

/** The Retry-After of a refused answer (503, 429), else none. */
export function retryAfter(response: Response): number[] {
  if (response.status !== 503 && response.status !== 429) return [];
  return [Number(response.headers.get("retry-after") ?? "1") || 1];
}

/** Whether a figure read at `readAt` is older than two intervals at
 * `now` (its reads were refused since): the screen then says when it
 * was read, so that an educator does not take it for the present. */
export function stale(readAt: number | undefined, now: number, intervalMs: number): boolean {
  return readAt !== undefined && now - readAt > 2 * intervalMs;
}
