// The navigation a user sees is built from their roles only: nothing is
// offered that the API would refuse.
import { t } from "./i18n";

export interface Grant {
  role?: string;
  scope_id?: string;
}

export interface NavItem {
  path: string;
  label: string;
}

export function navigation(grants: Grant[]): NavItem[] {
  const has = (r: string) => grants.some((g) => g.role === r);
  const items: NavItem[] = [{ path: "/", label: t.nav.home }, { path: "/catalog", label: t.nav.catalog }];
  if (has("educator")) {
    items.push({ path: "/windows", label: t.nav.windows });
    items.push({ path: "/shortlist", label: t.nav.shortlist });
    items.push({ path: "/applications", label: t.nav.applications });
    items.push({ path: "/documents", label: t.nav.documents });
  }
  const operator = has("org_operator") || has("municipal_operator") || has("regional_operator");
  if (operator || has("admin")) {
    items.push({ path: "/imports", label: t.nav.imports });
    items.push({ path: "/records", label: t.nav.records });
    items.push({ path: "/candidates", label: t.nav.candidates });
  }
  if (operator) {
    items.push({ path: "/allocation", label: t.nav.allocation });
    items.push({ path: "/enrollment", label: t.nav.enrollment });
  }
  if (has("municipal_operator") || has("regional_operator") || has("ministry")) {
    items.push({ path: "/dashboard", label: t.nav.dashboard });
  }
  if (has("regional_operator")) {
    items.push({ path: "/review", label: t.nav.review });
  }
  if (has("expert")) {
    items.push({ path: "/expert", label: t.nav.expert });
  }
  if (has("council_member") || has("regional_operator") || has("ministry")) {
    items.push({ path: "/council", label: t.nav.council });
  }
  if (has("ministry")) {
    items.push({ path: "/campaign", label: t.nav.campaign });
  }
  if (has("provider_admin")) {
    items.push({ path: "/programs", label: t.nav.programs });
    items.push({ path: "/completions", label: t.nav.completions });
  }
  if (has("regional_operator") || has("ministry") || has("provider_admin")) {
    items.push({ path: "/quality", label: t.nav.quality });
  }
  return items;
}
