import { describe, expect, it } from "vitest";
import { toCsv } from "./csv";

describe("csv", () => {
  it("quotes what needs it, with the BOM Excel reads", () => {
    expect(toCsv(["ФИО", "Ранг"], [["Иванова; Анна", 1], ['"Кавычки"', 2]])).toBe(
      '\uFEFFФИО;Ранг\n"Иванова; Анна";1\n"""Кавычки""";2\n',
    );
  });
});
