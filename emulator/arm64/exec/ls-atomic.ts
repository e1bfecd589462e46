// Atomic memory operations (FEAT_LSE, Armv8.1): LD<op> (ADD, CLR, EOR, SET, SMAX, SMIN, UMAX,
// UMIN), SWP, CAS and CASP, in every size and ordering (ARM ARM C6.2 LDADD ... SWP, CAS, CASP;
// shared pseudocode MemAtomic, MemAtomicCompareAndSwap).
//
// Single-copy atomicity: one PE executes at a time and an instruction is never interrupted, so
// reading and writing RAM inside one handler is atomic with respect to every other emulated PE.
// The access is translated once, for write and read (cpu.rmwOffset), before anything is read:
// alignment, translation, permission and stage-2 faults leave memory and registers untouched; a
// device address takes an external abort and the device sees no access. Acquire/release orderings
// (A, L bits) need nothing more than program order here.
//
// Exclusive monitors: a store-exclusive passes only while memory still holds what its
// load-exclusive read (ls-excl.ts), so an atomic that changes a reserved location — on this PE or
// another — makes the pending STXR fail, as a store clearing the global monitor would. An atomic
// that leaves the value as it was is indistinguishable from one ordered before the load-exclusive.
//
// Fields (decode/ls-atomic.ts): b = int32 index of the base register (SP for 31); s/t = int32
// indices of Rs/Rt for reading (XZR -> ZR) and sw/tw for writing (XZR -> SINK); size in bytes.
import type { Cpu } from '../cpu.ts';
import type { Fields } from '../decode/pattern.ts';
import { addrOf } from './ls-access.ts';
import { alignmentFault } from './ls-excl.ts';

/** LD<op>/SWP operation codes: the opc field, and 8 for SWP. */
export const AtomicOp = { ADD: 0, CLR: 1, EOR: 2, SET: 3, SMAX: 4, SMIN: 5, UMAX: 6, UMIN: 7, SWP: 8 } as const;

/** Read-modify-write address: aligned to `align` bytes, translated for both read and write. */
function rmwAddress(cpu: Cpu, b: number, align: number): number {
  const va = addrOf(cpu.r, b);
  // Alignment faults come first (ARM ARM: they take priority over MMU faults); reported as writes.
  if (va % align !== 0) alignmentFault(cpu, va, true);
  return cpu.rmwOffset(va);
}

/** LD<op>/SWP on a byte, halfword or word: Rt = the old value, zero-extended. */
export function atomicSmall(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const size: number = f.size;
  const ro = rmwAddress(cpu, f.b, size);
  const ram = cpu.ram;
  const old = size === 4 ? ram.getUint32(ro, true) : size === 2 ? ram.getUint16(ro, true) : ram.getUint8(ro);
  const s = r[f.s]!;
  let v: number;
  switch (f.op as number) {
    case AtomicOp.ADD:
      v = old + s;
      break;
    case AtomicOp.CLR:
      v = old & ~s;
      break;
    case AtomicOp.EOR:
      v = old ^ s;
      break;
    case AtomicOp.SET:
      v = old | s;
      break;
    case AtomicOp.SWP:
      v = s;
      break;
    default: {
      // Signed forms compare the sign-extended elements, unsigned forms the zero-extended ones.
      const sh = 32 - 8 * size;
      let a: number, c: number;
      if (f.op === AtomicOp.SMAX || f.op === AtomicOp.SMIN) {
        a = (old << sh) >> sh;
        c = (s << sh) >> sh;
      } else {
        a = old;
        c = sh === 0 ? s >>> 0 : s & ((1 << (8 * size)) - 1);
      }
      const max = f.op === AtomicOp.SMAX || f.op === AtomicOp.UMAX;
      v = (a >= c) === max ? old : s;
    }
  }
  if (size === 4) ram.setInt32(ro, v | 0, true);
  else if (size === 2) ram.setUint16(ro, v & 0xffff, true);
  else ram.setUint8(ro, v & 0xff);
  r[f.tw] = old;
  r[f.tw + 1] = 0;
}

/** LD<op>/SWP on a doubleword: Rt = the old value. */
export function atomic64(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const ro = rmwAddress(cpu, f.b, 8);
  const ram = cpu.ram;
  const lo = ram.getInt32(ro, true);
  const hi = ram.getInt32(ro + 4, true);
  const slo = r[f.s]!;
  const shi = r[f.s + 1]!;
  let nlo: number, nhi: number;
  switch (f.op as number) {
    case AtomicOp.ADD: {
      const sum = (lo >>> 0) + (slo >>> 0);
      nlo = sum | 0;
      nhi = (hi + shi + (sum > 0xffffffff ? 1 : 0)) | 0;
      break;
    }
    case AtomicOp.CLR:
      nlo = lo & ~slo;
      nhi = hi & ~shi;
      break;
    case AtomicOp.EOR:
      nlo = lo ^ slo;
      nhi = hi ^ shi;
      break;
    case AtomicOp.SET:
      nlo = lo | slo;
      nhi = hi | shi;
      break;
    case AtomicOp.SWP:
      nlo = slo;
      nhi = shi;
      break;
    default: {
      const signed = f.op === AtomicOp.SMAX || f.op === AtomicOp.SMIN;
      const ah = signed ? hi : hi >>> 0;
      const ch = signed ? shi : shi >>> 0;
      const ge = ah > ch || (ah === ch && lo >>> 0 >= slo >>> 0);
      const keepOld = ge === (f.op === AtomicOp.SMAX || f.op === AtomicOp.UMAX);
      nlo = keepOld ? lo : slo;
      nhi = keepOld ? hi : shi;
    }
  }
  ram.setInt32(ro, nlo, true);
  ram.setInt32(ro + 4, nhi, true);
  r[f.tw] = lo;
  r[f.tw + 1] = hi;
}

/**
 * CAS (byte ... doubleword): if memory equals Rs (at the access size), write Rt; Rs = the old
 * value, zero-extended. The location is checked for write permission even when the compare fails.
 */
export function cas(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const size: number = f.size;
  const ro = rmwAddress(cpu, f.b, size);
  const ram = cpu.ram;
  const s = f.s, t = f.t;
  if (size === 8) {
    const lo = ram.getInt32(ro, true);
    const hi = ram.getInt32(ro + 4, true);
    if (lo === r[s] && hi === r[s + 1]) {
      ram.setInt32(ro, r[t]!, true);
      ram.setInt32(ro + 4, r[t + 1]!, true);
    }
    r[f.sw] = lo;
    r[f.sw + 1] = hi;
    return;
  }
  const old = size === 4 ? ram.getUint32(ro, true) : size === 2 ? ram.getUint16(ro, true) : ram.getUint8(ro);
  const expect = size === 4 ? r[s]! >>> 0 : r[s]! & ((1 << (8 * size)) - 1);
  if (old === expect) {
    const nv = r[t]!;
    if (size === 4) ram.setInt32(ro, nv, true);
    else if (size === 2) ram.setUint16(ro, nv & 0xffff, true);
    else ram.setUint8(ro, nv & 0xff);
  }
  r[f.sw] = old;
  r[f.sw + 1] = 0;
}

/**
 * CASP: a pair of words (8 bytes) or doublewords (16 bytes), naturally aligned to the whole
 * pair; Rs/Rs+1 are compared with the lower/upper element and receive the old elements, Rt/Rt+1
 * are stored. Fields s, s1, t, t1 (read), sw, sw1 (write), size = bytes per element.
 */
export function casp(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const ram = cpu.ram;
  if (f.size === 4) {
    const ro = rmwAddress(cpu, f.b, 8);
    const w0 = ram.getInt32(ro, true);
    const w1 = ram.getInt32(ro + 4, true);
    if (w0 === r[f.s] && w1 === r[f.s1]) {
      ram.setInt32(ro, r[f.t]!, true);
      ram.setInt32(ro + 4, r[f.t1]!, true);
    }
    r[f.sw] = w0;
    r[f.sw + 1] = 0;
    r[f.sw1] = w1;
    r[f.sw1 + 1] = 0;
    return;
  }
  const ro = rmwAddress(cpu, f.b, 16);
  const w0 = ram.getInt32(ro, true);
  const w1 = ram.getInt32(ro + 4, true);
  const w2 = ram.getInt32(ro + 8, true);
  const w3 = ram.getInt32(ro + 12, true);
  if (w0 === r[f.s] && w1 === r[f.s + 1] && w2 === r[f.s1] && w3 === r[f.s1 + 1]) {
    ram.setInt32(ro, r[f.t]!, true);
    ram.setInt32(ro + 4, r[f.t + 1]!, true);
    ram.setInt32(ro + 8, r[f.t1]!, true);
    ram.setInt32(ro + 12, r[f.t1 + 1]!, true);
  }
  r[f.sw] = w0;
  r[f.sw + 1] = w1;
  r[f.sw1] = w2;
  r[f.sw1 + 1] = w3;
}
