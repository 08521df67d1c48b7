// The campaign most screens work in: the newest one the user may see.
import { useEffect, useState } from "preact/hooks";
import { api } from "./api/client";
import type { components } from "./api/schema";

export type Campaign = components["schemas"]["Campaign"];

/** The newest campaign (`undefined` while loading, `null` when none);
 * `reload` reads it again (after the calendar moved, say). */
export function useCampaign(): [Campaign | null | undefined, () => Promise<void>] {
  const [campaign, setCampaign] = useState<Campaign | null | undefined>(undefined);
  const load = async () => {
    const { data } = await api.GET("/api/v1/campaigns", { params: { query: { limit: 1 } } });
    const first = data?.items?.[0];
    if (!first?.id) {
      setCampaign(null);
      return;
    }
    // The list's entries are summaries; the campaign itself has the calendar.
    const { data: full } = await api.GET("/api/v1/campaigns/{id}", { params: { path: { id: first.id } } });
    setCampaign(full ?? first);
  };
  useEffect(() => {
    load();
  }, []);
  return [campaign, load];
}

/** The scope of the user's grant of `role` (a provider, an organization). */
export function scopeOf(grants: { role?: string; scope_id?: string }[], role: string): string {
  return grants.find((g) => g.role === role)?.scope_id ?? "";
}
