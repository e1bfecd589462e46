// The translator's per-memory state: when a page is hot enough to translate, the compile itself
// (here or on the worker), the wasm interpreter's slot tables and memos. Its settings and figures
// are in settings.ts.
import { renameSync, writeFileSync } from 'node:fs';
import type { DecodedPage } from '../code-cache.ts';
import type { FeatureSet } from '../features.ts';
import type { Decoded, OpDef } from '../decode/pattern.ts';
import { compileModule, compilePage, instantiatePage, optimizedBytes, type Helper, type PageFn, type TranslateStats } from './translate.ts';
import { instantiateWasmInterpreter, pack, wasmInterpreterBytes, type WasmInterpreterFn } from './winterp.ts';
import { WORD_PACKERS } from './winterp-wordpack.ts';
import { keepMemosBeside, KeptMemos, memoStore } from './winterp-memo.ts';
import { OP_HELPER, TABLE_ENTRIES, TABLE_GEN, TABLE_HEAT, TABLE_RAM } from './winterp-ops.ts';
import { ARENA_BYTES, ARENA_MEMO_BYTES, ARENA_MEMOS, ARENA_TABLE_BYTES, ARENA_TABLES } from './guest-memory.ts';
import { backgroundCompiler, canStartBackgroundCompiler, MAX_IN_FLIGHT, type BackgroundCompiler, type PageReply } from './background.ts';
import { CodeTable } from './chain.ts';
import { WarmUp } from './warm-up.ts';
import { pageHash, TranslationCache, type CachedPage } from './persist.ts';
import { BUDGET_SLACK } from './emitter.ts';
import { jitSettings, jitStats } from './settings.ts';

/**
 * Records of the translation cache compiled as soon as it is read (persist.ts; the file lists
 * first those the last run used first); the others when a run first meets their words. All at
 * once measured no better on the kit or Debian boots, and would compile pages of other kernels.
 */
export const EAGER_RECORDS = 64;

/** The CPU the generated code is running for (one at a time: the machine runs CPUs in turn). */
export interface JitCpu {
  jitHelper(page: DecodedPage, n: number, idx: number, pcBase: number): number;
  /** Decode instruction i of a page into page.fns/args (what the translator reads). */
  jitDecode(page: DecodedPage, i: number): void;
  /** Block entries into a page before it is translated (0: at the first, synchronously). */
  readonly jitThreshold: number;
  /** Instructions it has retired (the translator's warm-up counts them: settings.ts DEFAULT_WARMUP). */
  readonly instret: number;
  /** The core's decoder: its features are what the background compiler decodes with. */
  readonly decoder: { readonly features: FeatureSet; match(word: number): OpDef | null; decode(word: number, keep?: boolean): Decoded; remember(word: number, d: Decoded): void };
}

export class Translator {
  /**
   * The CPU the generated code is running for, whose handler the helper calls (the run loop sets
   * it before entering code: one CPU runs at a time). A field, not a module binding, so setting
   * it costs no call.
   */
  current: JitCpu | null = null;

  /** The page functions' table (chain.ts): translated code goes from page to page through it. */
  readonly code: CodeTable;
  /**
   * Instructions left in the budget below which translated code returns to the run loop
   * (emitter.ts BUDGET_SLACK). Tests that step one instruction at a time set 1 before anything is
   * translated: every instruction is then checked, and even run(1) runs translated code.
   */
  slack = BUDGET_SLACK;

  /** Nothing goes to the worker before it is over (warm-up.ts). */
  private readonly warmUp = new WarmUp();

  /** The translation cache on disk (persist.ts), or null. */
  readonly persist: TranslationCache | null = null;
  /** Pages met before their cached module was compiled: installed when it is. */
  private readonly waiting = new Map<CachedPage, DecodedPage[]>();
  /** The records to compile at once, held until the warm-up is over (null: sent). */
  private eager: CachedPage[] | null = null;

  /**
   * The wasm interpreter (winterp.ts) over this memory, or null (SHYPER_WINTERP=0, or until the
   * launcher's compile of it is in: takeWasmInterpreter). The run loop sets `current` before
   * calling it; its imports find the page by its slot table (it goes on from page to page:
   * winterp-asm.ts leavePage).
   */
  winterp: WasmInterpreterFn | null = null;
  /** The page of each arena table (by table number), and the arena's address. */
  private readonly tablePages: (DecodedPage | null)[] = new Array<DecodedPage | null>(ARENA_TABLES).fill(null);
  private arena = 0;
  /** Free slot tables of the arena (wasm addresses); tables of dropped pages wait in `dropped`. */
  private readonly freeTables: number[] = [];
  private readonly dropped: number[] = [];
  /** Its memos of packed words, by decoder (winterp.ts fillFunction); free memo addresses. */
  private readonly memos = new Map<object, number>();
  private readonly freeMemos: number[] = [];
  /** Their sets' entries, and their copies on disk between runs (winterp-memo.ts). */
  readonly memosKept: KeptMemos;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  /** The memory as little-endian words (slots and memo entries are word aligned). */
  private readonly words: Int32Array;
  private readonly doubles: Float64Array;

  constructor(readonly memory: WebAssembly.Memory) {
    this.code = new CodeTable(memory);
    this.bytes = new Uint8Array(memory.buffer);
    this.view = new DataView(memory.buffer);
    this.words = new Int32Array(memory.buffer);
    this.doubles = new Float64Array(memory.buffer);
    const memos = memory.buffer.byteLength - ARENA_BYTES + ARENA_TABLES * ARENA_TABLE_BYTES;
    this.memosKept = new KeptMemos(this.bytes, memos);
    if (jitSettings.wasmInterpreter) {
      const arena = memory.buffer.byteLength - ARENA_BYTES;
      this.arena = arena;
      for (let i = ARENA_TABLES - 1; i >= 0; i--) this.freeTables.push(arena + i * ARENA_TABLE_BYTES);
      for (let i = ARENA_MEMOS - 1; i >= 0; i--) this.freeMemos.push(memos + i * ARENA_MEMO_BYTES);
      // (Made while the launcher's compile is still going: instantiated once it is in.)
      if (winterpTaking !== null) winterpTaking.push(this);
      else this.instantiateWasmInterpreter();
    }
    // The worker starts at the first request (or the first cached record compiled): a run that
    // never gets past the warm-up pays nothing for it.
    if (jitSettings.background && jitSettings.threshold > 0 && jitSettings.cacheFile !== null) this.persist = this.openCache(jitSettings.cacheFile);
  }

  /**
   * Read the translation cache (written back at exit with what this run translated). A page whose
   * words are cached is installed when a CPU first fetches from it (created), once the worker has
   * compiled the record's module: the records the last run used first once the warm-up is over
   * (as translation waits for it: the kit ran ~70 ms slower with the worker started for its
   * cached pages), any other when a run first meets its words (a cache that also holds other
   * kernels' pages costs nothing until they run).
   */
  private openCache(file: string): TranslationCache | null {
    if (!canStartBackgroundCompiler()) return null;
    const cache = new TranslationCache(file, jitSettings.cacheVersion);
    this.eager = cache.loaded.slice(0, EAGER_RECORDS);
    if (this.warmUp.over) this.sendCached();
    process.on('exit', () => cache.save());
    return cache;
  }

  /** The warm-up is over: compile the eager records and those of the pages met meanwhile. */
  private sendCached(): void {
    const eager = this.eager!;
    this.eager = null;
    for (const rec of eager) this.compileCached(rec);
    for (const rec of this.waiting.keys()) this.compileCached(rec);
  }

  /** Have the worker compile a cached record's module; pages waiting for it are installed then. */
  private compileCached(rec: CachedPage): void {
    const bg = backgroundCompiler();
    if (bg === null || rec.requested) return;
    rec.requested = true;
    this.pending++;
    bg.request({ words: new Uint8Array(0), entries: new Uint8Array(0), features: [], first: true, full: false, optimize: false, slack: rec.slack, bytes: rec.bytes }, (r) => {
      this.pending--;
      jitStats.translateMs += r.ms;
      if (r.module === undefined) return;
      rec.module = r.module;
      const pages = this.waiting.get(rec);
      if (pages === undefined) return;
      this.waiting.delete(rec);
      for (const page of pages) this.installCached(page, rec);
    });
  }

  /** A page some CPU fetches from for the first time (code-cache.ts): its translation, if cached. */
  created(page: DecodedPage, decoder: { readonly features: FeatureSet }): void {
    const cache = this.persist;
    if (cache === null) return;
    const words = new Uint8Array(this.memory.buffer, page.ramOffset, 4096);
    const rec = cache.lookup(words, featureKey(decoder.features), this.slack);
    if (rec === undefined) return;
    jitStats.cacheHits++;
    if (rec.module !== undefined) this.installCached(page, rec);
    else {
      if (this.eager === null) this.compileCached(rec);
      const pages = this.waiting.get(rec);
      if (pages === undefined) this.waiting.set(rec, [page]);
      else pages.push(page);
    }
  }

  private installCached(page: DecodedPage, rec: CachedPage): void {
    if (!page.valid || page.code !== null || page.pending) return;
    this.put(page, rec.module!, rec.translated, rec.calls);
    // The entries it covers count as seen: a later translation of the page covers them too.
    const e = rec.entries;
    for (let i = 0; i < 1024; i++) if (e[i]) page.entries[i] = 1;
    jitStats.cached++;
  }

  /** Make a compiled page module the page's code (replacing any), as one more translation of it. */
  private put(page: DecodedPage, module: WebAssembly.Module, translated: number, calls: number): void {
    this.release(page);
    const fn = instantiatePage(module, this.memory, this.code.chain, (n, idx, pcBase) => this.current!.jitHelper(page, n, idx, pcBase));
    page.code = fn;
    page.slot = this.code.add(fn);
    this.unchain(page);
    page.translations++;
    page.misses = 0;
    jitStats.pages++;
    jitStats.translated += translated;
    jitStats.calls += calls;
  }

  /**
   * Translate a page (what its entries reach, or all of it when `full`), replacing any earlier
   * translation; sets page.code and page.slot. Null if that failed (the page stays interpreted).
   */
  translate(page: DecodedPage, decode: (i: number) => void, full = false, optimize = false): PageFn | null {
    const t0 = performance.now();
    this.release(page);
    const helper: Helper = (n, idx, pcBase) => this.current!.jitHelper(page, n, idx, pcBase);
    const stats: TranslateStats = { translated: 0, calls: 0 };
    this.takeEntries(page);
    try {
      const fn = compilePage(page, this.memory, this.code.chain, helper, decode, stats, full, optimize, this.slack);
      page.code = fn;
      page.slot = this.code.add(fn);
      this.unchain(page);
      jitStats.pages++;
      jitStats.translated += stats.translated;
      jitStats.calls += stats.calls;
      return fn;
    } catch (e) {
      jitStats.failures++;
      if (process.env.SHYPER_JIT_DEBUG) process.stderr.write(`jit: page at RAM 0x${page.ramOffset.toString(16)} not translated: ${String(e)}\n`);
      return null;
    } finally {
      const ms = performance.now() - t0;
      jitStats.translateMs += ms;
      if (optimize) {
        jitStats.optimized++;
        jitStats.optimizeMs += ms;
      }
    }
  }

  /**
   * A hot page (or one that ran long enough to be optimized, page.optimized): translate it. After
   * a few partial translations that kept missing entries, the whole page; once optimized, every
   * later translation uses the optimizing compiler too. With the background compiler
   * (background.ts) the page is sent there and this returns what the page runs meanwhile (its
   * current code, or null: interpreted); at a threshold of 0 (tests forcing translation) it is
   * translated here and now. Null from a translation here: it stays interpreted, for good.
   */
  translateHot(page: DecodedPage, cpu: JitCpu): PageFn | null {
    if (page.code !== null && !page.optimized) return page.code;
    const warming = cpu.jitThreshold > 0 && this.warmUp.holds(cpu);
    if (!warming && this.eager !== null) this.sendCached();
    if (warming && !this.warmUp.veryHot(page)) return page.code;
    if (page.translations === 0 && !page.deferred && !page.pending) jitStats.hot++;
    if (!warming && cpu.jitThreshold > 0 && jitSettings.background && backgroundCompiler() !== null) {
      this.request(page, cpu, page.optimized);
      return page.code;
    }
    // (Never optimized during the warm-up: that is the worker's work.)
    const code = this.translate(page, (i) => cpu.jitDecode(page, i), page.translations >= 4, page.optimized && !warming);
    page.translations++;
    page.misses = 0;
    if (code === null) page.heat = -Infinity; // never again
    return code;
  }

  /** Translated code was entered where it does not reach (jit/reach.ts): retranslate once that adds up. */
  missed(page: DecodedPage, cpu: JitCpu): void {
    if (++page.misses < 16) return;
    // (During the warm-up: translated again here, by translateHot, not on a worker started for it.)
    if (cpu.jitThreshold > 0 && jitSettings.background && this.warmUp.over && backgroundCompiler() !== null) {
      // The current code runs on (it covers the other entries) until the new one is in.
      if (this.request(page, cpu, page.optimized)) page.misses = 0;
      return;
    }
    this.release(page);
    page.heat = cpu.jitThreshold; // the next entry translates again, with the new entries
  }

  /**
   * Send a page to the background compiler, unless it is already there (an optimizing compile
   * always goes: it is asked for once). While MAX_IN_FLIGHT pages are there, the page waits here
   * and poll() sends the hottest waiting page as each comes back. False if not taken.
   *
   * (A page refused for a full worker used to be asked for again at its every block entry until
   * a slot was free: with the threshold at 1000, 340 K refused requests, ~90 ms of the kit boot.)
   */
  private request(page: DecodedPage, cpu: JitCpu, optimize: boolean): boolean {
    const bg = backgroundCompiler();
    if (bg === null || page.pending || !page.valid) return false;
    page.pending = true;
    this.pending++;
    if (!optimize && bg.inFlight >= MAX_IN_FLIGHT) this.waitingToSend.push({ page, cpu });
    else this.send(bg, page, cpu, optimize);
    return true;
  }

  /** Pages hot enough to translate while the worker had MAX_IN_FLIGHT others (pending already). */
  private readonly waitingToSend: { page: DecodedPage; cpu: JitCpu }[] = [];

  private send(bg: BackgroundCompiler, page: DecodedPage, cpu: JitCpu, optimize: boolean): void {
    const words = new Uint8Array(this.memory.buffer, page.ramOffset, 4096).slice();
    const features = [...cpu.decoder.features];
    this.takeEntries(page);
    const entries = page.entries.slice();
    const persist = this.persist;
    const slack = this.slack;
    // A page declined before is translated by the optimizing compiler now; it is not kept in the
    // translation cache, whose records are compiled by the baseline compiler (declined then again).
    const deferLoopless = !optimize && page.translations === 0 && jitSettings.deferHeat > 0;
    bg.request({ words, entries, features, first: page.translations === 0 || optimize, full: page.translations >= 4, optimize, slack, keepBytes: persist !== null && !page.deferred, deferLoopless }, (r) => {
      if (persist !== null && r.bytes !== undefined) {
        persist.add({ hash: pageHash(words), features: featureKey(cpu.decoder.features), slack, words, entries, translated: r.translated, calls: r.calls, bytes: r.bytes });
      }
      this.install(page, r, optimize, cpu);
    });
  }

  /** Send the hottest waiting pages while the worker has room (dropping those written meanwhile). */
  private sendWaiting(): void {
    const w = this.waitingToSend;
    const bg = backgroundCompiler();
    while (w.length > 0 && (bg === null || bg.inFlight < MAX_IN_FLIGHT)) {
      let best = 0;
      for (let i = 1; i < w.length; i++) if (w[i]!.page.heat > w[best]!.page.heat) best = i;
      const { page, cpu } = w[best]!;
      w[best] = w[w.length - 1]!;
      w.pop();
      if (bg === null || !page.valid) {
        // Written since (a new DecodedPage will get hot on its own), or no worker any more.
        page.pending = false;
        this.pending--;
        continue;
      }
      this.send(bg, page, cpu, false);
    }
  }

  /** A background translation is back: put it in (its page may have been written since). */
  private install(page: DecodedPage, r: PageReply, optimize: boolean, cpu: JitCpu): void {
    page.pending = false;
    this.pending--;
    jitStats.translateMs += r.ms;
    if (optimize) jitStats.optimizeMs += r.ms;
    if (r.deferred === true) {
      // No inner loop: on the wasm interpreter until DEFER_HEAT thresholds hotter, then optimized.
      page.deferred = true;
      page.optimized = true;
      page.heat = Math.min(page.heat, cpu.jitThreshold) - (jitSettings.deferHeat - 1) * cpu.jitThreshold;
      jitStats.deferred++;
      return;
    }
    if (r.module === undefined) {
      if (r.lost) return; // the worker is gone: translated here from now on
      jitStats.failures++;
      if (process.env.SHYPER_JIT_DEBUG) process.stderr.write(`jit: page at RAM 0x${page.ramOffset.toString(16)} not translated: ${r.error}\n`);
      if (page.code === null) page.heat = -Infinity; // never again
      return;
    }
    if (!page.valid) return;
    const t0 = performance.now();
    this.put(page, r.module, r.translated, r.calls);
    jitStats.background++;
    if (optimize) jitStats.optimized++;
    jitStats.translateMs += performance.now() - t0;
    // The page became hot enough to optimize while this baseline translation was away (the
    // optimizing request was refused then, and is asked for only once): ask now.
    if (page.optimized && !optimize) this.request(page, cpu, true);
  }

  /**
   * Pages sent to the background compiler and not back yet, or waiting to be sent (the run loop
   * polls while any are).
   */
  pending = 0;

  /** Install the background translations that are done and send waiting pages (the run loop calls this at each run). */
  poll(): void {
    backgroundCompiler()?.poll();
    if (this.waitingToSend.length > 0) this.sendWaiting();
  }

  /**
   * A slot table for the wasm interpreter to run `page` with (zeroed: nothing decoded yet), or 0
   * when the arena is full (the page stays with the JavaScript interpreter). Tables of dropped
   * pages are reused only from here, between calls of the interpreter: the call running a page
   * that wrote itself goes on reading its old table, as the JavaScript loop goes on with old decodes.
   */
  slotsFor(page: DecodedPage): number {
    if (this.dropped.length !== 0) {
      for (const t of this.dropped) this.freeTables.push(t);
      this.dropped.length = 0;
    }
    const t = this.freeTables.pop();
    if (t === undefined) return 0;
    // Eight bytes at a time (a Uint8Array's fill of shared memory stores byte by byte: ~5 us a
    // table against ~0.8). Skipping tables never handed out, zero already, was no faster: the
    // fill takes the table's page faults at once, decoding would take them one by one.
    this.doubles.fill(0, t / 8, (t + TABLE_HEAT) / 8);
    this.words[(t + TABLE_HEAT) >> 2] = 0;
    this.words[(t + TABLE_RAM) >> 2] = page.ramOffset;
    this.tablePages[(t - this.arena) / ARENA_TABLE_BYTES] = page;
    page.wslots = t;
    return t;
  }

  /** A dropped page's slot table goes back to the arena (code-cache.ts). */
  releaseSlots(page: DecodedPage): void {
    this.unchain(page);
    this.tablePages[(page.wslots - this.arena) / ARENA_TABLE_BYTES] = null;
    this.dropped.push(page.wslots);
    page.wslots = 0;
  }

  /** The generation of a page's table (the run loop puts it in the execute TLB's column with the table). */
  tableGen(page: DecodedPage): number {
    return this.words[(page.wslots + TABLE_GEN) >> 2]!;
  }

  /**
   * Execute-TLB entries naming the page's table are followed no more (winterp-asm.ts leavePage):
   * it was dropped, or now has a translation, which the run loop runs instead.
   */
  private unchain(page: DecodedPage): void {
    if (page.wslots !== 0) this.words[(page.wslots + TABLE_GEN) >> 2]++;
  }

  /**
   * The heat the wasm interpreter counted in the page's table since the last call (taken, so 0
   * after); 0 for a page with no table (one dropped during the call that ran it: its table is
   * another page's now, and address 0 + TABLE_HEAT is guest RAM).
   */
  takeHeat(page: DecodedPage): number {
    if (page.wslots === 0) return 0;
    const i = (page.wslots + TABLE_HEAT) >> 2;
    const h = this.words[i]!;
    this.words[i] = 0;
    return h;
  }

  /** The page's heat, with what the wasm interpreter counted and the run loop has not taken yet. */
  heatOf(page: DecodedPage): number {
    return page.heat + (page.wslots === 0 ? 0 : this.words[(page.wslots + TABLE_HEAT) >> 2]!);
  }

  /** Entries the wasm interpreter made into the page from other pages, added to page.entries (the translator's). */
  takeEntries(page: DecodedPage): void {
    if (page.wslots === 0) return;
    const b = this.bytes;
    const e = page.entries;
    const t = page.wslots + TABLE_ENTRIES;
    for (let i = 0; i < 1024; i++) if (b[t + i] !== 0) e[i] = 1;
  }

  /**
   * The memo of packed words for CPUs of `decoder` (a wasm address the CPU keeps in its slot,
   * winterp-ops.ts SCRATCH_MEMO), or 0: none (no wasm interpreter, or more decoders than memos).
   */
  memoFor(decoder: { readonly features: FeatureSet }): number {
    let m = this.memos.get(decoder);
    if (m === undefined) {
      m = this.freeMemos.pop() ?? 0;
      this.memos.set(decoder, m);
      const store = memoStore();
      if (m !== 0 && store !== null) this.memosKept.keep(store, featureKey(decoder.features), m);
    }
    return m;
  }

  /**
   * The wasm interpreter's decode import: decode instruction idx of the page at RAM offset `ram`
   * into its slot at `at`, and into the memo entry at `entry` (with its word) unless 0.
   */
  private decodeSlot(idx: number, entry: number, at: number, ram: number): number {
    // Straight from the decoder (its own memo): the page's arrays are the interpreter's, wanted
    // only if a handler of this page runs (cpu.ts jitHelper decodes them then).
    const word = this.view.getInt32(ram + idx * 4, true);
    // Kept in the decoder's memo only when JavaScript will run it (the helper: cpu.ts jitHelper
    // decodes it again); the others live on in wasm's memo of packed slots.
    const decoder = this.current!.decoder;
    // The commonest encodings straight from the word (winterp-wordpack.ts), the rest by their fields.
    const def = decoder.match(word);
    const wp = def === null ? undefined : WORD_PACKERS.get(def);
    let op = wp === undefined ? -1 : wp(word, this.bytes, this.view, at);
    if (op < 0) {
      const d = decoder.decode(word, false);
      op = pack(d.exec, d.fields, this.bytes, this.view, at);
      if (op === OP_HELPER) decoder.remember(word, d);
    }
    jitStats.wpacked++;
    if (entry !== 0) this.memosKept.enter(entry, at, word);
    return op;
  }

  /** The wasm interpreter over this memory, from the process's module (compiled now if need be). */
  instantiateWasmInterpreter(): void {
    const arena = this.arena;
    const wi = instantiateWasmInterpreter(
      wasmInterpreterModule(),
      this.memory,
      (n, idx, pcBase, slots) => (jitStats.whelper++, this.current!.jitHelper(this.tablePages[(slots - arena) / ARENA_TABLE_BYTES]!, n, idx, pcBase)),
      (idx, entry, at, ram) => this.decodeSlot(idx, entry, at, ram),
      this.code.chain,
    );
    this.winterp = wi.run;
    this.code.setWasmInterpreter(wi.chainIn);
  }

  /** True when this memory has the wasm interpreter's arena (its memos, tables), whether or not it is instantiated yet. */
  get hasWasmInterpreter(): boolean {
    return this.arena !== 0;
  }

  /** Drop a page's translation (the page was written, or is translated again). */
  release(page: DecodedPage): void {
    this.code.release(page.slot);
    page.slot = 0;
    page.code = null;
  }
}

const featureKeys = new WeakMap<FeatureSet, string>();
/** A feature set as the translation cache's key: the decoder's features, sorted. */
function featureKey(f: FeatureSet): string {
  let k = featureKeys.get(f);
  if (k === undefined) {
    k = [...f].sort().join(',');
    featureKeys.set(f, k);
  }
  return k;
}

let winterpModule: WebAssembly.Module | null = null;
/**
 * The wasm interpreter's module, compiled once per process by the optimizing compiler (~40 ms on
 * the 2-core machine): it runs every cold instruction. Compiled here and now unless the launcher
 * had it compiled already (takeWasmInterpreter).
 */
function wasmInterpreterModule(): WebAssembly.Module {
  winterpModule ??= compileModule(wasmInterpreterBytes(), true);
  return winterpModule;
}

/**
 * What the launcher leaves for this (bin/prefetch.js prefetchWasmInterpreter): the file where the
 * interpreter's bytes are kept for the next run with this build's stamp, and the compile it
 * started from that file before the bundle ran (V8's platform thread compiles while this thread
 * compiles the bundle and sets up the decode tables and the machine: ~40-65 ms of start-up), or
 * nulls.
 */
interface WasmInterpreterPrefetch {
  file: string;
  /** The bundle's stamp (null: the launcher runs no bundle, and nothing is kept). */
  stamp: string | null;
  module: Promise<WebAssembly.Module> | null;
}
const WINTERP_PREFETCH = Symbol.for('shyper-emu.winterp-prefetch');

/**
 * Take the launcher's compile of the wasm interpreter (true): resolves once it is in. A machine
 * made meanwhile gets it then (its translator waits: winterpTaking), so the boot makes its machine
 * while the compile ends and awaits this only before the guest runs (the compile shares the second
 * core with the kernel's decompression and often ended ~30 ms after this thread was ready for it).
 * The file it compiled carries the stamp of the bundle that wrote it, and the bytes depend on
 * nothing else, so they are not built again to compare (~15 ms of this thread). Without such a
 * file, or when its compile failed, this run's bytes are written for the next run's launcher.
 * Never rejects.
 */
export async function takeWasmInterpreter(): Promise<boolean> {
  const pre = (globalThis as Record<symbol, WasmInterpreterPrefetch | undefined>)[WINTERP_PREFETCH];
  if (pre === undefined || pre.stamp === null) return false;
  keepMemosBeside(pre.file, pre.stamp);
  const waiting: Translator[] = [];
  winterpTaking ??= waiting;
  try {
    return await takePrefetched(pre);
  } finally {
    if (winterpTaking === waiting) winterpTaking = null;
    for (const t of waiting) t.instantiateWasmInterpreter();
  }
}

/** Translators made while takeWasmInterpreter waits (instantiated when it is done), or null. */
let winterpTaking: Translator[] | null = null;

async function takePrefetched(pre: WasmInterpreterPrefetch): Promise<boolean> {
  const compiled = pre.module === null ? null : await pre.module.catch(() => null);
  if (winterpModule !== null || !jitSettings.enabled || !jitSettings.wasmInterpreter) return false;
  if (compiled !== null) {
    winterpModule = compiled;
    return true;
  }
  try {
    // (With compileModule's mark: V8 keeps one compiled module per process for the same bytes.)
    const tmp = `${pre.file}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.concat([Buffer.from(`${pre.stamp}\n`), optimizedBytes(wasmInterpreterBytes())]));
    renameSync(tmp, pre.file);
  } catch {
    // a read-only cache: compiled here at every start, as before
  }
  return false;
}

const translators = new WeakMap<WebAssembly.Memory, Translator>();
/** The translator of a guest memory (one per machine; its pages are shared by every CPU). */
export function translatorFor(memory: WebAssembly.Memory): Translator {
  let t = translators.get(memory);
  if (t === undefined) {
    t = new Translator(memory);
    translators.set(memory, t);
  }
  return t;
}
