// Advanced SIMD half-precision floating point (FEAT_FP16, ARM ARM C7.2 "(half-precision)" forms):
// 16-bit lanes through the same FP library calls as the single/double lanes of fp-vector.ts.
import type { Cpu } from '../cpu.ts';
import { H } from '../fp/bits.ts';
import { fma, sqrt } from '../fp/arith.ts';
import { compareLane } from '../fp/compare.ts';
import { roundInt, toFixed, fromFixed } from '../fp/convert.ts';
import { recipEstimateFp, rsqrtEstimateFp, recpx } from '../fp/estimate.ts';
import { OP, lane2 } from './fp-vector.ts';

type F = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const res = new Uint16Array(8);

/** Copy `lanes` results into Vd, zeroing the rest of the register. */
function store(cpu: Cpu, d: number, lanes: number): void {
  const vh = cpu.regs.vh;
  for (let k = 0; k < 8; k++) vh[d * 8 + k] = k < lanes ? res[k]! : 0;
}

/** Three same (vector or scalar), half lanes: f.op, f.lanes, f.pairwise. */
export function threeSameH(cpu: Cpu, f: F): void {
  const vh = cpu.regs.vh;
  const { lanes, rn, rm, rd, op } = f;
  const r = cpu.r;
  for (let i = 0; i < lanes; i++) {
    if (op === OP.FMLA || op === OP.FMLS) {
      res[i] = fma(r, H, vh[rd * 8 + i]!, 0, vh[rn * 8 + i]!, 0, vh[rm * 8 + i]!, 0, 0, op === OP.FMLS ? 0x8000 : 0);
      continue;
    }
    let a: number, b: number;
    if (f.pairwise) {
      const half = lanes / 2;
      const src = i < half ? rn : rm;
      const j = (i % half) * 2;
      a = vh[src * 8 + j]!;
      b = vh[src * 8 + j + 1]!;
    } else {
      a = vh[rn * 8 + i]!;
      b = vh[rm * 8 + i]!;
    }
    res[i] = lane2(r, op, H, a, 0, b, 0);
  }
  store(cpu, rd, lanes);
}

/** By element, half lanes: Vd, Vn, Vm.H[index]. */
export function byElementH(cpu: Cpu, f: F): void {
  const vh = cpu.regs.vh;
  const { lanes, rn, rd, op } = f;
  const r = cpu.r;
  const m = vh[f.rm * 8 + f.index]!;
  for (let i = 0; i < lanes; i++) {
    if (op === OP.FMLA || op === OP.FMLS) res[i] = fma(r, H, vh[rd * 8 + i]!, 0, vh[rn * 8 + i]!, 0, m, 0, 0, op === OP.FMLS ? 0x8000 : 0);
    else res[i] = lane2(r, op, H, vh[rn * 8 + i]!, 0, m, 0);
  }
  store(cpu, rd, lanes);
}

/** Pairwise (2 lanes) and across-lanes (4 or 8 lanes, Reduce() halving order) reductions. */
export function reduceH(cpu: Cpu, f: F): void {
  const vh = cpu.regs.vh;
  const r = cpu.r;
  let n = f.lanes;
  for (let i = 0; i < n; i++) res[i] = vh[f.rn * 8 + i]!;
  while (n > 1) {
    n >>= 1;
    for (let k = 0; k < n; k++) res[k] = lane2(r, f.op, H, res[2 * k]!, 0, res[2 * k + 1]!, 0);
  }
  store(cpu, f.rd, 1);
}

const CMP0: Record<string, [number, boolean]> = { cmgt0: [2, false], cmge0: [1, false], cmeq0: [0, false], cmlt0: [2, true], cmle0: [1, true] };

/** Two-register misc and fixed-point conversions, half lanes (f.kind as in fp-vector.ts). */
export function miscH(cpu: Cpu, f: F): void {
  const vh = cpu.regs.vh;
  const r = cpu.r;
  const { lanes, kind } = f;
  for (let i = 0; i < lanes; i++) {
    const x = vh[f.rn * 8 + i]!;
    let v: number;
    switch (kind) {
      case 'abs': v = x & 0x7fff; break;
      case 'neg': v = x ^ 0x8000; break;
      case 'sqrt': v = sqrt(r, H, x, 0); break;
      case 'rint': v = roundInt(r, H, x, 0, f.rmode, false); break;
      case 'rintx': v = roundInt(r, H, x, 0, -1, true); break;
      case 'scvtf': v = fromFixed(r, H, x, 0, f.fbits, false, 16); break;
      case 'ucvtf': v = fromFixed(r, H, x, 0, f.fbits, true, 16); break;
      case 'fcvts': v = toFixed(r, H, x, 0, f.fbits, false, 16, f.rmode); break;
      case 'fcvtu': v = toFixed(r, H, x, 0, f.fbits, true, 16, f.rmode); break;
      case 'recpe': v = recipEstimateFp(r, H, x, 0); break;
      case 'rsqrte': v = rsqrtEstimateFp(r, H, x, 0); break;
      case 'recpx': v = recpx(r, H, x, 0); break;
      default: {
        const [k, swap] = CMP0[kind]!;
        v = (swap ? compareLane(r, H, 0, 0, x, 0, k, false) : compareLane(r, H, x, 0, 0, 0, k, false)) ? 0xffff : 0;
      }
    }
    res[i] = v;
  }
  store(cpu, f.rd, lanes);
}

/** FMOV (vector, immediate), half lanes. */
export function fmovVecImmH(cpu: Cpu, f: F): void {
  res.fill(f.bits);
  store(cpu, f.rd, f.lanes);
}
