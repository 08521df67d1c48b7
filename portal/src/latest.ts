// Reads of which only the latest one's answer counts: a screen that reads
// again when a filter changes may get the earlier answer last.
import { useRef } from "preact/hooks";

/** A wrapper giving each read's answer, or `undefined` when a later read
 * has started since (its answer is the one to show). */
export function useLatest(): <T>(read: Promise<T>) => Promise<T | undefined> {
  const runs = useRef(0);
  return async (read) => {
    const mine = ++runs.current;
    const answer = await read;
    return mine === runs.current ? answer : undefined;
  };
}
