// Load/store exclusive and load-acquire/store-release (ARM ARM C6.2 LDXR/STXR/LDXP/STXP and their
// acquire/release forms, LDAR/STLR, LDAPR). One PE executes at a time, so acquire/release
// ordering needs nothing beyond program order; what remains is the alignment check and the
// exclusive monitor.
//
// The local monitor is cpu.exclusiveAddr/exclusiveSize/exclusiveValue (the reserved address, the
// bytes loaded and the value they held: per-CPU state that a world switch saves, context.ts).
// Besides the address, a store-exclusive also requires memory to still hold the value the
// load-exclusive returned, as QEMU does: another PE that runs between our LDXR and STXR and
// writes the location makes the STXR fail, standing in for the global monitor.
import type { Cpu } from '../cpu.ts';
import { EC } from '../ec.ts';
import type { Fields } from '../decode/pattern.ts';
import type { Access } from './ls-access.ts';

const TWO32 = 4294967296;

/**
 * Alignment fault (ESR ISS.DFSC = 0b100001, ISS.WnR; D17.2.40 ESR_EL1 data abort ISS), taken to
 * the current EL or from EL0.
 */
export function alignmentFault(cpu: Cpu, va: number, write: boolean): never {
  const iss = 0x21 | (write ? 1 << 6 : 0);
  return cpu.raise(cpu.el === 0 ? EC.DABT_LOWER : EC.DABT_SAME, iss, va, cpu.pc);
}

/**
 * Read `n` bytes (1, 2, 4, 8 or 16) at va into words[0..3] as little-endian memory bytes, the
 * words past `n` zeroed.
 */
function readBytes(cpu: Cpu, va: number, n: number, words: Int32Array): void {
  words.fill(0);
  if (n >= 8) {
    words[0] = cpu.read64(va);
    words[1] = cpu.hi;
    if (n === 16) {
      words[2] = cpu.read64(va + 8);
      words[3] = cpu.hi;
    }
  } else words[0] = n === 4 ? cpu.read32(va) : n === 2 ? cpu.read16(va) : cpu.read8(va);
}

const scratch = new Int32Array(4);

/**
 * LDXR/LDAXR and LDXP/LDAXP: fields b, t, t2, size (bytes per register), pair. A pair is one
 * single-copy atomic access of 2 * size bytes: Rt gets the lower-addressed element.
 */
export function loadExclusive(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const va = r[f.b + 1]! * TWO32 + (r[f.b]! >>> 0);
  const size = f.size;
  const total = f.pair ? size * 2 : size;
  if (va % total !== 0) alignmentFault(cpu, va, false);
  readBytes(cpu, va, total, scratch);
  cpu.exclusiveValue.set(scratch);
  if (f.pair) {
    // Rt == Rt2 (CONSTRAINED UNPREDICTABLE) ends with the second element, as in QEMU.
    if (size === 4) {
      r[f.t] = scratch[0]!;
      r[f.t + 1] = 0;
      r[f.t2] = scratch[1]!;
      r[f.t2 + 1] = 0;
    } else {
      r[f.t] = scratch[0]!;
      r[f.t + 1] = scratch[1]!;
      r[f.t2] = scratch[2]!;
      r[f.t2 + 1] = scratch[3]!;
    }
  } else {
    r[f.t] = scratch[0]!;
    r[f.t + 1] = scratch[1]!;
  }
  cpu.exclusiveAddr = va;
  cpu.exclusiveSize = total;
}

/**
 * STXR/STLXR/STXP/STLXP: fields b, t, t2, s (status register, W), size, pair.
 * Passes when the address is the reserved one and memory still holds what the load-exclusive
 * read: for stores of up to 8 bytes, the memory value at the store's size, zero-extended, equals
 * the first 64 bits loaded; for a 16-byte pair, all 128. A size that differs from the load's is
 * CONSTRAINED UNPREDICTABLE; this gives QEMU's outcome for it.
 */
export function storeExclusive(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const va = r[f.b + 1]! * TWO32 + (r[f.b]! >>> 0);
  const size = f.size;
  const total = f.pair ? size * 2 : size;
  if (va % total !== 0) alignmentFault(cpu, va, true);
  const lo = r[f.t]!, hi = r[f.t + 1]!;
  const lo2 = r[f.t2]!, hi2 = r[f.t2 + 1]!;
  let status = 1;
  if (cpu.exclusiveAddr === va) {
    const m = cpu.exclusiveValue;
    readBytes(cpu, va, total, scratch);
    // Up to 8 bytes: the stored-size memory value, zero-extended, against the first 64 bits read.
    const same = scratch[0] === m[0] && scratch[1] === m[1] && (total < 16 || (scratch[2] === m[2] && scratch[3] === m[3]));
    if (same) {
      if (!f.pair) {
        if (size === 8) cpu.write64(va, lo, hi);
        else if (size === 4) cpu.write32(va, lo);
        else if (size === 2) cpu.write16(va, lo & 0xffff);
        else cpu.write8(va, lo & 0xff);
      } else if (size === 4) cpu.write64(va, lo, lo2);
      else {
        cpu.probeWrite(va, 16);
        cpu.write64(va, lo, hi);
        cpu.write64(va + 8, lo2, hi2);
      }
      status = 0;
    }
  }
  cpu.exclusiveAddr = -1;
  r[f.s] = status;
  r[f.s + 1] = 0;
}

/** LDAR/LDAPR (acc = the plain load) with the natural-alignment check: fields b, t, size, acc. */
export function loadAcquire(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const va = r[f.b + 1]! * TWO32 + (r[f.b]! >>> 0);
  if (va % f.size !== 0) alignmentFault(cpu, va, false);
  cpu.va = va;
  (f.acc as Access)(cpu, f.t);
}

/** STLR: fields b, t, size, acc. */
export function storeRelease(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const va = r[f.b + 1]! * TWO32 + (r[f.b]! >>> 0);
  if (va % f.size !== 0) alignmentFault(cpu, va, true);
  cpu.va = va;
  (f.acc as Access)(cpu, f.t);
}
