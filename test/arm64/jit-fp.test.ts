// The translator's FP and SIMD emitters (jit/emit-fp.ts: double FMLA/FMLS vector and by element,
// FMADD/FMSUB/FNMADD/FNMSUB, FADD/FSUB/FMUL/FDIV; jit/emit-simd.ts: EXT, MOVI) against the
// interpreter: the same instructions from the same registers, FPCR and FPSR, on operands chosen
// to hit cancellation, ties, refusals (non-normal operands, results near the overflow/underflow
// thresholds, FZ, directed rounding) and register overlaps; every register byte must agree. The
// generated code must also run the common case itself: helper calls are counted.
import { expect, it } from 'vitest';
import { describeOracle } from '../oracles.ts';
import { assemble } from './ls-oracle.ts';
import { pair, expectSame } from './jit-pair.ts';
import { TestCpu } from './harness.ts';
import { operands, rng } from './fp-operands.ts';
import { jitStats } from '../../emulator/arm64/jit/settings.ts';
import { FPCR, FPSR } from '../../emulator/arm64/regs.ts';
import type { DecodedPage } from '../../emulator/arm64/code-cache.ts';
import type { Cpu } from '../../emulator/arm64/cpu.ts';
import { byElementFma, threeSameFma, threeSameArith, OP } from '../../emulator/arm64/exec/fp-vector.ts';
import { fp2fast, fp3 } from '../../emulator/arm64/exec/fp-basic.ts';
import { fastArith, fastFmaD, fastFp3D } from '../../emulator/arm64/exec/fp-fast.ts';

/** Each FMA instruction has registers of its own (n, m, a/d) so its operands can be set as a case. */
const FMA = [
  'fmla v3.2d, v1.2d, v2.d[1]', // by element: V2.D[1] in both lanes
  'fmls v6.2d, v4.2d, v5.d[0]',
  'fmla v9.2d, v7.2d, v8.2d', // vector
  'fmls v12.2d, v10.2d, v11.2d',
  'fmla d15, d13, v14.d[1]', // scalar by element: one lane, upper half zeroed
  'fmadd d19, d16, d17, d18',
  'fmsub d23, d20, d21, d22',
  'fnmadd d27, d24, d25, d26',
  'fnmsub d31, d28, d29, d30',
  'fmla v0.2d, v0.2d, v0.d[1]', // every operand the same register
  'fmadd d1, d1, d1, d1',
  'fmla v2.4s, v2.4s, v3.s[1]', // single lanes: not emitted (the helper's fastFmaS)
];
/** [n, m, m's element (-1 vector), d/addend] of each FMA line above, for setting operands. */
const FMA_REGS: [number, number, number, number][] = [
  [1, 2, 1, 3], [4, 5, 0, 6], [7, 8, -1, 9], [10, 11, -1, 12], [13, 14, 1, 15],
  [16, 17, 0, 18], [20, 21, 0, 22], [24, 25, 0, 26], [28, 29, 0, 30],
];

/** The same for FADD/FSUB/FMUL/FDIV: [line, n, m]. */
const ARITH: [string, number, number][] = [
  ['fadd v2.2d, v0.2d, v1.2d', 0, 1], ['fsub v5.2d, v3.2d, v4.2d', 3, 4],
  ['fmul v8.2d, v6.2d, v7.2d', 6, 7], ['fdiv v11.2d, v9.2d, v10.2d', 9, 10],
  ['fadd d14, d12, d13', 12, 13], ['fsub d17, d15, d16', 15, 16],
  ['fmul d20, d18, d19', 18, 19], ['fdiv d23, d21, d22', 21, 22],
  ['fmul v24.2d, v24.2d, v24.2d', 24, 24], ['fsub d25, d25, d25', 25, 25],
  ['fadd v26.4s, v26.4s, v27.4s', 26, 27], // single lanes: not emitted
];

/**
 * Whether the interpreter's fast path (fastFmaD / fastFp3D / fastArith) takes this instruction in
 * this state (tried, then the registers put back), or null when it has no double fast path.
 */
function fastPathAccepts(cpu: Cpu, word: number): boolean | null {
  const { exec: f, fields: a } = cpu.decoder.decode(word);
  let run: () => boolean;
  if (f === fp3 && a.fmt === 64) run = () => fastFp3D(cpu, a.o1 !== 0, a.o0 !== a.o1, a.ra, a.rn, a.rm, a.rd);
  else if ((f === byElementFma || f === threeSameFma) && a.dbl) {
    run = () => fastFmaD(cpu, a.op === OP.FMLS, a.lanes, a.rn, a.rm, f === byElementFma ? a.index : -1, a.rd, a.words);
  } else if (f === threeSameArith && a.dbl) run = () => fastArith(cpu, a.op, true, a.lanes, a.rn, a.rm, a.rd, a.words);
  else if (f === fp2fast && a.fmt === 64) run = () => fastArith(cpu, a.fastOp, true, 1, a.rn, a.rm, a.rd, 2);
  else return null;
  const saved = cpu.regs.bytes.slice();
  const took = run();
  cpu.regs.bytes.set(saved);
  return took;
}

/**
 * Run `lines` CASES times from registers set by `setCase` (random bits first), one instruction at
 * a time with FPSR set afresh before each (so each instruction's own flags are compared, not the
 * sticky union), translated against interpreted. The emitted code must leave to the helper
 * exactly what the interpreter's fast path declines: that fast path is tried on (a copy of) the
 * interpreter's state before each step. Returns how many fast-path instructions ran, and how
 * many of them reached the helper.
 */
function differential(lines: string[], seed: number, CASES: number, setCase: (v: Float64Array, next: () => number) => void): { runs: number; helperCalls: number } {
  const words = assemble(lines);
  const { jit, interp } = pair(words);
  let helperHit = false, helperCalls = 0, runs = 0;
  const helper = jit.cpu.jitHelper.bind(jit.cpu);
  jit.cpu.jitHelper = (page: DecodedPage, n: number, idx: number, pcBase: number): number => {
    helperHit = true;
    return helper(page, n, idx, pcBase);
  };
  const failures = jitStats.failures;
  const next = rng(seed);
  for (let k = 0; k < CASES; k++) {
    const v = new Float64Array(64);
    const bits = new Uint32Array(v.buffer);
    for (let i = 0; i < bits.length; i++) bits[i] = next();
    setCase(v, next);
    const fpcr = next() % 8 === 0 ? [1 << 24, 1 << 22, 2 << 22, 3 << 22, 1 << 25][next() % 5]! : 0;
    for (const t of [jit, interp]) {
      t.cpu.regs.vf64.set(v);
      t.cpu.r[FPCR] = fpcr;
      t.cpu.pc = TestCpu.CODE;
    }
    for (let i = 0; i < lines.length; i++) {
      const fpsr = next() % 4 === 0 ? 0x10 : next() % 4 === 0 ? 0x1 : 0;
      jit.cpu.r[FPSR] = interp.cpu.r[FPSR] = fpsr;
      const accepts = fastPathAccepts(interp.cpu, words[i]!);
      helperHit = false;
      expect(jit.cpu.run(1)).toBe(interp.cpu.run(1));
      const what = `case ${k} ${lines[i]} fpcr=${fpcr.toString(16)} fpsr=${fpsr}`;
      expect(Buffer.from(jit.cpu.regs.bytes).equals(Buffer.from(interp.cpu.regs.bytes)), `${what}: register files differ`).toBe(true);
      if (accepts === null) expect(helperHit, what).toBe(true);
      else {
        expect(helperHit, `${what}: helper called (wasm declined) though the fast path accepts ${accepts}`).toBe(!accepts);
        runs++;
        if (helperHit) helperCalls++;
      }
    }
    expectSame(jit, interp, `case ${k}`);
  }
  expect(jitStats.failures).toBe(failures); // the page compiled (a failure leaves it interpreted)
  expect(jit.mem.codeCache.page(TestCpu.CODE, jit.cpu.decoder).code).not.toBeNull();
  return { runs, helperCalls };
}

describeOracle('translator FP/SIMD emitters vs the interpreter', ['cross-as'], () => {
  it('FMLA/FMLS/FMADD family (double): same registers and FPSR on every case; the wasm path takes exactly what the fast path takes', () => {
    const CASES = 600;
    const { runs, helperCalls } = differential(FMA, 0x7e57, CASES, (v, next) => {
      for (const [n, m, el, d] of FMA_REGS) {
        for (let lane = 0; lane < 2; lane++) {
          const [a, b, c] = operands(next);
          v[2 * n + lane] = a;
          v[2 * d + lane] = c;
          // By element both lanes use element `el`: lane 0's case sets it.
          if (el < 0) v[2 * m + lane] = b;
          else if (lane === 0) v[2 * m + el] = b;
        }
      }
    });
    // 11 double FMA instructions per case: the cases must have exercised both outcomes.
    expect(runs).toBe(11 * CASES);
    expect(helperCalls).toBeGreaterThan(CASES);
    expect(runs - helperCalls).toBeGreaterThan(3 * CASES);
  });

  it('FADD/FSUB/FMUL/FDIV (double, vector and scalar): same registers and FPSR; the wasm path takes exactly what the fast path takes', () => {
    const CASES = 400;
    const { runs, helperCalls } = differential(ARITH.map(([l]) => l), 0xa417, CASES, (v, next) => {
      for (const [line, n, m] of ARITH) {
        for (let lane = 0; lane < 2; lane++) {
          // From an FMA case: c + RN(a*b) for the additions (cancellation included), a*b and
          // RN(a*b)/b (often exact) for the multiplication and division, edge operands throughout.
          const [a, b, c] = operands(next);
          const add = line.startsWith('fadd') || line.startsWith('fsub');
          const sub = line.startsWith('fsub');
          const div = line.startsWith('fdiv');
          v[2 * n + lane] = add ? c : div && next() & 1 ? a * b : a;
          v[2 * m + lane] = add ? (sub ? -(a * b) : a * b) : b;
        }
      }
    });
    expect(runs).toBe(10 * CASES);
    expect(helperCalls).toBeGreaterThan(CASES / 2);
    expect(runs - helperCalls).toBeGreaterThan(3 * CASES);
  });

  it('EXT (16- and 8-byte forms, every immediate, overlapping registers) and MOVI/MVNI: same registers, no helper calls', () => {
    const lines: string[] = [];
    for (let imm = 0; imm < 16; imm++) lines.push(`ext v${(imm % 8) + 20}.16b, v1.16b, v2.16b, #${imm}`);
    for (let imm = 0; imm < 8; imm++) lines.push(`ext v${imm + 10}.8b, v3.8b, v4.8b, #${imm}`);
    lines.push('ext v5.16b, v5.16b, v6.16b, #3', 'ext v6.16b, v7.16b, v6.16b, #13', 'ext v7.8b, v7.8b, v7.8b, #5', 'ext v8.16b, v8.16b, v8.16b, #8');
    lines.push('movi v9.2d, #0xff00ff0000ff00ff', 'movi v18.16b, #0x5a', 'movi v19.8b, #0xa5', 'mvni v28.4s, #0x12, lsl #8', 'movi d29, #0xffff0000ffff', 'movi v30.2s, #0x80, msl #8');
    const words = assemble(lines);
    const { jit, interp } = pair(words);
    let calls = 0;
    const helper = jit.cpu.jitHelper.bind(jit.cpu);
    jit.cpu.jitHelper = (page: DecodedPage, n: number, idx: number, pcBase: number): number => {
      calls++;
      return helper(page, n, idx, pcBase);
    };
    const next = rng(0xe47);
    for (let k = 0; k < 20; k++) {
      const bytes = new Uint8Array(512);
      for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
      for (const t of [jit, interp]) {
        t.cpu.regs.vb.set(bytes);
        t.cpu.pc = TestCpu.CODE;
      }
      expect(jit.cpu.run(lines.length)).toBe(interp.cpu.run(lines.length));
      expectSame(jit, interp, `case ${k}`);
    }
    expect(jit.mem.codeCache.page(TestCpu.CODE, jit.cpu.decoder).code).not.toBeNull();
    expect(calls).toBe(0);
  });
});
