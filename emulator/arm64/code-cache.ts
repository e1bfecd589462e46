// The decoded-instruction cache of a physical memory: one DecodedPage per physical RAM page that
// some CPU has executed from, shared by every CPU on that memory (the Bus, or a FlatMemory).
//
// Coherence rule: any write to a RAM page that holds decoded code drops that page. The writers:
//  - a CPU's store (soft-tlb.ts): code pages are kept out of every CPU's write TLB, so a store to
//    one takes the slow path, which calls invalidate();
//  - everything else that writes RAM goes through the physical memory's write APIs (Bus.write,
//    write64, writeBytes, loadBytes; FlatMemory.write/write64), which call invalidate().
// Code that writes `ram`/`ramBytes` directly must call invalidate() itself.
//
// CPUs with different decoders (cores with different optional features, features.ts) keep apart
// decoded copies of a page: the same word may be an instruction on one and UNDEFINED on the other.
// Every CPU of the boards we model shares one feature set, so there is one set of pages in practice.
//
// A dropped page is marked invalid rather than hunted down in every CPU's execute TLB: the run
// loop checks `valid` when it enters a page (once per block, not per instruction) and re-translates.
// A CPU already executing inside the page finishes its block on the old decodes (or old translation); the architecture
// asks software for IC IVAU/IALLU + ISB before new code must be seen, and both end the block.
import type { Decoder, Exec, Fields } from './decode/pattern.ts';
import type { PageFn } from './jit/translate.ts';
import { holdDoubles } from './double-fields.ts';

export const PAGE = 4096;
export const INSNS_PER_PAGE = PAGE / 4;

/** Decoded instructions of one physical 4 KiB page. */
export class DecodedPage {
  /**
   * Handlers and fields by instruction (undefined: not decoded yet). Shared empty arrays until the
   * first decode here (decode()): a page the wasm interpreter runs may never need its own (it
   * packs slots straight from the decoder, jit/runtime.ts), and two 8 KB arrays per page were
   * ~18 MB of each kit boot's young-generation allocation.
   */
  fns: (Exec | undefined)[] = NO_FNS;
  args: Fields[] = NO_ARGS;
  /** False once the page was dropped (its RAM was written): execute-TLB entries holding it are stale. */
  valid = true;
  /** Block entries into this page so far: the translator's hotness count (jit/runtime.ts). */
  heat = 0;
  /** Its heat during the translator's warm-up (jit/settings.ts DEFAULT_WARM_HEAT). */
  warmHeat = 0;
  /**
   * The page translated to wasm once hot (jit/translate.ts). It is dropped with the page: a write
   * to the page makes a new DecodedPage, which starts cold.
   */
  code: PageFn | null = null;
  /** Its index in the translator's table of page functions (jit/chain.ts); 0 when none. */
  slot = 0;
  /** Instructions the run loop entered this page at (jit/reach.ts translates what they reach). */
  readonly entries = new Uint8Array(INSNS_PER_PAGE);
  /** Entries translated code did not cover, since the last translation; translations so far. */
  misses = 0;
  translations = 0;
  /** Instructions its translated code ran (jit/settings.ts DEFAULT_OPTIMIZE_AFTER); optimized since. */
  work = 0;
  optimized = false;
  /**
   * Its baseline translation was declined: no inner loop (jit/settings.ts DEFER_HEAT). It stays on
   * the wasm interpreter until much hotter, then gets the optimizing compiler's translation.
   */
  deferred = false;
  /** A translation of it is being made by the background compiler (jit/background.ts). */
  pending = false;
  /** Wasm address of its slot table for the wasm interpreter (jit/winterp.ts), or 0: none yet. */
  wslots = 0;
  constructor(readonly ramOffset: number) {
    // heat becomes -Infinity for a page that failed to translate, work passes 2^31 (double-fields.ts).
    holdDoubles(this, ['heat', 'work']);
  }

  /** Enter instruction idx as decoded. */
  decoded(idx: number, exec: Exec, fields: Fields): void {
    this.ownArrays();
    this.fns[idx] = exec;
    this.args[idx] = fields;
  }

  /** Give the page arrays of its own (before code that fills them through another reference). */
  ownArrays(): void {
    if (this.fns === NO_FNS) {
      this.fns = new Array(INSNS_PER_PAGE).fill(undefined);
      this.args = new Array(INSNS_PER_PAGE).fill(undefined);
    }
  }
}
/** Every page's arrays before its first decode: never written (DecodedPage.decoded). */
const NO_FNS: (Exec | undefined)[] = new Array(INSNS_PER_PAGE).fill(undefined);
const NO_ARGS: Fields[] = new Array(INSNS_PER_PAGE).fill(undefined);

/** Holds RAM page offsets it may write through without asking (a CPU's write TLB). */
export interface CodeCacheClient {
  /** The RAM page at offset `ro` now holds decoded code: stop writing to it on a fast path. */
  codePageCreated(ro: number): void;
}

export class CodeCache {
  /** Decoded pages by RAM page index (RAM offset / PAGE), one map per decoder (a core's ISA). */
  private readonly pagesOf = new Map<object, Map<number, DecodedPage>>();
  /** The same maps as an array: the write paths loop over it without allocating an iterator. */
  private readonly maps: Map<number, DecodedPage>[] = [];
  /** The CPUs on this memory (also the Inner Shareable domain a TLBI ...IS reaches, soft-tlb.ts). */
  readonly clients: CodeCacheClient[] = [];
  /**
   * Told when a page with a translation is dropped, and when a page is first fetched from (the
   * translator, jit/runtime.ts: it may hold a translation of those words from an earlier run).
   */
  translationOwner: { release(page: DecodedPage): void; releaseSlots(page: DecodedPage): void; created(page: DecodedPage, decoder: Decoder): void } | null = null;
  /** Pages dropped because their RAM was written (statistics, tests). */
  invalidations = 0;

  attach(c: CodeCacheClient): void {
    if (!this.clients.includes(c)) this.clients.push(c);
  }

  detach(c: CodeCacheClient): void {
    const i = this.clients.indexOf(c);
    if (i >= 0) this.clients.splice(i, 1);
  }

  /** Number of pages holding decoded code. */
  get size(): number {
    let n = 0;
    for (let i = 0; i < this.maps.length; i++) n += this.maps[i]!.size;
    return n;
  }

  /** Does the RAM page with index `pageIndex` (RAM offset / PAGE) hold decoded code? */
  isCode(pageIndex: number): boolean {
    const maps = this.maps;
    for (let i = 0; i < maps.length; i++) {
      const pages = maps[i]!;
      if (pages.size !== 0 && pages.has(pageIndex)) return true;
    }
    return false;
  }

  /** The page-aligned RAM offset ro as decoded by `decoder`, created (empty) on first use. */
  page(ro: number, decoder: Decoder): DecodedPage {
    let pages = this.pagesOf.get(decoder);
    if (pages === undefined) {
      pages = new Map();
      this.pagesOf.set(decoder, pages);
      this.maps.push(pages);
    }
    const key = ro / PAGE;
    let page = pages.get(key);
    if (page === undefined) {
      page = new DecodedPage(ro);
      pages.set(key, page);
      // Writes to this page must now take a slow path so the decoded copy stays coherent.
      const clients = this.clients;
      for (let i = 0; i < clients.length; i++) clients[i]!.codePageCreated(ro);
      this.translationOwner?.created(page, decoder);
    }
    return page;
  }

  /** Drop decoded instructions for RAM bytes [ro, ro+len): a store, a loader, DMA, the hypervisor. */
  invalidate(ro: number, len: number): void {
    if (len <= 0) return;
    const first = Math.floor(ro / PAGE);
    const last = Math.floor((ro + len - 1) / PAGE);
    const maps = this.maps;
    for (let i = 0; i < maps.length; i++) {
      const pages = maps[i]!;
      if (pages.size === 0) continue;
      if (last - first < pages.size) {
        for (let p = first; p <= last; p++) {
          const page = pages.get(p);
          if (page !== undefined) this.drop(pages, p, page);
        }
      } else {
        // A large range (an image load, a big DMA): walk the decoded pages instead.
        for (const [p, page] of pages) if (p >= first && p <= last) this.drop(pages, p, page);
      }
    }
  }

  private drop(pages: Map<number, DecodedPage>, p: number, page: DecodedPage): void {
    pages.delete(p);
    page.valid = false;
    if (page.code !== null) this.translationOwner?.release(page);
    if (page.wslots !== 0) this.translationOwner?.releaseSlots(page);
    this.invalidations++;
  }

  /** Drop every decoded page. */
  clear(): void {
    for (const pages of this.maps) {
      for (const page of pages.values()) {
        page.valid = false;
        if (page.code !== null) this.translationOwner?.release(page);
        if (page.wslots !== 0) this.translationOwner?.releaseSlots(page);
      }
      pages.clear();
    }
  }
}
