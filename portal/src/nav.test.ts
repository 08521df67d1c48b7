import { describe, expect, it } from "vitest";
import { navigation } from "./nav";

describe("navigation", () => {
  it("offers an educator their applications and documents, not the analytics", () => {
    const paths = navigation([{ role: "educator", scope_id: "e" }]).map((i) => i.path);
    expect(paths).toEqual(["/", "/catalog", "/windows", "/shortlist", "/applications", "/documents"]);
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
    expect(paths).toEqual(["/", "/catalog", "/programs", "/completions", "/quality"]);
  });

  it("offers experts their assignments, the council its sessions, the ministry the campaign", () => {
    const expert = navigation([{ role: "expert", scope_id: "r" }]).map((i) => i.path);
    expect(expert).toEqual(["/", "/catalog", "/expert"]);
    const council = navigation([{ role: "council_member", scope_id: "r" }]).map((i) => i.path);
    expect(council).toEqual(["/", "/catalog", "/council"]);
    const ministry = navigation([{ role: "ministry", scope_id: "r" }]).map((i) => i.path);
    expect(ministry).toContain("/campaign");
    expect(ministry).toContain("/council");
    expect(ministry).not.toContain("/review");
  });

  it("offers the regional operator the review of programs and the council", () => {
    const paths = navigation([{ role: "regional_operator", scope_id: "r" }]).map((i) => i.path);
    expect(paths).toContain("/review");
    expect(paths).toContain("/council");
    expect(paths).not.toContain("/expert");
  });

  it("offers an anonymous visitor the public catalog only", () => {
    expect(navigation([]).map((i) => i.path)).toEqual(["/", "/catalog"]);
  });

  it("offers operators allocation and applications, and the overview from the municipality up", () => {
    const org = navigation([{ role: "org_operator", scope_id: "o" }]).map((i) => i.path);
    expect(org).toContain("/allocation");
    expect(org).toContain("/enrollment");
    expect(org).not.toContain("/dashboard");
    const municipal = navigation([{ role: "municipal_operator", scope_id: "m" }]).map((i) => i.path);
    expect(municipal).toContain("/dashboard");
    expect(navigation([{ role: "educator", scope_id: "e" }]).map((i) => i.path)).not.toContain("/enrollment");
  });
});
