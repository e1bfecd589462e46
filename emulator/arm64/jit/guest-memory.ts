// Guest RAM and the CPUs' register files and soft TLBs in one WebAssembly.Memory, so that code the
// translator generates (jit/) addresses all of them with plain loads and stores (DESIGN.md "Speed
// path"; v86 keeps its x86 state in its wasm memory the same way).
//
// Layout of the memory (fixed size, allocated up front and never grown: every typed-array view
// taken of it stays valid for the life of the machine):
//   [0, ramBytes)                      guest RAM: a RAM offset is a wasm address
//   [cpuBase, cpuBase + CPU_SLOTS*SLOT) one slot per CPU: register file, then the soft TLBs
//   [arenaBase, + ARENA_BYTES)          the wasm interpreter's slot tables of decoded pages,
//                                      then its memos of packed words (winterp.ts): the last
//                                      ARENA_BYTES of the memory
// A CPU made once all slots are taken (or on a memory that is not a wasm memory) keeps its state in
// ordinary ArrayBuffers and runs on the interpreter alone.
//
// wasm32 addresses at most 4 GiB: RAM beyond WASM_RAM_LIMIT gets an ordinary ArrayBuffer (and no
// translator), with a one-line notice from the caller.

export const WASM_PAGE = 65536;
/**
 * Bytes of one CPU slot: the register file (regs.ts, REGFILE_BYTES), then the soft TLBs
 * (soft-tlb.ts: 5 arrays of doubles and an Int32 column, of TLB_SIZE * TLB_CONTEXTS entries).
 */
export const CPU_SLOT_BYTES = 384 * 1024;
/** Offset of the soft-TLB arrays in a CPU slot (after the register file and its scratch). */
export const SLOT_TLB_OFFSET = 2048;
/**
 * System registers translated code reads and writes directly (sysstate.ts keeps them here):
 * SP_EL0 (two words) at SLOT_SP_EL0, then SystemState.el1's 64-bit slots from SLOT_EL1 (296 bytes
 * today, up to the TLBs). The slot's bytes before them: the register file (regs.ts, up to
 * REGFILE_BYTES = 1536), the next PC (emitter.ts SCRATCH_PC, 8 bytes), the FP emitters' scratch
 * (emit-fp.ts, 11 x 16 bytes from 1552); each of those files checks it ends before SLOT_SP_EL0.
 */
export const SLOT_SP_EL0 = 1728;
export const SLOT_EL1 = SLOT_SP_EL0 + 8;
/**
 * A word of what translated code and the wasm interpreter may do without the handler, written by
 * the run loop at each run of blocks (cpu.ts): CPU_FLAG_ZVA, EL1's DC ZVA is not trapped to EL2
 * (no hypervisor, or HCR_EL2.TDZ clear); CPU_FLAG_IRQ, an interrupt may be taken (pe.ts
 * mayTakeInterrupt: an ISB must end the block). Both stay true for the whole run: what changes
 * them (an interrupt line asserted, HCR_EL2 written) ends it. The system registers above end
 * before it (sysstate.ts).
 */
export const SLOT_CPU_FLAGS = SLOT_TLB_OFFSET - 4;
export const CPU_FLAG_ZVA = 1;
export const CPU_FLAG_IRQ = 2;
/** CPU_FLAG_IC: EL1's IC IVAU/IALLU is not trapped to EL2 (no hypervisor, or HCR_EL2.TPU clear). */
export const CPU_FLAG_IC = 4;
/** CPU_FLAG_ID: reads of the cache ID registers (CTR_EL0...) are not trapped to EL2 (HCR_EL2.TID2 clear). */
export const CPU_FLAG_ID = 8;
/**
 * Set by the wasm interpreter when an instruction it ran asks for the block to end (an unmask of
 * DAIF, an IC invalidation: what the handlers do with exitRequest); the run loop takes and clears it.
 */
export const SLOT_WASM_EXIT = SLOT_CPU_FLAGS - 4;
/** PSTATE.DAIF (pe.ts daif), a 64-bit word whose high half stays 0 (an MRS reads it whole). */
export const SLOT_DAIF = SLOT_WASM_EXIT - 8;
/**
 * The instructions the wasm interpreter ran (statistics: jitStats.wran, the rest of a call's
 * count is translated code's), added at each of its exits; the run loop takes it after each call.
 * The last word of the slot, after the soft TLBs (soft-tlb.ts checks they end before it).
 */
export const SLOT_WASM_RAN = CPU_SLOT_BYTES - 4;
/**
 * The wasm interpreter's L_LIM (winterp.ts: the slot where its straight line of instructions
 * stops), kept here rather than in a local: TurboFan recomputed the local's value from its inputs
 * at every instruction (a dozen operations and three stack loads); a word in memory is one compare.
 */
export const SLOT_WASM_LIM = SLOT_WASM_RAN - 4;
export const CPU_SLOTS = 64;
/**
 * The wasm interpreter's arena (winterp.ts): ARENA_TABLES tables, one per decoded page it runs:
 * 1024 slots of 16 bytes, the page's entries (a byte per instruction) and a small header
 * (winterp-ops.ts TABLE_*). Untouched parts of it cost no host memory.
 */
export const ARENA_TABLES = 2048;
export const ARENA_TABLE_BYTES = 16384 + 1024 + 16;
/**
 * After the tables, one memo per decoder (a core's feature set; at most ARENA_MEMOS, later ones
 * have none) of words already packed: 2^MEMO_BITS entries of 32 bytes, MEMO_WAYS a set
 * (winterp.ts fillFunction).
 */
export const ARENA_MEMOS = 4;
// (2^17: the kit boot packs ~56 K distinct words; with 2^16 entries, direct-mapped, 8 K more
// were packed again after a collision, 4 K with 2^17; 2^18 saves 2 K more for 8 MB a memo.
// Kept from one run for the next (winterp-memo.ts), a direct-mapped memo of 2^17 lost ~21 K of
// the kit's words to collisions, 12 K with 2 ways a set, 5 K with 4, 1 K with 8.)
export const MEMO_BITS = 17;
export const MEMO_ENTRY_BYTES = 32;
export const MEMO_WAYS = 8;
export const MEMO_SET_BITS = MEMO_BITS - Math.log2(MEMO_WAYS);
export const ARENA_MEMO_BYTES = MEMO_ENTRY_BYTES << MEMO_BITS;
export const ARENA_BYTES = ARENA_TABLES * ARENA_TABLE_BYTES + ARENA_MEMOS * ARENA_MEMO_BYTES;
/**
 * What the slots and the arena add after the RAM, in whole wasm pages (the arena is not a multiple
 * of one): a memory is a whole number of pages, and a size in pages with a fraction would be
 * truncated by WebAssembly.Memory, leaving the arena's end outside the memory.
 */
const TAIL_BYTES = Math.ceil((CPU_SLOTS * CPU_SLOT_BYTES + ARENA_BYTES) / WASM_PAGE) * WASM_PAGE;
/** RAM above this is not put in a wasm memory (4 GiB minus the CPU slots and the arena). */
export const WASM_RAM_LIMIT = 4 * 1024 ** 3 - TAIL_BYTES;

/**
 * Where a wasm memory for `ramBytes` of RAM puts its parts (the layout above): the CPU slots from
 * the first wasm page after the RAM, the arena as the memory's last ARENA_BYTES, `pages` in all.
 */
export function wasmLayout(ramBytes: number): { cpuBase: number; arenaBase: number; pages: number } {
  const cpuBase = Math.ceil(ramBytes / WASM_PAGE) * WASM_PAGE;
  const bytes = cpuBase + TAIL_BYTES;
  return { cpuBase, arenaBase: bytes - ARENA_BYTES, pages: bytes / WASM_PAGE };
}

export interface CpuSlot {
  readonly buffer: ArrayBuffer;
  /** Byte offset of the slot in the memory (a wasm address), or 0 for a private buffer. */
  readonly base: number;
  /** True when `buffer` is the wasm memory's: generated code can reach this CPU's state. */
  readonly shared: boolean;
}

/**
 * What the program does with a guest memory's buffer before its first touch (src/huge-pages.ts
 * asks the host for huge pages); none by default, so tests and embedders see plain memory.
 */
let adviseRam: ((buffer: ArrayBuffer) => void) | null = null;
/** What discard gives back in: a multiple of every host page size (4, 16 or 64 KiB). */
const HOST_PAGE = 64 * 1024;
export function setRamAdvice(advise: ((buffer: ArrayBuffer) => void) | null): void {
  adviseRam = advise;
}

/**
 * How the program gives whole pages of a wasm guest memory back to the host, to read as zeros
 * from then on (src/huge-pages.ts: madvise MADV_DONTNEED); none by default. `view` starts at a
 * page of the memory and holds whole pages; false when they could not be (the caller zeroes them).
 */
let discardRam: ((view: Uint8Array) => boolean) | null = null;
export function setRamDiscard(discard: ((view: Uint8Array) => boolean) | null): void {
  discardRam = discard;
}

export class GuestMemory {
  readonly memory: WebAssembly.Memory | null;
  readonly buffer: ArrayBuffer;
  /** Wasm address of the first CPU slot. */
  readonly cpuBase: number;
  private nextSlot = 0;

  constructor(readonly ramBytes: number) {
    const { cpuBase, pages } = wasmLayout(ramBytes);
    if (ramBytes <= WASM_RAM_LIMIT) {
      // Shared (a SharedArrayBuffer underneath) for V8's accounting: it counts a plain wasm
      // memory's whole size as the isolate's external memory, and ~600 MB of it, far over its
      // 64 MB soft limit, made it start a garbage collection (a scavenge at once, then
      // incremental marking) in the middle of start-up; a shared memory's size is not counted.
      // Loads and stores are the same. (Translated code declares its import shared: wasm.ts.)
      this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
      this.buffer = this.memory.buffer;
    } else {
      this.memory = null;
      this.buffer = new ArrayBuffer(ramBytes);
    }
    adviseRam?.(this.buffer);
    this.cpuBase = cpuBase;
  }

  /**
   * Zero [offset, offset + len) of the buffer by giving its whole pages back to the host (setRamDiscard),
   * the bytes of partial pages at either end written. False, with nothing done, when pages cannot
   * be given back (no way set, or not a wasm memory: a plain ArrayBuffer's may start anywhere in
   * its first page).
   */
  discard(offset: number, len: number): boolean {
    if (discardRam === null || this.memory === null) return false;
    const first = Math.ceil(offset / HOST_PAGE) * HOST_PAGE;
    const end = Math.floor((offset + len) / HOST_PAGE) * HOST_PAGE;
    if (end <= first) return false;
    const bytes = new Uint8Array(this.buffer);
    if (!discardRam(bytes.subarray(first, end))) return false;
    bytes.fill(0, offset, first);
    bytes.fill(0, end, offset + len);
    return true;
  }

  /** A CPU's slot: in the wasm memory while slots last, else a private zeroed buffer. */
  allocCpu(): CpuSlot {
    if (this.memory !== null && this.nextSlot < CPU_SLOTS) {
      const base = this.cpuBase + this.nextSlot++ * CPU_SLOT_BYTES;
      return { buffer: this.buffer, base, shared: true };
    }
    return privateSlot();
  }
}

/** A slot of its own for a CPU whose memory is not a GuestMemory (or whose slots ran out). */
export function privateSlot(): CpuSlot {
  return { buffer: new ArrayBuffer(CPU_SLOT_BYTES), base: 0, shared: false };
}
