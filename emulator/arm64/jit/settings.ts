// The translator's settings, its tiers' V8 flags and its figures (the bench's, --stats' `jit:`
// line). Settings are read once, before CPUs are made (the CLI's --interpreter sets SHYPER_JIT=0):
//   SHYPER_JIT=0              interpreter only
//   SHYPER_JIT_THRESHOLD=N    translate a page after N+1 block entries into it (0: at the first)
//   SHYPER_JIT_WARMUP=N       translate nothing until the machine's CPUs have run N instructions
//                             (DEFAULT_WARMUP; 0: from the start; a threshold of 0 ignores it)
//   SHYPER_WINTERP=0          pages not translated run on the JavaScript interpreter, not on the
//                             wasm interpreter (winterp.ts)
//   SHYPER_JIT_OPTIMIZE_AFTER=N  compile a translated page again with the optimizing compiler once
//                             it has run N instructions (0: after its first run)
//   SHYPER_JIT_DEFER=N        a page with no inner loop gets no baseline translation from the
//                             worker: it is translated optimized once N times hotter (DEFER_HEAT;
//                             0: no page is declined)
//   SHYPER_JIT_BACKGROUND=0   translate on the guest's thread, not on a worker (background.ts);
//                             a threshold of 0 (translate at the first entry) always does
//   SHYPER_JIT_CACHE=FILE     the translation cache on disk (persist.ts): pages translated by the
//                             worker are kept there and installed when a later run meets the same
//                             words; unset, empty or 0: none. Used only with
//   SHYPER_JIT_CACHE_VERSION  the translator's build it is valid for: the launcher sets its bundle's
//                             stamp (and a cache file beside the bundle by default); run from the
//                             sources, there is no cache unless a test sets both
import { setFlagsFromString } from 'node:v8';
import { holdDoubles } from '../double-fields.ts';

/**
 * Block entries (and, on the wasm interpreter, taken branches) into a page before it is
 * translated. Since the wasm interpreter (winterp.ts) runs lukewarm code about as fast as its
 * translation, only really hot pages pay for the worker's ~3 ms: at 200000 rather than 20000 the
 * kit boot is 5-7% faster on 1 and 4 CPUs (0.3 s less CPU), Debian's generic kernel the same
 * (2.6-2.7 s, 0.4 s less CPU, 40 MB less RSS), bench-int and bench-mix the same (session 11).
 */
export const DEFAULT_THRESHOLD = 200000;

/**
 * Instructions the guest runs (its CPUs together) before any page is translated: a run shorter
 * than this stays on the wasm interpreter, and the translation worker is not even started. The
 * translator has a fixed cost that only a longer run pays back: starting the worker costs ~50 ms
 * of thread start and ~65 ms of compiling its bundle, on a core the guest's thread shares with
 * V8's compiler thread on 2 cores, and a page's translation ran the kit's hottest page (inflate,
 * 30 M instructions) at ~1.5 ns an instruction against the wasm interpreter's ~2.9 there. Measured
 * on the cold kit boot (66 M instructions), 10 alternating runs: 759 ms with the translator as
 * before, 684 ms with none (no worker) -- the idle worker's start alone cost 67 ms (718 vs 651).
 * With the translator held back for 100 M instructions (and the worker started at the first
 * request): Debian's generic kernel (917 M) 2.14 s against 2.19-2.37, bench-mix 1.28 s against
 * 1.27, the rk3588 VM set (389 M) 3.55 s against 3.69: long runs lose nothing (session 18).
 */
export const DEFAULT_WARMUP = 100_000_000;

/**
 * Heat (block entries, taken branches) that gets a page translated during the warm-up all the
 * same: on the guest's thread, by the baseline compiler (~5-20 ms), without starting the worker.
 * A short program that runs a few tight loops gains from translation at once: bench-int (65 M
 * instructions) ran at 68 MIPS on the wasm interpreter alone against ~180 translated. The kit
 * boot's hottest page (inflate) reaches ~1 M at 32 M instructions, and this would translate it
 * for its last 20 M (21 ms of compile for ~29 ms gained: nothing either way); at 4 M nothing of
 * the kit is (session 18).
 */
export const DEFAULT_WARM_HEAT = 4_000_000;

// Two tiers, both chosen by us rather than by V8's dynamic tiering: a page is first compiled by
// V8's baseline wasm compiler (Liftoff, fast to compile), and compiled again by its optimizing
// compiler (TurboFan, ~2x the compile time, up to 2x faster code) once it has run OPTIMIZE_AFTER
// instructions. V8's own tier-up recompiled every warm page function in the background: on the
// kit boot, 7.1 s and 575 MB RSS against 4.5 s and 205 MB without it. The flags' resting state is
// the optimizing compiler's (the wasm interpreter's, compiled once at start: the launcher starts
// that compile before anything else, and V8 reads the flags for it while the bundle loads), and
// translate.ts switches to the baseline compiler around each baseline page compile, so compiles
// must be eager (V8 compiles wasm lazily by default, at the first call). Set before the first
// module is compiled (flags are read then). V8's tier-up flag is off at rest too: --liftoff-only
// turns it off by implication and --no-liftoff-only does not turn it back on, so a process
// that compiled a baseline page had other flags at exit than at start, and V8 refused the code
// cache of the bundle made then (bin/bundle.js) at every boot.
setFlagsFromString('--no-wasm-tier-up');
setFlagsFromString('--no-liftoff');
setFlagsFromString('--no-wasm-lazy-compilation');

/**
 * Instructions a translated page runs (counted per entry from the run loop, a chain's work going
 * to the page it started in) before it is compiled again by the optimizing compiler. An
 * optimizing compile of a page costs 30-170 ms of the worker's thread (against 3-10 ms for the
 * baseline), none of the guest's; its code is faster (bench-mix, loops: 1.3x; Debian's pages
 * translated only at a lower threshold ran ~4.2 ns an instruction in baseline code, its optimized
 * hot page ~0.75). 5 M (20 M until session 13) gets the kit's hot page optimized ~100 ms sooner:
 * kit run -2..6%, 4 CPUs -1.5%, Debian and bench-mix the same, in alternating runs; only pages
 * that keep running reach it (the kit optimizes one).
 */
export const DEFAULT_OPTIMIZE_AFTER = 5_000_000;

/**
 * Heat (block entries, taken branches), in thresholds, a page whose baseline translation was
 * declined must gather before it is translated by the optimizing compiler instead. Declined: the
 * first translation of a page with no inner loop (translate.ts), when the worker does it. Such
 * code is entered at every call into the page and every return to it, and V8's baseline code pays
 * ~20-40 ns at each entry (zeroing locals, two stack checks, a binary search for the entry): on a
 * program of many small functions calling each other (kernel-style code) pages translated that way
 * ran ~2x slower than on the wasm interpreter, which goes from page to page within one function.
 */
export const DEFER_HEAT = 8;

/** A malformed SHYPER_JIT_* setting, for the command line to report as a usage error (exit 2). */
export let jitSettingsError: string | null = null;

export const jitSettings = {
  enabled: process.env.SHYPER_JIT !== '0',
  background: process.env.SHYPER_JIT_BACKGROUND !== '0',
  /** The wasm interpreter (winterp.ts) for pages not translated; SHYPER_WINTERP=0 leaves them to the JavaScript one. */
  wasmInterpreter: process.env.SHYPER_WINTERP !== '0',
  threshold: parseThreshold(process.env.SHYPER_JIT_THRESHOLD, 'SHYPER_JIT_THRESHOLD', DEFAULT_THRESHOLD),
  warmup: parseThreshold(process.env.SHYPER_JIT_WARMUP, 'SHYPER_JIT_WARMUP', DEFAULT_WARMUP),
  /** DEFAULT_WARM_HEAT (a setting for tests). */
  warmHeat: DEFAULT_WARM_HEAT,
  optimizeAfter: parseThreshold(process.env.SHYPER_JIT_OPTIMIZE_AFTER, 'SHYPER_JIT_OPTIMIZE_AFTER', DEFAULT_OPTIMIZE_AFTER),
  /** DEFER_HEAT, or 0: every page gets a baseline translation first, none is declined. */
  deferHeat: parseThreshold(process.env.SHYPER_JIT_DEFER, 'SHYPER_JIT_DEFER', DEFER_HEAT),
  /** The translation cache's file (persist.ts), or null: none. */
  cacheFile: cacheFile(),
  /** What its records are valid for: the translator's build (and the debug choice of emitters). */
  cacheVersion: `${process.env.SHYPER_JIT_CACHE_VERSION ?? ''}|${process.env.SHYPER_JIT_EMITTERS ?? ''}`,
};

/** SHYPER_JIT_CACHE, when set (not empty or 0) with the build stamp its records need (SHYPER_JIT_CACHE_VERSION). */
function cacheFile(): string | null {
  const f = process.env.SHYPER_JIT_CACHE;
  if (f === undefined || f === '' || f === '0' || !process.env.SHYPER_JIT_CACHE_VERSION) return null;
  return f;
}

function parseThreshold(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    jitSettingsError ??= `${name} must be a whole number >= 0 (got '${v}')`;
    return dflt;
  }
  return n;
}

/** Whole-process figures (bench, tests). */
export const jitStats = {
  pages: 0,
  translateMs: 0,
  /** Calls from the run loop into translated code (chained page changes are not counted). */
  entries: 0,
  /** Instructions given an emitter / left to a helper call, over all pages translated. */
  translated: 0,
  calls: 0,
  failures: 0,
  /** Pages compiled again by the optimizing compiler, and the time that took (in translateMs too). */
  optimized: 0,
  optimizeMs: 0,
  /** Pages whose baseline translation was declined (DEFER_HEAT). */
  deferred: 0,
  /** Instructions translated code ran (the rest of a run was interpreted). */
  ran: 0,
  /** Instructions the wasm interpreter ran (winterp.ts), and the slots it had packed in JavaScript (the rest came from its memo). */
  wran: 0,
  /** Calls from the run loop into the wasm interpreter (it goes from page to page without them). */
  wentries: 0,
  wpacked: 0,
  /** Its calls of the interpreter's handlers (everything it has no operation for, soft-TLB misses). */
  whelper: 0,
  /**
   * Pages that got hot: asked for from the translator for the first time (a page declined and
   * asked for again is counted once). Unlike pages, it does not depend on when the background
   * compiler's replies come back, only (a little) on which pages ran translated meanwhile.
   */
  hot: 0,
  /** Translation workers started (background.ts): 0 while the warm-up holds translation back. */
  workers: 0,
  /** Pages translated by the background compiler (background.ts), counted in pages too. */
  background: 0,
  /** Pages whose translation came from the translation cache (persist.ts), counted in pages too. */
  cached: 0,
  /** Pages whose words the translation cache held when first fetched (installed or not: cached counts those installed). */
  cacheHits: 0,
};
// Every figure a double (times are fractions, counts pass 2^31): the run loop counts into it
// (double-fields.ts).
holdDoubles(jitStats, Object.keys(jitStats));

/** The `jit:` line of --stats: the translator's work in this process. */
export function jitStatsLine(): string {
  const j = jitStats;
  if (!jitSettings.enabled) return 'jit: off (interpreter)';
  return `jit: pages=${j.pages} translate-ms=${j.translateMs.toFixed(0)} emitted=${j.translated} helper-calls=${j.calls} failures=${j.failures} optimized=${j.optimized} optimize-ms=${j.optimizeMs.toFixed(0)} deferred=${j.deferred} hot=${j.hot} entries=${j.entries} ran=${j.ran} background=${j.background} cached=${j.cached} cache-hits=${j.cacheHits} wasm-interpreted=${j.wran} wasm-entries=${j.wentries} wasm-packed=${j.wpacked} wasm-helper-calls=${j.whelper} worker=${j.workers}`;
}
