// Which instructions of a hot page to translate: those reachable from the entries the run loop
// has seen (page entries and in-page branch targets), following fall-through and direct branches
// inside the page. Most pages mix hot code with cold code, data and padding; translating only the
// reachable part keeps modules small and compiles fast (v86 likewise compiles only the basic
// blocks it has seen entered). An unreached instruction becomes a stub that returns at once; the
// run loop interprets it, records the new entry, and retranslates the page when misses add up.
import type { Exec } from '../decode/pattern.ts';
import * as s from '../exec/int-sys.ts';

const INSNS = 1024;

/** Direct branches: [handler, has fall-through]. */
const DIRECT = new Map<unknown, boolean>([
  [s.b, false],
  [s.bl, true],
  [s.bcond, true],
  [s.cbz64, true],
  [s.cbz32, true],
  [s.tbz, true],
]);
/** No fall-through and no static target. */
const END = new Set<unknown>([s.br, s.eret]);

/** The in-page index a direct branch at i goes to (may be outside 0..1023), or -1 if not one. */
export function directTarget(fn: Exec | undefined, args: { off?: number } | undefined, i: number): number {
  return DIRECT.has(fn) ? i + (args!.off! >> 2) : -1;
}

/**
 * 1 for each instruction reachable from `entries` (1 = entered). `decode(i)` fills fns[i]/args[i]
 * where still undefined: only what is reached gets decoded (data in code pages stays undecoded).
 */
export function reachable(fns: readonly (Exec | undefined)[], args: readonly { off?: number }[], entries: Uint8Array, decode: (i: number) => void): Uint8Array {
  const live = new Uint8Array(INSNS);
  const work: number[] = [];
  for (let i = 0; i < INSNS; i++) if (entries[i]) work.push(i);
  while (work.length > 0) {
    let i = work.pop()!;
    // Walk the straight line from i, queueing branch targets.
    while (i < INSNS && !live[i]) {
      live[i] = 1;
      if (fns[i] === undefined) decode(i);
      const fn = fns[i];
      const direct = DIRECT.get(fn);
      if (direct !== undefined) {
        const t = i + (args[i]!.off! >> 2);
        if (t >= 0 && t < INSNS && !live[t]) work.push(t);
        if (!direct) break;
      } else if (END.has(fn)) break;
      i++;
    }
  }
  return live;
}
