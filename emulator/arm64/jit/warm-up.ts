// The translator's warm-up (settings.ts DEFAULT_WARMUP, DEFAULT_WARM_HEAT): before the guest has
// run that many instructions nothing is sent to the translation worker, which is not even started;
// a run that short is cheaper on the wasm interpreter than the worker's start and compiles on 2
// cores. A page very hot already is translated on the guest's thread meanwhile (runtime.ts
// translateHot), and none is optimized (the worker's work).
import type { DecodedPage } from '../code-cache.ts';
import { jitSettings } from './settings.ts';

/** The instruction count a warm-up waits for (the CPU's retired instructions). */
interface Counted {
  readonly instret: number;
}

export class WarmUp {
  /** Set once the CPUs have run jitSettings.warmup instructions: for good. */
  over = jitSettings.warmup <= 0;
  /** The CPUs that have had a hot page: the warm-up counts their instructions. */
  private readonly cpus: Counted[] = [];

  /** Whether the warm-up still holds translation back when `cpu` has a hot page. */
  holds(cpu: Counted): boolean {
    if (this.over) return false;
    if (!this.cpus.includes(cpu)) this.cpus.push(cpu);
    let n = 0;
    for (const c of this.cpus) n += c.instret;
    this.over = n >= jitSettings.warmup;
    return !this.over;
  }

  /**
   * A hot page during the warm-up: whether it is very hot already (DEFAULT_WARM_HEAT) and so
   * translated now, by the baseline compiler; else it stays on the wasm interpreter, and its heat
   * counts again from 0. A translated page asking to be optimized asks again after another
   * OPTIMIZE_AFTER instructions.
   */
  veryHot(page: DecodedPage): boolean {
    if (page.code !== null) {
      page.optimized = false;
      page.work = 0;
      return false;
    }
    page.warmHeat += page.heat;
    page.heat = 0;
    return page.warmHeat >= jitSettings.warmHeat;
  }
}
