// The AArch64 register file: one ArrayBuffer, several views (DESIGN.md "Registers and 64-bit
// arithmetic"). Integer registers are kept as 32-bit halves in an Int32Array so that hot paths
// never allocate BigInts; the BigUint64Array view over the same bytes is there for the rare
// 64-bit operation that is simplest with BigInt (division, 128-bit products) and for tests.
//
// Slot layout (64-bit slots, r[2*i] = low word, r[2*i+1] = high word, little-endian):
//   0..30  X0..X30
//   31     SP of the current exception level (SP_EL0 or SP_ELx per PSTATE.SP)
//   32     ZR: always zero; a register operand encoded as 31 that means XZR reads slot 32
//   33     SINK: writes to XZR land here and are never read
// V registers live in their own region of the same buffer (vregs views below).

export const SP = 31;
export const ZR = 32;
export const SINK = 33;
export const NSLOTS = 34;

/** Register operand encoded as 31 meaning XZR, read side. Use at decode time. */
export function rz(n: number): number {
  return n === 31 ? ZR : n;
}
/** Register operand encoded as 31 meaning XZR, write side (result discarded). */
export function wz(n: number): number {
  return n === 31 ? SINK : n;
}

// Int32 indices of the flag words (PSTATE.NZCV kept as four 0/1 words: cheaper to set and test
// than a packed nibble on the hot path).
export const NF = 80;
export const ZF = 81;
export const CF = 82;
export const VF = 83;
export const FPCR = 84;
export const FPSR = 85;

const GPR_BYTES = 512; // int32 words 0..127
export const V_OFFSET = 512;
const V_BYTES = 32 * 16;
export const REGFILE_BYTES = V_OFFSET + V_BYTES + 512; // spare room at the end for a JIT's scratch
/**
 * The exclusive monitor (pe.ts exclusiveAddr, exclusiveSize, exclusiveValue), in that room so the
 * wasm interpreter's LDXR/STXR keep it too: the reserved address (i64, -1 when open) at
 * EXCL_BYTE, its size (i32) at +8, the value loaded (four i32) at +16.
 */
export const EXCL_BYTE = V_OFFSET + V_BYTES;
export const EXCL_SIZE_BYTE = EXCL_BYTE + 8;
export const EXCL_VALUE_BYTE = EXCL_BYTE + 16;

export class RegisterFile {
  /**
   * The bytes [base, base + REGFILE_BYTES) of `buffer` hold the registers: a CPU slot of the wasm
   * memory shared with RAM (jit/guest-memory.ts) so translated code reaches them, or a buffer of
   * their own.
   */
  readonly buffer: ArrayBuffer;
  readonly base: number;
  /** 32-bit halves of the 64-bit slots and the flag/FP control words. */
  readonly r: Int32Array;
  /** Same words, unsigned. */
  readonly u: Uint32Array;
  /** 64-bit slots as BigInt (slow path and tests only). */
  readonly x: BigUint64Array;
  /** The whole register file as bytes (tests compare it). */
  readonly bytes: Uint8Array;

  // SIMD&FP registers V0..V31, 16 bytes each, little-endian lanes: V<n> lane k of size s is at
  // index n*(16/s)+k in the view of that size.
  readonly vb: Uint8Array;
  readonly vh: Uint16Array;
  readonly vs: Uint32Array;
  readonly vsi: Int32Array;
  readonly vd: BigUint64Array;
  readonly vf32: Float32Array;
  readonly vf64: Float64Array;

  constructor(buffer: ArrayBuffer = new ArrayBuffer(REGFILE_BYTES), base = 0) {
    this.buffer = buffer;
    this.base = base;
    this.r = new Int32Array(buffer, base, GPR_BYTES / 4);
    this.u = new Uint32Array(buffer, base, GPR_BYTES / 4);
    this.x = new BigUint64Array(buffer, base, NSLOTS);
    this.bytes = new Uint8Array(buffer, base, REGFILE_BYTES);
    const v = base + V_OFFSET;
    this.vb = new Uint8Array(buffer, v, V_BYTES);
    this.vh = new Uint16Array(buffer, v, V_BYTES / 2);
    this.vs = new Uint32Array(buffer, v, V_BYTES / 4);
    this.vsi = new Int32Array(buffer, v, V_BYTES / 4);
    this.vd = new BigUint64Array(buffer, v, V_BYTES / 8);
    this.vf32 = new Float32Array(buffer, v, V_BYTES / 4);
    this.vf64 = new Float64Array(buffer, v, V_BYTES / 8);
  }
}
