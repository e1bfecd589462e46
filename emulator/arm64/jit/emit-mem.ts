// Emitters for the general-register loads and stores (ARM ARM C6.2 LDR/STR/LDP/STP and their size
// and sign variants; immediate, unscaled, pre/post-index, register-offset and literal forms), and
// the data-cache operations by address (DC ZVA, DC CVAU...).
// The soft-TLB hit path of memory-accessor.ts is inlined: the CPU's TLB arrays live in its slot of the
// wasm memory (guest-memory.ts), and a hit gives a RAM offset, which is a wasm address. Anything
// else -- a miss, a page crossing, MMIO, a fault, an address the TypeScript side would compute
// with rounding (beyond +-2^52) -- runs the interpreter's handler for the whole instruction, so
// the slow path is the interpreter's, exactly.
import type { Fields } from '../decode/pattern.ts';
import * as A from '../exec/ls-access.ts';
import * as X from '../exec/ls-single.ts';
import * as P from '../exec/ls-pair.ts';
import * as E from '../exec/ls-excl.ts';
import * as S from '../exec/int-sys.ts';
import { CPU_FLAG_ZVA, SLOT_CPU_FLAGS, SLOT_TLB_OFFSET } from './guest-memory.ts';
import { V_OFFSET } from '../regs.ts';
import { TLB_CONTEXTS, TLB_R_OFF, TLB_R_TAG, TLB_SIZE, TLB_W_OFF, TLB_W_TAG } from '../soft-tlb.ts';
import { type Bytes, Op, T, type WasmFunction } from './wasm.ts';
import { EL0_CTX, TYPE_PROBE, tlbEntry } from './chain.ts';
import { Emit, L_ADDR, L_C, L_CTX, L_R, L_RB, L_T, L_V2, L_VA } from './emitter.ts';
import type { Emitter } from './emit-alu.ts';

const TLB_ARRAY_BYTES = TLB_SIZE * TLB_CONTEXTS * 8;
const tlbArray = (which: number): number => SLOT_TLB_OFFSET + which * TLB_ARRAY_BYTES;

export interface Kind {
  size: number;
  load: boolean;
  op: Op;
  /** A 32-bit sign-extending load whose result is then zero-extended (LDRSB/LDRSH Wt). */
  zext32?: boolean;
  /** A SIMD&FP register (t is its number): a load zeroes the rest of V<t>. */
  vec?: boolean;
}

/** Byte offset of the V registers in the register file. */
const V_OFF = V_OFFSET;

export const SINGLE = new Map<unknown, Kind>([
  [A.ldrb, { size: 1, load: true, op: Op.i64_load8_u }],
  [A.ldrh, { size: 2, load: true, op: Op.i64_load16_u }],
  [A.ldrw, { size: 4, load: true, op: Op.i64_load32_u }],
  [A.ldrx, { size: 8, load: true, op: Op.i64_load }],
  [A.ldrsbw, { size: 1, load: true, op: Op.i32_load8_s, zext32: true }],
  [A.ldrshw, { size: 2, load: true, op: Op.i32_load16_s, zext32: true }],
  [A.ldrsbx, { size: 1, load: true, op: Op.i64_load8_s }],
  [A.ldrshx, { size: 2, load: true, op: Op.i64_load16_s }],
  [A.ldrsw, { size: 4, load: true, op: Op.i64_load32_s }],
  [A.strb, { size: 1, load: false, op: Op.i64_store8 }],
  [A.strh, { size: 2, load: false, op: Op.i64_store16 }],
  [A.strw, { size: 4, load: false, op: Op.i64_store32 }],
  [A.strx, { size: 8, load: false, op: Op.i64_store }],
  [A.ldrVb, { size: 1, load: true, op: Op.i64_load8_u, vec: true }],
  [A.ldrVh, { size: 2, load: true, op: Op.i64_load16_u, vec: true }],
  [A.ldrVs, { size: 4, load: true, op: Op.i64_load32_u, vec: true }],
  [A.ldrVd, { size: 8, load: true, op: Op.i64_load, vec: true }],
  [A.ldrVq, { size: 16, load: true, op: Op.i64_load, vec: true }],
  [A.strVb, { size: 1, load: false, op: Op.i64_store8, vec: true }],
  [A.strVh, { size: 2, load: false, op: Op.i64_store16, vec: true }],
  [A.strVs, { size: 4, load: false, op: Op.i64_store32, vec: true }],
  [A.strVd, { size: 8, load: false, op: Op.i64_store, vec: true }],
  [A.strVq, { size: 16, load: false, op: Op.i64_store, vec: true }],
]);

/** Load into V<t> (the element, zeros above it) or store V<t>'s low `size` bytes, at L_ADDR. */
function vecAccess(e: Emit, k: Kind, t: number, at = 0): void {
  const v = V_OFF + 16 * t;
  if (k.load) {
    e.get(L_RB);
    e.get(L_ADDR);
    e.mem(k.op, at);
    e.mem(Op.i64_store, v);
    e.get(L_RB);
    if (k.size === 16) {
      e.get(L_ADDR);
      e.mem(Op.i64_load, at + 8);
    } else e.i64(0);
    e.mem(Op.i64_store, v + 8);
  } else {
    e.get(L_ADDR);
    e.get(L_RB);
    e.mem(Op.i64_load, v);
    e.mem(k.op, at);
    if (k.size === 16) {
      e.get(L_ADDR);
      e.get(L_RB);
      e.mem(Op.i64_load, v + 8);
      e.mem(Op.i64_store, at + 8);
    }
  }
}

export const PAIR = new Map<unknown, Kind>([
  [P.ldpX, { size: 8, load: true, op: Op.i64_load }],
  [P.ldpW, { size: 4, load: true, op: Op.i64_load32_u }],
  [P.ldpsw, { size: 4, load: true, op: Op.i64_load32_s }],
  [P.stpX, { size: 8, load: false, op: Op.i64_store }],
  [P.stpW, { size: 4, load: false, op: Op.i64_store32 }],
  [P.ldpVs, { size: 4, load: true, op: Op.i64_load32_u, vec: true }],
  [P.ldpVd, { size: 8, load: true, op: Op.i64_load, vec: true }],
  [P.ldpVq, { size: 16, load: true, op: Op.i64_load, vec: true }],
  [P.stpVs, { size: 4, load: false, op: Op.i64_store32, vec: true }],
  [P.stpVd, { size: 8, load: false, op: Op.i64_store, vec: true }],
  [P.stpVq, { size: 16, load: false, op: Op.i64_store, vec: true }],
]);

/** 'unpriv': LDTR/STTR, [Xn|SP, #off] in the EL0 TLB context (chain.ts EL0_CTX). */
type Mode = 'off' | 'pre' | 'post' | 'reg' | 'lit' | 'unpriv';

/** br_if to the slow path (depth 0) when the i64 in local l is outside [-2^bits, 2^bits). */
function rangeCheck(e: Emit, l: number, bits: number): void {
  e.get(l);
  e.i64(2 ** bits);
  e.op(Op.i64_add);
  e.i64(bits + 1);
  e.op(Op.i64_shr_u);
  e.op(Op.i32_wrap_i64);
  e.op(Op.br_if);
  e.u32(0);
}

/** L_VA = the access address. Inside $slow. */
function address(e: Emit, f: Fields, mode: Mode): void {
  if (mode === 'lit') {
    e.pcPlus(e.idx * 4 + f.off);
    e.set(L_VA);
    return;
  }
  // No range check on the base: the soft TLB holds no page beyond +-2^52 (memory-accessor.ts tlbAddress),
  // so a hit proves base + offset within it, where the interpreter's JS-number arithmetic is
  // exact too (an immediate or a checked index is under 2^52, so the base was under 2^53).
  e.x(f.b >> 1);
  if (mode === 'reg') {
    const m = f.m >> 1;
    if (f.ik === 0) {
      e.x(m);
      e.set(L_C);
      rangeCheck(e, L_C, 48);
      e.get(L_C);
    } else {
      e.w(m);
      e.op(f.ik === 1 ? Op.i64_extend_i32_u : Op.i64_extend_i32_s);
    }
    const sh = Math.log2(f.mul);
    if (sh) {
      e.i64(sh);
      e.op(Op.i64_shl);
    }
    e.op(Op.i64_add);
  } else if (mode !== 'post' && f.off !== 0) {
    e.i64(f.off);
    e.op(Op.i64_add);
  }
  e.set(L_VA);
}

/**
 * The soft-TLB probe (memory-accessor.ts read8..write64): br_if $slow unless the page of L_VA is in the
 * read (or write) TLB and [va, va+size) stays in it; then L_ADDR = its wasm address. Inline in
 * inner loops and optimized pages; elsewhere, with e.outlineProbes, a call of the module's probe
 * function for this size and direction (~15 bytes instead of ~70). ctx: the TLB context's local,
 * or chain.ts EL0_CTX (LDTR/STTR).
 */
export function probe(e: Emit, size: number, write: boolean, ctx = L_CTX): void {
  if (e.outlineProbes && e.loopStart < 0) {
    e.get(L_VA);
    e.get(L_RB);
    if (ctx === EL0_CTX) e.i32(0);
    else e.get(ctx);
    e.op(Op.call);
    e.u32(e.probeFn(probeKey(size, write)));
    e.tee(L_ADDR);
    e.i32(-1);
    e.op(Op.i32_eq);
    e.op(Op.br_if);
    e.u32(0);
    return;
  }
  probeInline(e, L_VA, L_RB, ctx, L_C, L_T, size, write);
  e.op(Op.i32_eqz);
  e.op(Op.br_if);
  e.u32(0);
  addressOf(e, L_VA, L_T, write);
  e.set(L_ADDR);
}

/**
 * Push (i32) whether the page of the i64 in local va is in the TLB with [va, va+size) in it; local
 * t = its entry's address (locals rb, ctx: the CPU's slot and TLB context; pn: an i64 scratch).
 * Also the wasm interpreter's inline probe (winterp-mem.ts).
 */
export function probeInline(e: Bytes, va: number, rb: number, ctx: number, pn: number, t: number, size: number, write: boolean): void {
  e.get(va);
  e.i64(12);
  e.op(Op.i64_shr_s);
  e.set(pn);
  tlbEntry(e, pn, ctx, rb);
  e.set(t);
  // (the integer tag: soft-tlb.ts rTagI)
  e.get(pn);
  e.get(t);
  e.mem(Op.i64_load, tlbArray(write ? TLB_W_TAG : TLB_R_TAG), 3);
  e.op(Op.i64_eq);
  e.get(va);
  e.op(Op.i32_wrap_i64);
  e.i32(0xfff);
  e.op(Op.i32_and);
  e.i32(4096 - size);
  e.op(Op.i32_le_u);
  e.op(Op.i32_and);
}

/** Push (i32) the wasm address of the i64 in local va, whose TLB entry is at local t. */
export function addressOf(e: Bytes, va: number, t: number, write: boolean): void {
  e.get(t);
  // (the low word of the entry: soft-tlb.ts rOff)
  e.mem(Op.i32_load, tlbArray(write ? TLB_W_OFF : TLB_R_OFF), 2);
  e.get(va);
  e.op(Op.i32_wrap_i64);
  e.i32(0xfff);
  e.op(Op.i32_and);
  e.op(Op.i32_add);
}

/** The probe functions' keys: the access size (1..32 bytes) and direction. */
export const probeKey = (size: number, write: boolean): number => size * 2 + (write ? 1 : 0);

/**
 * probe(va: i64, rb: i32, ctx: i32) -> i32: the wasm address of va when its page is in the CPU's
 * read (write) TLB and the access of the key's size stays in it, else -1 (never a wasm address:
 * the memory stays below 4 GiB). One per key a page uses, after its page function.
 */
export function probeFunction(key: number): WasmFunction {
  const e = new Emit();
  const size = key >> 1;
  const write = (key & 1) === 1;
  // Parameters va, rb, ctx; locals pn (i64), t (i32).
  probeInline(e, 0, 1, 2, 3, 4, size, write);
  e.op(Op.if);
  e.byte(T.i32);
  addressOf(e, 0, 4, write);
  e.op(Op.else);
  e.i32(-1);
  e.op(Op.end);
  return { type: TYPE_PROBE, locals: [[1, T.i64], [1, T.i32]], body: e };
}

/** Base-register writeback of the pre/post-indexed forms, after the access (Rn wins over Rt). */
function writeback(e: Emit, f: Fields, mode: Mode): void {
  if (mode === 'pre') e.setX(f.b >> 1, () => e.get(L_VA));
  else if (mode === 'post') {
    e.setX(f.b >> 1, () => {
      e.get(L_VA);
      e.i64(f.off);
      e.op(Op.i64_add);
    });
  }
}

/** $done { $slow { fast path; br $done } interpreter's handler } */
export function withSlowPath(e: Emit, fast: () => void): void {
  e.block();
  e.block();
  fast();
  e.op(Op.br);
  e.u32(1);
  e.end();
  e.interp();
  e.end();
}

function single(mode: Mode): Emitter {
  return (e, f) => {
    if (f.acc === A.prfm) return true; // a hint: no access, no fault
    const k = SINGLE.get(f.acc);
    if (k === undefined) return false;
    withSlowPath(e, () => {
      address(e, f, mode);
      probe(e, k.size, !k.load, mode === 'unpriv' ? EL0_CTX : L_CTX);
      const t = f.t >> 1;
      if (k.vec) vecAccess(e, k, f.t);
      else if (k.load) {
        e.setX(t, () => {
          e.get(L_ADDR);
          e.mem(k.op, 0);
          if (k.zext32) e.op(Op.i64_extend_i32_u);
        });
      } else {
        e.get(L_ADDR);
        e.x(t);
        e.mem(k.op, 0);
      }
      writeback(e, f, mode);
    });
    return true;
  };
}

function pair(mode: Mode): Emitter {
  return (e, f) => {
    const k = PAIR.get(f.acc);
    if (k === undefined) return false;
    withSlowPath(e, () => {
      address(e, f, mode);
      probe(e, 2 * k.size, !k.load);
      const t = f.t >> 1;
      const t2 = f.t2 >> 1;
      if (k.vec) {
        // Both elements are read before a register is written: with Vt == Vt2 the second wins
        // (exec/ls-pair.ts, as QEMU), which writing them in order gives; a store reads first.
        if (k.load && f.t === f.t2) vecAccess(e, k, f.t2, k.size);
        else {
          vecAccess(e, k, f.t, 0);
          vecAccess(e, k, f.t2, k.size);
        }
      } else if (k.load) {
        // Both elements are read before either register is written; Rt wins when Rt == Rt2.
        e.get(L_ADDR);
        e.mem(k.op, 0);
        e.set(L_R);
        e.get(L_ADDR);
        e.mem(k.op, k.size);
        e.set(L_V2);
        e.setX(t2, () => e.get(L_V2));
        e.setX(t, () => e.get(L_R));
      } else {
        e.get(L_ADDR);
        e.x(t);
        e.mem(k.op, 0);
        e.get(L_ADDR);
        e.x(t2);
        e.mem(k.op, k.size);
      }
      writeback(e, f, mode);
    });
    return true;
  };
}

/**
 * STLR, LDAR, LDAPR (exec/ls-excl.ts storeRelease/loadAcquire): a plain access -- the machine runs
 * one CPU at a time, so every access is already ordered -- that must be aligned to its size: an
 * unaligned address takes the handler, which raises the alignment fault.
 */
function ordered(e: Emit, f: Fields): boolean {
  const k = SINGLE.get(f.acc);
  if (k === undefined || k.vec) return false;
  withSlowPath(e, () => {
    address(e, { b: f.b, off: 0 }, 'off');
    if (k.size > 1) {
      e.get(L_VA);
      e.op(Op.i32_wrap_i64);
      e.i32(k.size - 1);
      e.op(Op.i32_and);
      e.op(Op.br_if);
      e.u32(0);
    }
    probe(e, k.size, !k.load);
    const t = f.t >> 1;
    if (k.load) {
      e.setX(t, () => {
        e.get(L_ADDR);
        e.mem(k.op, 0);
      });
    } else {
      e.get(L_ADDR);
      e.x(t);
      e.mem(k.op, 0);
    }
  });
  return true;
}

/**
 * DC ZVA (exec/int-sys.ts dcZva), as the wasm interpreter runs it (winterp-mem.ts): at EL1 (TLB
 * context 0 is EL0, where SCTLR_EL1.DZE decides) when EL2 does not trap it (the run loop's CPU
 * flags word), the block in the write TLB (so not a code page): eight stores of zero.
 */
function dcZva(e: Emit, f: Fields): boolean {
  withSlowPath(e, () => {
    e.get(L_CTX);
    e.op(Op.i32_eqz);
    e.op(Op.br_if);
    e.u32(0);
    e.get(L_RB);
    e.mem(Op.i32_load, SLOT_CPU_FLAGS, 2);
    e.i32(CPU_FLAG_ZVA);
    e.op(Op.i32_and);
    e.op(Op.i32_eqz);
    e.op(Op.br_if);
    e.u32(0);
    e.x(f.rtr);
    e.i64(-64);
    e.op(Op.i64_and);
    e.set(L_VA);
    probe(e, 16, true);
    for (let o = 0; o < 64; o += 8) {
      e.get(L_ADDR);
      e.i64(0);
      e.mem(Op.i64_store, o, 3);
    }
  });
  return true;
}

/** DC CVAC/CVAU/CIVAC/IVAC (exec/int-sys.ts dcByVa): the address checked as a read, EL0 by the handler when EL1 only. */
function dcByVa(e: Emit, f: Fields): boolean {
  withSlowPath(e, () => {
    if (f.el1Only) {
      e.get(L_CTX);
      e.op(Op.i32_eqz);
      e.op(Op.br_if);
      e.u32(0);
    }
    e.x(f.rtr);
    e.set(L_VA);
    probe(e, 1, false);
  });
  return true;
}

export const memEmitters = new Map<unknown, Emitter>([
  [S.dcZva, dcZva],
  [S.dcByVa, dcByVa],
  [E.storeRelease, ordered],
  [E.loadAcquire, ordered],
  [X.ldstImm, single('off')],
  [X.ldrXImm, single('off')],
  [X.ldrWImm, single('off')],
  [X.ldrBImm, single('off')],
  [X.strXImm, single('off')],
  [X.strWImm, single('off')],
  [X.strBImm, single('off')],
  [X.ldstUnpriv, single('unpriv')],
  [X.ldstPre, single('pre')],
  [X.ldstPost, single('post')],
  [X.ldstRegX, single('reg')],
  [X.ldstRegUxtw, single('reg')],
  [X.ldstRegSxtw, single('reg')],
  [X.ldrWReg, single('reg')],
  [X.ldrXReg, single('reg')],
  [X.ldrBReg, single('reg')],
  [X.strWReg, single('reg')],
  [X.strXReg, single('reg')],
  [X.ldrSReg, single('reg')],
  [X.ldrDReg, single('reg')],
  [X.ldrQReg, single('reg')],
  [X.ldLiteral, single('lit')],
  [P.ldstPairOff, pair('off')],
  [P.ldpXOff, pair('off')],
  [P.stpXOff, pair('off')],
  [P.ldstPairPre, pair('pre')],
  [P.stpXPre, pair('pre')],
  [P.ldstPairPost, pair('post')],
  [P.ldpXPost, pair('post')],
]);
