import { describe, expect, it } from "vitest";
import { MemoryStorage } from "./test_storage";
import { MAX_PICKS, add, load, move, remove, request, save } from "./shortlist";

const pick = (g: string) => ({ group_id: g, program_id: `p-${g}`, title: `Программа ${g}` });

const memory = () => new MemoryStorage();

describe("the shortlist", () => {
  it("adds a group once, and at most ten", () => {
    let list = add(add([], pick("a")), pick("a"));
    expect(list.map((p) => p.group_id)).toEqual(["a"]);
    for (let i = 0; i < 20; i++) list = add(list, pick(`g${i}`));
    expect(list).toHaveLength(MAX_PICKS);
  });

  it("moves a group up and down within the list, and removes it", () => {
    const list = ["a", "b", "c"].map(pick);
    expect(move(list, 2, -1).map((p) => p.group_id)).toEqual(["a", "c", "b"]);
    expect(move(list, 0, -1)).toBe(list);
    expect(move(list, 2, 1)).toBe(list);
    expect(remove(list, "b").map((p) => p.group_id)).toEqual(["a", "c"]);
  });

  it("is sent as the first group and the others as fallbacks, in order", () => {
    expect(request(["a", "b", "c"].map(pick), "7KQ2-XM4P-0D9R-WT3F")).toEqual({
      group_id: "a",
      unique_number: "7KQ2-XM4P-0D9R-WT3F",
      fallback_group_ids: ["b", "c"],
    });
  });

  it("keeps the groups of this year's campaign only", () => {
    const store = memory();
    save("u1", [{ ...pick("old"), campaign_id: "2025" }, { ...pick("new"), campaign_id: "2026" }], store);
    expect(load("u1", "2026", store).map((p) => p.group_id)).toEqual(["new"]);
  });

  it("is kept per user, and an unreadable one is empty", () => {
    const store = memory();
    save("u1", ["a", "b"].map(pick), store);
    expect(load("u1", undefined, store).map((p) => p.group_id)).toEqual(["a", "b"]);
    expect(load("u2", undefined, store)).toEqual([]);
    store.setItem("pd.shortlist.u3", "{not json");
    expect(load("u3", undefined, store)).toEqual([]);
    save("u1", [], store);
    expect(store.getItem("pd.shortlist.u1")).toBeNull();
  });
});
