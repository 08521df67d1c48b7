import { describe, expect, it } from "vitest";
import { isFinal, keyFor, sendOnce, settle } from "./idempotency";
import { MemoryStorage as Memory } from "./test_storage";

describe("idempotency keys", () => {
  it("stay the same for an action until it is settled", () => {
    const s = new Memory();
    const first = keyFor("apply:g1", s);
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(keyFor("apply:g1", s)).toBe(first);
    expect(keyFor("apply:g2", s)).not.toBe(first);
    settle("apply:g1", s);
    expect(keyFor("apply:g1", s)).not.toBe(first);
  });

  it("retry only what got no final answer", () => {
    expect(isFinal(undefined)).toBe(false);
    expect(isFinal(503)).toBe(false);
    expect(isFinal(429)).toBe(false);
    expect(isFinal(500)).toBe(false);
    expect(isFinal(201)).toBe(true);
    expect(isFinal(409)).toBe(true);
  });
});

describe("sendOnce", () => {
  const answer = (status: number, headers: Record<string, string> = {}) => ({
    response: new Response(null, { status, headers }),
  });

  it("keeps the key over a lost answer and an overload, and settles it on a final one", async () => {
    const s = new Memory();
    const keys: string[] = [];
    const lost = await sendOnce("apply:g", async (k) => {
      keys.push(k);
      throw new TypeError("connection reset");
    }, s);
    expect(lost.answer).toBeNull();
    const busy = await sendOnce("apply:g", async (k) => (keys.push(k), answer(503, { "retry-after": "2" })), s);
    expect(busy).toEqual({ answer: null, retryAfter: 2 });
    const done = await sendOnce("apply:g", async (k) => (keys.push(k), answer(201)), s);
    expect(done.answer?.response.status).toBe(201);
    expect(new Set(keys).size).toBe(1);
    await sendOnce("apply:g", async (k) => (keys.push(k), answer(201)), s);
    expect(new Set(keys).size).toBe(2);
  });
});
