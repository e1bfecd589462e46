// Every scalar FP and Advanced SIMD FP encoding (decode/fp-basic.ts, decode/fp-vector.ts), random
// instances with random FP operands (zeros, infinities, quiet/signalling NaNs with payloads,
// denormals, min/max normals, rounding ties, integer-range boundaries) under random FPCR (all
// rounding modes, FZ, DN, AHP), checked bit for bit against qemu-aarch64 including FPSR and NZCV
// (test/arm64/fp-oracle.ts). The seed is printed; FP_SEED replays a run, FP_PER_ENCODING scales it.
import { describe, expect, it } from 'vitest';
import { fpScalarBasic } from '../../emulator/arm64/decode/fp-basic.ts';
import { fpVector } from '../../emulator/arm64/decode/fp-vector.ts';
import { defaultDecoder } from '../../emulator/arm64/cpu.ts';
import type { OpDef } from '../../emulator/arm64/decode/pattern.ts';
import { TestCpu } from './harness.ts';
import { type Case, describeInput, diffDump, objdumpKnows, OUT_BYTES, randomFpcr, randomInput, randomWord, rng, runOurs, runQemu } from './fp-oracle.ts';

const seed = Number(process.env.FP_SEED ?? Date.now() % 1000000);
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

describe(`floating point vs qemu-aarch64 (seed ${seed})`, () => {
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
