// An educator's ranked list of groups, possibly of several programs, for
// the December window: sent as one application (the first group, the
// others as `fallback_group_ids`), so that when the window opens and
// whole programs fill within minutes one request takes a seat in the
// first group that still has one, instead of a refusal per group.
// Kept in the browser (per user) until the educator clears it.

/** A group on the list, with what the list shows of it. */
export interface Pick {
  group_id: string;
  program_id: string;
  title: string;
  starts_on?: string;
  ends_on?: string;
  /** Online, or the address of the classes. */
  place?: string;
  /** The campaign whose window the group is of: a list outlives it. */
  campaign_id?: string;
}

/** The group applied to and the API's nine fallbacks. */
export const MAX_PICKS = 10;

/** The list with `pick` last; unchanged if it is there or the list is full. */
export function add(list: Pick[], pick: Pick): Pick[] {
  if (list.length >= MAX_PICKS || list.some((p) => p.group_id === pick.group_id)) return list;
  return [...list, pick];
}

/** The list without the group. */
export function remove(list: Pick[], group: string): Pick[] {
  return list.filter((p) => p.group_id !== group);
}

/** The list with the pick at `index` moved `by` places (-1: up), within bounds. */
export function move(list: Pick[], index: number, by: number): Pick[] {
  const to = index + by;
  if (index < 0 || index >= list.length || to < 0 || to >= list.length) return list;
  const out = [...list];
  const [p] = out.splice(index, 1);
  out.splice(to, 0, p);
  return out;
}

/** The application's body for the list, in its order. */
export function request(list: Pick[], number: string): { group_id: string; unique_number: string; fallback_group_ids: string[] } {
  return {
    group_id: list[0]?.group_id ?? "",
    unique_number: number,
    fallback_group_ids: list.slice(1).map((p) => p.group_id),
  };
}

const key = (user: string) => `pd.shortlist.${user}`;

/** The user's list as saved in this browser, of `campaign` only when
 * given (last year's groups are gone); empty if none or unreadable. */
export function load(user: string, campaign?: string, store: Storage = localStorage): Pick[] {
  try {
    const parsed = JSON.parse(store.getItem(key(user)) ?? "[]");
    if (!Array.isArray(parsed)) return [];
    const picks: Pick[] = parsed.filter((p) => typeof p?.group_id === "string");
    return picks.filter((p) => !campaign || p.campaign_id === campaign).slice(0, MAX_PICKS);
  } catch {
    return [];
  }
}

export function save(user: string, list: Pick[], store: Storage = localStorage): void {
  if (list.length === 0) store.removeItem(key(user));
  else store.setItem(key(user), JSON.stringify(list));
}
