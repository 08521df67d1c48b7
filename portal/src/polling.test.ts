import { describe, expect, it } from "vitest";
import { nextPoll, retryAfter } from "./polling";

describe("polling", () => {
  it("reads again after its interval when nothing asked otherwise", () => {
    expect(nextPoll(5000, [])).toBe(5000);
    expect(nextPoll(5000, [1, 2])).toBe(5000);
  });

  it("waits as long as the longest Retry-After asked", () => {
    expect(nextPoll(5000, [1, 30, 7])).toBe(30_000);
  });

  it("takes Retry-After only from refused answers, one second when unsaid", () => {
    const busy = new Response(null, { status: 503, headers: { "retry-after": "12" } });
    expect(retryAfter(busy)).toEqual([12]);
    expect(retryAfter(new Response(null, { status: 429 }))).toEqual([1]);
    expect(retryAfter(new Response(null, { status: 200 }))).toEqual([]);
  });
});
