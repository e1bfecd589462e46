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
const V_OFFSET = 512;
const V_BYTES = 32 * 16;
export const REGFILE_BYTES = V_OFFSET + V_BYTES + 512; // spare room at the end for a JIT's scratch

export class RegisterFile {
  readonly buffer = new ArrayBuffer(REGFILE_BYTES);
  /** 32-bit halves of the 64-bit slots and the flag/FP control words. */
  readonly r = new Int32Array(this.buffer, 0, GPR_BYTES / 4);
  /** Same words, unsigned. */
  readonly u = new Uint32Array(this.buffer, 0, GPR_BYTES / 4);
  /** 64-bit slots as BigInt (slow path and tests only). */
  readonly x = new BigUint64Array(this.buffer, 0, NSLOTS);

  // SIMD&FP registers V0..V31, 16 bytes each, little-endian lanes: V<n> lane k of size s is at
  // index n*(16/s)+k in the view of that size.
  readonly vb = new Uint8Array(this.buffer, V_OFFSET, V_BYTES);
  readonly vh = new Uint16Array(this.buffer, V_OFFSET, V_BYTES / 2);
  readonly vs = new Uint32Array(this.buffer, V_OFFSET, V_BYTES / 4);
  readonly vsi = new Int32Array(this.buffer, V_OFFSET, V_BYTES / 4);
  readonly vd = new BigUint64Array(this.buffer, V_OFFSET, V_BYTES / 8);
  readonly vf32 = new Float32Array(this.buffer, V_OFFSET, V_BYTES / 4);
  readonly vf64 = new Float64Array(this.buffer, V_OFFSET, V_BYTES / 8);
}
