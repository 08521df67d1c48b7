import { describe, expect, it } from "vitest";
import { countdown, formatDate, formatDateTime, startOfDay, today } from "./dates";

describe("dates in the region's zone", () => {
  it("writes calendar dates as Russians do", () => {
    expect(formatDate("2026-12-01")).toBe("01.12.2026");
    expect(formatDate("")).toBe("");
  });

  it("shows an instant in the region's zone, not the browser's", () => {
    // 21:30 UTC is already the next day in Moscow (UTC+3) and Samara (UTC+4).
    expect(formatDateTime("2026-11-30T21:30:00Z", "Europe/Moscow")).toBe("01.12.2026, 00:30");
    expect(formatDateTime("2026-11-30T21:30:00Z", "Europe/Samara")).toBe("01.12.2026, 01:30");
  });

  it("finds when a day starts in the zone", () => {
    expect(new Date(startOfDay("2026-12-01", "Europe/Moscow")).toISOString()).toBe("2026-11-30T21:00:00.000Z");
    expect(new Date(startOfDay("2026-12-01", "Asia/Vladivostok")).toISOString()).toBe("2026-11-30T14:00:00.000Z");
    expect(today("Europe/Moscow", Date.parse("2026-11-30T21:30:00Z"))).toBe("2026-12-01");
  });

  it("counts down in days, hours, minutes and seconds", () => {
    expect(countdown(((2 * 24 + 3) * 3600 + 4 * 60 + 5) * 1000)).toBe("2 д 03:04:05");
    expect(countdown(59_000)).toBe("00:00:59");
    expect(countdown(-5)).toBe("00:00:00");
  });
});
