import { describe, expect, it } from "vitest";
import { nextPoll, retryAfter, stale } from "./polling";

describe("polling", () => {
  it("reads again after its interval when nothing asked otherwise", () => {
    expect(nextPoll(5000, [], 0.5)).toBe(5000);
    expect(nextPoll(5000, [1, 2], 0.5)).toBe(5000);
  });

  it("waits as long as the longest Retry-After asked", () => {
    expect(nextPoll(5000, [1, 30, 7], 0.5)).toBe(30_000);
  });

  it("spreads the screens' reads by a fifth either way", () => {
    expect(nextPoll(5000, [], 0)).toBe(4000);
    expect(nextPoll(5000, [], 0.999)).toBeGreaterThan(5990);
    expect(nextPoll(5000, [], 0.999)).toBeLessThan(6000);
    const waits = Array.from({ length: 100 }, () => nextPoll(5000, []));
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(4000);
    expect(Math.max(...waits)).toBeLessThan(6000);
  });

  it("takes Retry-After only from refused answers, one second when unsaid", () => {
    const busy = new Response(null, { status: 503, headers: { "retry-after": "12" } });
    expect(retryAfter(busy)).toEqual([12]);
    expect(retryAfter(new Response(null, { status: 429 }))).toEqual([1]);
    expect(retryAfter(new Response(null, { status: 200 }))).toEqual([]);
  });

  it("calls a figure stale once two reads in a row were missed", () => {
    expect(stale(undefined, 100_000, 5000)).toBe(false);
    expect(stale(90_000, 100_000, 5000)).toBe(false);
    expect(stale(89_999, 100_000, 5000)).toBe(true);
  });
});
