// Every scalar FP and Advanced SIMD FP encoding (decode/fp-basic.ts, decode/fp-vector.ts), random
// instances with random FP operands (zeros, infinities, quiet/signalling NaNs with payloads,
// denormals, min/max normals, rounding ties, integer-range boundaries) under random FPCR (all
// rounding modes, FZ, DN, AHP), checked bit for bit against qemu-aarch64 including FPSR and NZCV
// (test/arm64/fp-oracle.ts). The seed is printed; FP_SEED replays a run, FP_PER_ENCODING scales it.
import { expect, it } from 'vitest';
import { describeOracle } from '../oracles.ts';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fpScalarBasic } from '../../emulator/arm64/decode/fp-basic.ts';
import { fpVector } from '../../emulator/arm64/decode/fp-vector.ts';
import { fpHalf } from '../../emulator/arm64/decode/fp-half.ts';
import { defaultDecoder } from '../../emulator/arm64/cpu.ts';
import type { OpDef } from '../../emulator/arm64/decode/pattern.ts';
import { TestCpu } from './harness.ts';
import { type Case, describeInput, diffDump, objdumpKnows, OUT_BYTES, randomFpcr, randomInput, randomWord, rng, runOurs, runQemu } from './fp-oracle.ts';

const seed = Number(process.env.FP_SEED ?? Date.now() % 1000000);
const FOCUS = Number(process.env.FP_FOCUS ?? 400);

/** The common instructions, each run FOCUS times: [assembly, FP element size of the operands]. */
const FOCUSED: [string, number][] = [
  ['fadd d0, d1, d2', 64], ['fsub s0, s1, s2', 32], ['fmul d0, d1, d2', 64], ['fmul s0, s1, s2', 32],
  ['fdiv d0, d1, d2', 64], ['fdiv s0, s1, s2', 32], ['fsqrt d0, d1', 64], ['fsqrt s0, s1', 32],
  ['fmadd d0, d1, d2, d3', 64], ['fmsub d0, d1, d2, d3', 64], ['fnmadd s0, s1, s2, s3', 32], ['fnmsub s0, s1, s2, s3', 32],
  ['fmla v0.2d, v1.2d, v2.2d', 64], ['fmls v0.4s, v1.4s, v2.4s', 32], ['frecps d0, d1, d2', 64], ['frsqrts s0, s1, s2', 32],
  ['scvtf d0, x1', 64], ['ucvtf d0, x1', 64], ['scvtf s0, x1', 32], ['ucvtf s0, w1', 32], ['scvtf d0, x1, #13', 64], ['ucvtf s0, x1, #64', 32],
  ['fcvtzs x0, d1', 64], ['fcvtzu w0, s1', 32], ['fcvtns x0, s1', 32], ['fcvtau w0, d1', 64], ['fcvtzs x0, d1, #7', 64], ['fcvtzu w0, s1, #31', 32], ['fcvtms x0, d1', 64],
  ['fcvt s0, d1', 64], ['fcvt h0, d1', 64], ['fcvt h0, s1', 32], ['fcvt d0, h1', 16], ['fcvt s0, h1', 16], ['fcvtxn s0, d1', 64],
  ['fcvtn v0.4h, v1.4s', 32], ['fcvtl v0.4s, v1.4h', 16], ['fcvtn2 v0.4s, v1.2d', 64],
  ['frintx d0, d1', 64], ['frinti s0, s1', 32], ['frinta d0, d1', 64], ['frintn s0, s1', 32],
  ['fcmpe d1, d2', 64], ['fcmp s1, #0.0', 32], ['fccmpe d1, d2, #5, ne', 64], ['fmaxnm d0, d1, d2', 64], ['fminnmv s0, v1.4s', 32],
  ['frecpe d0, d1', 64], ['frecpe v0.4s, v1.4s', 32], ['frsqrte d0, d1', 64], ['frsqrte s0, s1', 32], ['frecpx d0, d1', 64],
  ['fmulx v0.2d, v1.2d, v2.d[1]', 64], ['fabd s0, s1, s2', 32], ['facgt d0, d1, d2', 64], ['faddp s0, v1.2s', 32],
];

/** Assemble one instruction per line with the GNU assembler. */
function assemble(lines: string[]): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'fp-as-'));
  try {
    writeFileSync(join(dir, 'a.s'), lines.join('\n') + '\n');
    execFileSync('aarch64-linux-gnu-as', ['-o', join(dir, 'a.o'), join(dir, 'a.s')]);
    execFileSync('aarch64-linux-gnu-objcopy', ['-O', 'binary', '-j', '.text', join(dir, 'a.o'), join(dir, 'a.bin')]);
    const bin = readFileSync(join(dir, 'a.bin'));
    return lines.map((_, i) => bin.readUInt32LE(i * 4));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const PER_ENCODING = Number(process.env.FP_PER_ENCODING ?? 150);

/** The FP element size the operands of a decoded word are in. */
function elementSize(def: OpDef, word: number, fields: Record<string, unknown>): number {
  const sz = (word >>> 22) & 1;
  if (def.name === 'FCVTL') return sz ? 32 : 16;
  if (def.name === 'FCVTN' || def.name.startsWith('FCVTXN')) return sz ? 64 : 32;
  if (typeof fields.from === 'number') return fields.from;
  if (typeof fields.fmt === 'number') return fields.fmt;
  return fields.dbl ? 64 : 32;
}

describeOracle(`floating point vs qemu-aarch64 (seed ${seed})`, ['qemu-aarch64', 'cross-gcc', 'cross-as'], () => {
  const dec = defaultDecoder();
  const undefExec = dec.decode(0).exec;
  const rand = rng(seed);
  const tables = [...fpScalarBasic, ...fpVector];
  const words: number[] = [];
  const owner: OpDef[] = [];
  for (const def of tables) {
    for (let k = 0; k < PER_ENCODING; k++) {
      words.push(randomWord(def, rand));
      owner.push(def);
    }
  }
  const known = objdumpKnows(words);

  it('words the GNU disassembler rejects are UNDEFINED', () => {
    const bad: string[] = [];
    words.forEach((w, i) => {
      if (!known[i] && dec.decode(w).exec !== undefExec) bad.push(`${owner[i]!.name} ${w.toString(16)}`);
    });
    expect(bad).toEqual([]);
  });

  it(`common instructions, ${FOCUS} random cases each in every FPCR mode, match qemu-aarch64`, () => {
    const words = assemble(FOCUSED.map(([a]) => a));
    const cases: Case[] = [];
    const names: string[] = [];
    FOCUSED.forEach(([asm, esize], k) => {
      for (let i = 0; i < FOCUS; i++) {
        cases.push({ word: words[k]!, input: randomInput(rand, esize, randomFpcr(rand), Math.floor(rand() * 16)) });
        names.push(asm);
      }
    });
    const ref = runQemu(cases);
    const t = new TestCpu();
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const diff = diffDump(runOurs(t, c), ref.subarray(i * OUT_BYTES, (i + 1) * OUT_BYTES));
      if (diff && failures.length < 40) failures.push(`${names[i]} ${describeInput(c)}: ${diff}`);
    });
    expect(failures).toEqual([]);
  }, 300_000);

  it('regression vectors (failures found while building the FP library) match qemu-aarch64', () => {
    // [assembly, FPCR, V0.. low 64 bits as hex (double or single/half in the low bits)]
    const vectors: [string, number, string[]][] = [
      ['fnmul d0, d1, d2', 0, ['0', '7ff0000000000000', '0']], // FPNeg of the default NaN
      ['fadd s0, s1, s2', 0x01800000, ['0', '290b1f', '28ffaa']], // +0 + +0 after FZ, rounding to -Inf
      ['fmulx d0, d1, d2', 0x03800000, ['0', 'fff0000000000000', '1']], // -Inf * flushed +0 = -2
      ['fdiv d0, d1, d2', 0, ['0', '7fefffffffffffff', '41e0000000000000']], // exact quotient near the top
      ['fmsub d0, d1, d2, d3', 0x03480000, ['0', 'fff0000000000000', '8000000000000001', '7ff8000000000000']], // qNaN + Inf*0
      ['fmul d0, d1, d2', 0x00400000, ['0', '0010000000000001', '3c90000000000000']], // tiny product, round up
      ['fmul v0.2d, v1.2d, v2.2d', 0x00400000, ['0', '000000000000a83c', '6a40506ea2728000']],
      ['fcvt h0, s1', 0x01080000, ['0', '00000001']], // FZ16 does not apply to conversions
      ['frecpe s0, s1', 0x01000000, ['0', '7e800000']], // FZ: large input flushes the result (UFC)
      ['frsqrte d0, d1', 0, ['0', '0008000000000000']],
      ['fcvtxn s0, d1', 0, ['0', '3ff0000000000001']],
    ];
    const words = assemble(vectors.map(([a]) => a));
    const cases: Case[] = vectors.map(([, fpcr, regs], k) => {
      const input = randomInput(rand, 64, fpcr, 0);
      const dv = new DataView(input.buffer);
      regs.forEach((h, i) => {
        const v = BigInt('0x' + h);
        dv.setBigUint64(i * 16, v, true);
        dv.setBigUint64(i * 16 + 8, 0n, true);
      });
      return { word: words[k]!, input };
    });
    const ref = runQemu(cases);
    const t = new TestCpu();
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const diff = diffDump(runOurs(t, c), ref.subarray(i * OUT_BYTES, (i + 1) * OUT_BYTES));
      if (diff) failures.push(`${vectors[i]![0]}: ${diff}`);
    });
    expect(failures).toEqual([]);
  });

  it('FJCVTZS (ARMv8.3) and FRINT32Z (ARMv8.5) are UNDEFINED', () => {
    expect(dec.decode(0x1e7e0000).exec).toBe(undefExec); // fjcvtzs w0, d0
    expect(dec.decode(0x1e284000).exec).toBe(undefExec); // frint32z s0, s0
  });

  it('round-to-nearest fast paths at the exponent extremes match qemu-aarch64', () => {
    // Error-free transformations are only valid inside an exponent window: operands spread over
    // the whole exponent range check the guards that send the rest to the exact path.
    const asm = ['fmadd d0, d1, d2, d3', 'fnmsub d0, d1, d2, d3', 'fmul d0, d1, d2', 'fdiv d0, d1, d2', 'fadd d0, d1, d2', 'fsqrt d0, d1',
      'fmadd s0, s1, s2, s3', 'fmul s0, s1, s2', 'fdiv s0, s1, s2', 'fmla v0.2d, v1.2d, v2.2d', 'fmla v0.4s, v1.4s, v2.4s',
      'fmls v0.4s, v1.4s, v2.s[3]', 'fadd v0.4s, v1.4s, v2.4s', 'fsub v0.2s, v1.2s, v2.2s', 'fmul v0.2d, v1.2d, v2.2d', 'fsub v0.2d, v1.2d, v2.2d',
      'fdiv v0.4s, v1.4s, v2.4s', 'fdiv v0.2d, v1.2d, v2.2d', 'fsub s0, s1, s2', 'fadd s0, s1, s2'];
    const words = assemble(asm);
    const cases: Case[] = [];
    const names: string[] = [];
    asm.forEach((a, k) => {
      const dbl = a.includes(' d') || a.includes('.2d');
      for (let i = 0; i < FOCUS * 2; i++) {
        const input = randomInput(rand, dbl ? 64 : 32, rand() < 0.8 ? 0 : 1 << 24, 0);
        const dv = new DataView(input.buffer);
        for (let w = 0; w < 64; w += dbl ? 8 : 4) {
          if (rand() < 0.3) continue;
          const e = Math.floor(rand() * (dbl ? 2047 : 255));
          if (dbl) dv.setUint32(w + 4, ((rand() < 0.5 ? 0x80000000 : 0) | (e << 20) | Math.floor(rand() * 0x100000)) >>> 0, true);
          else dv.setUint32(w, ((rand() < 0.5 ? 0x80000000 : 0) | (e << 23) | Math.floor(rand() * 0x800000)) >>> 0, true);
        }
        cases.push({ word: words[k]!, input });
        names.push(a);
      }
    });
    const ref = runQemu(cases);
    const t = new TestCpu();
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const diff = diffDump(runOurs(t, c), ref.subarray(i * OUT_BYTES, (i + 1) * OUT_BYTES));
      if (diff && failures.length < 40) failures.push(`${names[i]} ${describeInput(c)}: ${diff}`);
    });
    expect(failures).toEqual([]);
  }, 300_000);

  it('half-precision arithmetic, scalar and Advanced SIMD (FEAT_FP16, decoded when enabled), matches qemu-aarch64', () => {
    const cases: Case[] = [];
    const names: string[] = [];
    const hw: number[] = [];
    const hdef: OpDef[] = [];
    for (const def of fpScalarBasic) {
      if (!def.names.includes('ftype')) continue;
      for (let k = 0; k < PER_ENCODING; k++) {
        hw.push((randomWord(def, rand) | (3 << 22)) >>> 0);
        hdef.push(def);
      }
    }
    for (const def of fpHalf) {
      for (let k = 0; k < PER_ENCODING; k++) {
        hw.push(randomWord(def, rand));
        hdef.push(def);
      }
    }
    const hknown = objdumpKnows(hw);
    {
      hw.forEach((w, i) => {
        if (!hknown[i]) return;
        const d = dec.decode(w);
        if (d.exec === undefExec || d.def !== hdef[i]) return;
        const esize = fpHalf.includes(d.def!) ? 16 : elementSize(d.def!, w, d.fields);
        cases.push({ word: w, input: randomInput(rand, esize, randomFpcr(rand), Math.floor(rand() * 16)) });
        names.push(d.def!.name);
      });
      expect(cases.length).toBeGreaterThan(PER_ENCODING * 100);
      const ref = runQemu(cases);
      const t = new TestCpu();
      const failures: string[] = [];
      cases.forEach((c, i) => {
        const want = ref.slice(i * OUT_BYTES, (i + 1) * OUT_BYTES);
        if (names[i] === 'FCVTZS_hfix_s') {
          // QEMU 7.2 sign-extends this scalar 16-bit result to 32 bits; the ARM ARM writes
          // V[d] = result with datasize = esize = 16, zeroing bits 127:16.
          const rd = c.word & 31;
          if (rd < 8) want.fill(0, rd * 16 + 2, rd * 16 + 4);
        }
        const diff = diffDump(runOurs(t, c), want);
        if (diff && failures.length < 40) failures.push(`${names[i]} ${c.word.toString(16)} ${describeInput(c)}: ${diff}`);
      });
      expect(failures).toEqual([]);
    }
  }, 300_000);

  it('allocated words give the same V/X registers, FPSR and NZCV as qemu-aarch64', () => {
    console.log(`fp oracle seed ${seed}`);
    const cases: Case[] = [];
    const names: string[] = [];
    words.forEach((w, i) => {
      if (!known[i]) return;
      const d = dec.decode(w);
      if (d.exec === undefExec || !d.def || !tables.includes(d.def)) return;
      cases.push({ word: w, input: randomInput(rand, elementSize(d.def, w, d.fields), randomFpcr(rand), Math.floor(rand() * 16)) });
      names.push(d.def.name);
    });
    console.log(`fp oracle: ${cases.length} cases over ${tables.length} encodings`);
    const ref = runQemu(cases);
    const t = new TestCpu();
    const failures: string[] = [];
    const perOp = new Map<string, number>();
    cases.forEach((c, i) => {
      const ours = runOurs(t, c);
      const diff = diffDump(ours, ref.subarray(i * OUT_BYTES, (i + 1) * OUT_BYTES));
      if (diff) {
        perOp.set(names[i]!, (perOp.get(names[i]!) ?? 0) + 1);
        if (failures.length < 40) failures.push(`${names[i]} ${c.word.toString(16)} ${describeInput(c)}: ${diff}`);
      }
    });
    if (failures.length) console.log([...perOp].map(([k, v]) => `${k}:${v}`).join(' '));
    expect(failures).toEqual([]);
  }, 300_000);
});
