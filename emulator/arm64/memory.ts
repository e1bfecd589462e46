// What the CPU needs from the physical side, and how virtual addresses become physical ones.
// The Bus (emulator/bus/bus.ts) implements PhysicalMemory; the MMU (stage 1 + stage 2) or, for
// user-mode programs, a page map implements AddressTranslator.
import type { CodeCache } from './code-cache.ts';
import type { GuestMemory } from './jit/guest-memory.ts';

export interface PhysicalMemory {
  /**
   * All RAM, one buffer. ramOffset(pa) gives the byte offset of a RAM address in it, or -1.
   * Writing it directly bypasses code coherence: call codeCache.invalidate() for what was written.
   */
  readonly ram: DataView;
  readonly ramBytes: Uint8Array;
  ramOffset(pa: number): number;
  /** Decoded instructions by RAM page, shared by every CPU on this memory (code-cache.ts). */
  readonly codeCache: CodeCache;
  /** The wasm memory RAM lives in, with room for the CPUs' state (absent: no translator). */
  readonly guest?: GuestMemory;
  /**
   * Slow path for anything (RAM or MMIO). Throws BusError for an address with nothing behind it.
   * RAM writes here (and in write64) drop decoded code of the page written.
   */
  read(pa: number, size: 1 | 2 | 4): number;
  write(pa: number, size: 1 | 2 | 4, value: number): void;
  read64(pa: number): bigint;
  write64(pa: number, value: bigint): void;
}

export const enum Access {
  Read = 0,
  Write = 1,
  Exec = 2,
}

/**
 * Translates a virtual address for an access at the CPU's current exception level. Returns the
 * physical address. On a fault it raises the architectural exception through the CPU (which
 * throws, unwinding the instruction) and never returns.
 * `cacheable` tells the caller whether the 4 KiB page translation may be kept in the CPU's soft
 * TLB (false for e.g. a watchpoint page); most translators answer true.
 */
export interface AddressTranslator {
  translate(va: number, access: Access): number;
  readonly pageCacheable: boolean;
}

/** Physical = virtual, everything permitted: bare-metal tests and the instruction oracle. */
export class IdentityTranslator implements AddressTranslator {
  readonly pageCacheable = true;
  translate(va: number): number {
    return va;
  }
}
