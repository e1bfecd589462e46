// The CPU's soft TLBs, TinyEMU-style: direct-mapped (read, write, execute; an EL0 context and two
// of EL1's), holding the RAM offset of each virtual page, with the device pages beside them, and
// their invalidation (TLBIs, changes of the translation regime, KPTI's TTBR1_EL1 switches). The
// loads and stores that use them are MemoryAccessor's (memory-accessor.ts). Decoded instructions
// live in the physical memory's CodeCache (code-cache.ts), shared by all CPUs; a page holding
// decoded code is kept out of every CPU's write TLB so that any CPU's store to it drops it.
import type { PhysicalMemory } from './memory.ts';
import { type CodeCache, type CodeCacheClient, DecodedPage, INSNS_PER_PAGE, PAGE } from './code-cache.ts';
import { CPU_SLOT_BYTES, type CpuSlot, privateSlot, SLOT_TLB_OFFSET, SLOT_WASM_LIM } from './jit/guest-memory.ts';

export { DecodedPage, INSNS_PER_PAGE, PAGE };
// 2048 pages (8 MiB) per context: the kit's boot touches more than 256 pages between TLBIs, and
// misses in a smaller direct-mapped TLB made most of its table walks.
export const TLB_BITS = 11;
export const TLB_SIZE = 1 << TLB_BITS;
export const TLB_MASK = TLB_SIZE - 1;
/**
 * Soft TLB contexts: EL0's, then two of EL1's (translations at EL0 and EL1 differ in permissions,
 * so they are kept apart), each of those holding what was walked under one value of TTBR1_EL1
 * (switchTtbr1).
 */
export const TLB_CONTEXTS = 3;
/** Device-page entries per soft-TLB context (SoftTlb.ioRTag). */
const IO_SIZE = 64;
/**
 * Order of the five TLB arrays (each TLB_SIZE * TLB_CONTEXTS 64-bit entries) after
 * SLOT_TLB_OFFSET. The read, write and execute tags there are integers (i64: the page number,
 * or TAG_NONE in the high word: never one) for wasm's probes; the JavaScript paths compare
 * doubles kept on the heap beside them (rTag, wTag, xTag), written together (setTag).
 */
export const TLB_R_TAG = 0;
export const TLB_R_OFF = 1;
export const TLB_W_TAG = 2;
export const TLB_W_OFF = 3;
export const TLB_X_TAG = 4;
/**
 * Then the execute TLB's translated-code column: per entry, the table index of the page's wasm
 * function (jit/chain.ts; 0, the bounce, when none), an Int32Array of TLB_SIZE * TLB_CONTEXTS.
 */
export const TLB_X_CODE_BYTE = 5 * TLB_SIZE * TLB_CONTEXTS * 8;
/**
 * Then the wasm interpreter's column: per entry two words, the slot table of the page when the
 * wasm interpreter last ran it (0: none) and that table's generation then (jit/winterp.ts
 * chaining: an entry whose generation is no longer the table's is stale).
 */
export const TLB_X_WTABLE_BYTE = TLB_X_CODE_BYTE + TLB_SIZE * TLB_CONTEXTS * 4;
// The TLBs must fit the CPU slot after the register file (else a CPU's arrays overlap the next's).
if (SLOT_TLB_OFFSET + TLB_X_WTABLE_BYTE + TLB_SIZE * TLB_CONTEXTS * 8 > SLOT_WASM_LIM) throw new Error('soft TLBs larger than CPU_SLOT_BYTES');

/** What empty execute-TLB slots hold (never valid), so the slot array stays one element type. */
const NO_PAGE = new DecodedPage(-1);
/** The high word of an integer tag no page has: a page number is within +-2^52, this is 2^62 and up. */
const TAG_NONE = 0x40000000;
NO_PAGE.valid = false;

export abstract class SoftTlb implements CodeCacheClient {
  /** Current exception level (the soft-TLB context follows it, see setTlbContext). */
  el = 0;
  /** Set non-zero by anything that must end the current block (interrupt pin, halt, WFI, TLB flush). */
  exitRequest = 0;
  readonly ram: DataView;

  // Soft TLBs: tag = virtual page number (a JS number, negative for the upper VA range), value =
  // RAM offset of the page. NaN tags never match. The offsets, and the tags as integers, live in
  // this CPU's slot of the wasm memory (jit/guest-memory.ts, at TLB_R_TAG... below) so translated
  // code can probe them inline.
  protected readonly rTag: Float64Array;
  /**
   * The read and write tags as wasm sees them: entry i's page number as an i64 (low word at [2i]),
   * compared with the address's without a conversion to double on every access (jit/emit-mem.ts).
   */
  protected readonly rTagI: Int32Array;
  protected readonly wTagI: Int32Array;
  /**
   * The RAM offsets, as the low words of 64-bit entries (Uint32Array, entry i at [2i]): wasm
   * reads one with an i32 load, not an f64 load and a truncation on every access's address.
   */
  protected readonly rOff: Uint32Array;
  protected readonly wTag: Float64Array;
  protected readonly wOff: Uint32Array;
  /** Where this CPU's register file and soft TLBs live (its slot of the guest's wasm memory). */
  readonly slot: CpuSlot;
  protected readonly xTag: Float64Array;
  /** The execute TLB's tags as integers, for the hub's and the wasm interpreter's probes (chain.ts, winterp-asm.ts). */
  protected readonly xTagI: Int32Array;
  /** Per execute-TLB entry, its page's translated code (the table index; 0: none yet). */
  protected readonly xCode: Int32Array;
  /** Per execute-TLB entry, [2i] its page's wasm-interpreter table and [2i + 1] that table's generation. */
  protected readonly xWTable: Int32Array;
  protected readonly xPage: DecodedPage[] = new Array<DecodedPage>(TLB_SIZE * TLB_CONTEXTS).fill(NO_PAGE);
  protected tlbCtx = 0;
  /** The EL1 context of the current TTBR1_EL1 (TLB_SIZE or 2 * TLB_SIZE; switchTtbr1). */
  private el1Ctx = TLB_SIZE;
  /** The TTBR1_EL1 base and ASID each EL1 context's entries were walked under (NaN: not known). */
  private readonly el1Ttbr1 = new Float64Array(4).fill(NaN);
  /** The EL0 context holds a page of the TTBR1 range (a negative page number), stale once TTBR1_EL1 changes. */
  private el0Upper = false;
  /**
   * Which RAM pages may be in the write TLB: wHint[page & 0xffff] === wEpoch for every page given
   * a write entry since the last full flush (which starts a new epoch). Pages that collide, or an
   * epoch come round again, only cost codePageCreated a search it could have skipped.
   */
  protected readonly wHint = new Uint8Array(1 << 16);
  protected wEpoch = 1;

  // Device pages: the PA page of a virtual page that translated to no RAM, for reads (ioRTag,
  // ioRPa) and writes (ioW*), IO_SIZE entries per soft-TLB context. The soft TLB proper holds RAM
  // pages only (its entries are RAM offsets that wasm and the fast paths use directly), so every
  // access to a device (a UART's flag register polled before each character, a GIC register) walked
  // the tables again: ~15 K of the kit boot's ~50 K walks. Dropped with the TLB (flushes, TLBIs).
  protected readonly ioRTag = new Float64Array(IO_SIZE * TLB_CONTEXTS).fill(NaN);
  protected readonly ioRPa = new Float64Array(IO_SIZE * TLB_CONTEXTS);
  protected readonly ioWTag = new Float64Array(IO_SIZE * TLB_CONTEXTS).fill(NaN);
  protected readonly ioWPa = new Float64Array(IO_SIZE * TLB_CONTEXTS);
  /** Page pn's entry in the device-page arrays of the current context. */
  protected ioIndex(pn: number): number {
    return (pn & (IO_SIZE - 1)) + (this.tlbCtx >> TLB_BITS) * IO_SIZE;
  }

  /** Decoded pages by RAM page, shared with every CPU on the same physical memory. */
  readonly codeCache: CodeCache;

  constructor(readonly mem: PhysicalMemory) {
    this.slot = mem.guest?.allocCpu() ?? privateSlot();
    const n = TLB_SIZE * TLB_CONTEXTS;
    const t = this.slot.base + SLOT_TLB_OFFSET;
    this.rTag = new Float64Array(n).fill(NaN);
    this.rTagI = new Int32Array(this.slot.buffer, t + TLB_R_TAG * n * 8, 2 * n).fill(TAG_NONE);
    this.rOff = new Uint32Array(this.slot.buffer, t + TLB_R_OFF * n * 8, 2 * n);
    this.wTag = new Float64Array(n).fill(NaN);
    this.wTagI = new Int32Array(this.slot.buffer, t + TLB_W_TAG * n * 8, 2 * n).fill(TAG_NONE);
    this.wOff = new Uint32Array(this.slot.buffer, t + TLB_W_OFF * n * 8, 2 * n);
    this.xTag = new Float64Array(n).fill(NaN);
    this.xTagI = new Int32Array(this.slot.buffer, t + TLB_X_TAG * n * 8, 2 * n).fill(TAG_NONE);
    this.xCode = new Int32Array(this.slot.buffer, t + TLB_X_CODE_BYTE, n);
    this.xWTable = new Int32Array(this.slot.buffer, t + TLB_X_WTABLE_BYTE, 2 * n);
    this.ram = mem.ram;
    this.codeCache = mem.codeCache;
    this.codeCache.attach(this);
  }

  /** CodeCacheClient: RAM page `ro` now holds decoded code, so drop it from the write TLB. */
  codePageCreated(ro: number): void {
    // Most new code pages were never written through this CPU's TLB (the rk3588 run: ~110 ms of
    // searches through 8 CPUs' 4096 entries for each).
    if (this.wHint[(ro / PAGE) & 0xffff] !== this.wEpoch) return;
    const wOff = this.wOff;
    // (indexOf: the native search, as the TLB has thousands of entries to look through. Offsets
    // are the even words; the odd ones, their zero high words, match only RAM offset 0.)
    for (let i = wOff.indexOf(ro); i >= 0; i = wOff.indexOf(ro, i + 1)) if ((i & 1) === 0) this.setTag(this.wTag, this.wTagI, i >> 1, NaN);
  }

  /** Drop decoded instructions for RAM bytes [ro, ro+len) on every CPU (a loader, DMA). */
  invalidateCodeRam(ro: number, len: number): void {
    this.codeCache.invalidate(ro, len);
  }

  /** TLBI: forget every cached translation (soft TLBs are small; a full flush is cheap). */
  flushTlb(): void {
    // End the block too: the run loop keeps executing a page without re-translating it.
    this.exitRequest = 1;
    this.rTag.fill(NaN);
    this.rTagI.fill(TAG_NONE);
    this.wTag.fill(NaN);
    this.wTagI.fill(TAG_NONE);
    this.wEpoch = (this.wEpoch + 1) & 0xff;
    this.xTag.fill(NaN);
    this.xTagI.fill(TAG_NONE);
    this.ioRTag.fill(NaN);
    this.ioWTag.fill(NaN);
    this.blocks2M.clear();
    this.blocks1G.clear();
    this.el1Ttbr1.fill(NaN);
    this.el0Upper = false;
    this.tlbFlushes++;
  }
  /** Full flushes so far: the MMU's stage-2 walk cache and stage-1 block cache (mmu.ts) are valid for one count of them. */
  tlbFlushes = 0;

  /**
   * TTBR1_EL1 goes from (base, asid) to (newBase, newAsid) (its MSR, sysregs-el1.ts). The
   * architecture's TLBs tag entries with their ASID, and KPTI (Linux with KASLR on a core without
   * FEAT_E0PD: Debian's generic kernel on the A76) switches TTBR1_EL1 between the kernel's tables
   * and the trampoline's, with an ASID each, at every exception from EL0 and every return to it.
   * A full flush at each was 1.8 K flushes and the walks after them in Debian's boot. So EL1 has
   * two contexts, each holding what was walked under one TTBR1_EL1 value, and a change goes to
   * the other, emptied first unless it holds the new value's. (Pages of the TTBR0 range stay in
   * both: TTBR0_EL1 has not changed, as its writes flush everything. The EL0 context holds no
   * page of the TTBR1 range in practice: when it does, it is emptied.)
   */
  switchTtbr1(base: number, asid: number, newBase: number, newAsid: number): void {
    if (base === newBase && asid === newAsid) return;
    // End the block (as a flush does): the page being run may translate differently now.
    this.exitRequest = 1;
    // EL1 context k (0, 1) is at (1 + k) * TLB_SIZE; el1Ttbr1[2k], [2k + 1] its TTBR1_EL1.
    const k = this.el1Ctx === TLB_SIZE ? 1 : 0;
    const t = this.el1Ttbr1;
    t[2 - 2 * k] = base;
    t[3 - 2 * k] = asid;
    this.el1Ctx = (1 + k) * TLB_SIZE;
    if (t[2 * k] !== newBase || t[2 * k + 1] !== newAsid) {
      this.flushContext(this.el1Ctx);
      t[2 * k] = newBase;
      t[2 * k + 1] = newAsid;
    }
    this.setTlbContext(this.el);
    if (this.el0Upper) {
      this.flushContext(0);
      this.el0Upper = false;
    }
  }

  /** Empty one context (its first entry `c`) of every soft TLB and of the device pages. */
  private flushContext(c: number): void {
    const end = c + TLB_SIZE;
    this.rTag.fill(NaN, c, end);
    this.rTagI.fill(TAG_NONE, 2 * c, 2 * end);
    this.wTag.fill(NaN, c, end);
    this.wTagI.fill(TAG_NONE, 2 * c, 2 * end);
    this.xTag.fill(NaN, c, end);
    this.xTagI.fill(TAG_NONE, 2 * c, 2 * end);
    const io = (c >> TLB_BITS) * IO_SIZE;
    this.ioRTag.fill(NaN, io, io + IO_SIZE);
    this.ioWTag.fill(NaN, io, io + IO_SIZE);
  }

  // Stage-1 blocks translated since the last full flush, by block number (page number >> 9 for
  // 2 MiB, >> 18 for 1 GiB). The soft TLB holds a block as separate 4 KiB pages, where the
  // architecture's TLB holds one entry that a TLBI of any address in the block removes.
  private readonly blocks2M = new Set<number>();
  private readonly blocks1G = new Set<number>();

  /** The MMU translated `va` through a block of 2^shift bytes (21: 2 MiB, 30: 1 GiB). */
  noteBlock(va: number, shift: number): void {
    const pn = (va - (va & 0xfff)) / PAGE;
    if (shift === 21) this.blocks2M.add(Math.floor(pn / 512));
    else this.blocks1G.add(Math.floor(pn / 262144));
  }

  /**
   * TLBI by VA (VAE1, VALE1, VAAE1, VAALE1): forget the page `pn` (the soft TLB has no ASIDs, so
   * every ASID's). A page of a block translated since the last full flush forgets everything.
   */
  flushTlbPage(pn: number): void {
    if (this.blocks2M.has(Math.floor(pn / 512)) || this.blocks1G.has(Math.floor(pn / 262144))) {
      this.flushTlb();
      return;
    }
    this.exitRequest = 1;
    for (let ctx = 0; ctx < TLB_SIZE * TLB_CONTEXTS; ctx += TLB_SIZE) {
      const i = (pn & TLB_MASK) + ctx;
      if (this.rTag[i] === pn) this.setTag(this.rTag, this.rTagI, i, NaN);
      if (this.wTag[i] === pn) this.setTag(this.wTag, this.wTagI, i, NaN);
      if (this.xTag[i] === pn) this.setTag(this.xTag, this.xTagI, i, NaN);
    }
    for (let j = pn & (IO_SIZE - 1); j < IO_SIZE * TLB_CONTEXTS; j += IO_SIZE) {
      if (this.ioRTag[j] === pn) this.ioRTag[j] = NaN;
      if (this.ioWTag[j] === pn) this.ioWTag[j] = NaN;
    }
  }

  /**
   * A TLBI of the Inner Shareable domain (the ...IS forms, or any with HCR_EL2.FB): every CPU on
   * this memory forgets page `pn`, or everything when `pn` is null (all cores of a board are in
   * one domain). Another CPU keeping the page would use a mapping software has torn down.
   */
  flushTlbShareable(pn: number | null): void {
    const cpus = this.codeCache.clients;
    for (let i = 0; i < cpus.length; i++) {
      const c = cpus[i];
      if (!(c instanceof SoftTlb)) continue;
      if (pn === null) c.flushTlb();
      else c.flushTlbPage(pn);
    }
  }

  /** Called when the exception level changes: selects the soft-TLB context. */
  setTlbContext(el: number): void {
    this.tlbCtx = el === 0 ? 0 : this.el1Ctx;
  }

  /** The instruction word at a virtual address the CPU has just executed (traces); -1 if unknown. */
  fetchWord(va: number): number {
    const off = va & 0xfff;
    const pn = (va - off) / PAGE;
    const ti = (pn & TLB_MASK) + this.tlbCtx;
    return this.xTag[ti] === pn ? this.ram.getUint32(this.xPage[ti]!.ramOffset + off, true) : -1;
  }

  /** Device page pn (at PA page paPage) enters entry ii of the read or write device-page TLB. */
  protected setIoPage(write: boolean, ii: number, pn: number, paPage: number): void {
    (write ? this.ioWTag : this.ioRTag)[ii] = pn;
    (write ? this.ioWPa : this.ioRPa)[ii] = paPage;
    if (pn < 0 && ii < IO_SIZE) this.el0Upper = true;
  }

  /**
   * Entry i of a TLB is page pn's, or no page's when pn is NaN. Tags are entered and dropped here
   * only: the doubles the JavaScript paths compare and the integers wasm compares must agree (a
   * page number is an integer within +-2^52).
   */
  protected setTag(tags: Float64Array, tagsI: Int32Array, i: number, pn: number): void {
    tags[i] = pn;
    if (pn !== pn) {
      tagsI[2 * i + 1] = TAG_NONE;
      return;
    }
    if (pn < 0 && i < TLB_SIZE) this.el0Upper = true;
    tagsI[2 * i] = pn;
    tagsI[2 * i + 1] = Math.floor(pn / 4294967296);
  }
  /** The execute TLB's entry ti is page pn's (cpu.ts fetchPageSlow). */
  protected setXTag(ti: number, pn: number): void {
    this.setTag(this.xTag, this.xTagI, ti, pn);
  }
}
