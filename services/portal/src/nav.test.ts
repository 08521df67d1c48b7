import { describe, expect, it } from "vitest";
import { navigation } from "./nav";

describe("navigation", () => {
  it("offers an educator their applications and documents, not the analytics", () => {
    const paths = navigation([{ role: "educator", scope_id: "e" }]).map((i) => i.path);
    expect(paths).toEqual(["/", "/catalog", "/windows", "/applications", "/documents"]);
  });

  it("offers the regional operator the analytics, not an educator's screens", () => {
    const paths = navigation([{ role: "regional_operator", scope_id: "r" }]).map((i) => i.path);
    expect(paths).toContain("/quality");
    expect(paths).not.toContain("/applications");
  });

  it("offers operators the staff import", () => {
    const paths = navigation([{ role: "org_operator", scope_id: "o" }]).map((i) => i.path);
    expect(paths).toContain("/imports");
    expect(paths).toContain("/candidates");
    expect(paths).not.toContain("/quality");
  });

  it("offers a provider the completions upload and its programs' quality", () => {
    const paths = navigation([{ role: "provider_admin", scope_id: "p" }]).map((i) => i.path);
    expect(paths).toEqual(["/", "/catalog", "/completions", "/quality"]);
  });

  it("offers an anonymous visitor the public catalog only", () => {
    expect(navigation([]).map((i) => i.path)).toEqual(["/", "/catalog"]);
  });
});
