// Every Advanced SIMD integer encoding of decode/simd.ts (with the Armv8.1/8.2 additions and the
// Cryptographic Extension's AES/SHA/PMULL), random instances with random register
// state, checked against qemu-aarch64 (test/arm64/simd-oracle.ts). The seed is printed; set
// SIMD_SEED to replay a run.
import { expect, it } from 'vitest';
import { describeOracle } from '../oracles.ts';
import { simd } from '../../emulator/arm64/decode/simd.ts';
import { decoderFor, defaultDecoder } from '../../emulator/arm64/cpu.ts';
import { coreFeatures } from '../../emulator/arm64/features.ts';
import { TestCpu } from './harness.ts';
import { type Case, diffDump, objdumpKnows, OUT_BYTES, randomInput, randomWord, rng, runOurs, runQemu } from './simd-oracle.ts';

const seed = Number(process.env.SIMD_SEED ?? Date.now() % 1000000);
const PER_ENCODING = Number(process.env.SIMD_PER_ENCODING ?? 48);

describeOracle(`Advanced SIMD integer vs qemu-aarch64 (seed ${seed})`, ['qemu-aarch64', 'cross-gcc', 'cross-as'], () => {
  const dec = defaultDecoder();
  const undefExec = dec.decode(0).exec;
  const rand = rng(seed);
  const words: number[] = [];
  const owner: string[] = [];
  for (const def of simd) {
    for (let k = 0; k < PER_ENCODING; k++) {
      words.push(randomWord(def, rand));
      owner.push(def.name);
    }
  }
  const known = objdumpKnows(words);

  it('words the GNU disassembler rejects are UNDEFINED', () => {
    const bad: string[] = [];
    words.forEach((w, i) => {
      if (!known[i] && dec.decode(w).exec !== undefExec) bad.push(`${owner[i]} ${w.toString(16)}`);
    });
    expect(bad).toEqual([]);
  });

  it('PMULL .1Q (FEAT_PMULL) decodes on a core with the Cryptographic Extension, is UNDEFINED without', () => {
    const plain = decoderFor(coreFeatures('cortex-a72', { crypto: false }));
    for (const w of [0x0ee0e000, 0x4ee0e000]) { // pmull v0.1q, v0.1d, v0.1d; pmull2 v0.1q, v0.2d, v0.2d
      expect(dec.decode(w).def?.name).toBe('PMULL_1q');
      expect(dec.decode(w).exec).not.toBe(undefExec);
      expect(plain.decode(w).exec).toBe(undefExec);
    }
  });

  it('allocated words give the same registers and FPSR as qemu-aarch64', () => {
    console.log(`simd oracle seed ${seed}`);
    const cases: Case[] = [];
    const missing: string[] = [];
    words.forEach((w, i) => {
      if (!known[i]) return;
      const d = dec.decode(w);
      if (d.exec === undefExec) missing.push(`${owner[i]} ${w.toString(16)}`);
      else if (d.def && simd.includes(d.def)) cases.push({ word: w, input: randomInput(rand) });
    });
    expect(missing).toEqual([]);
    // Fixed vectors: XZR/WZR operands of the copy group, TBL/TBX table lists wrapping past V31.
    for (const w of [0x4e010fe0, 0x4e080fe1, 0x4e0c1fe2, 0x0e0b3c7f, 0x4e183c7f, 0x4e0e2c9f, 0x4e0263c5, 0x0e0733e6]) {
      for (let k = 0; k < 4; k++) cases.push({ word: w, input: randomInput(rand) });
    }
    console.log(`simd oracle: ${cases.length} cases over ${simd.length} encodings`);
    const ref = runQemu(cases);
    const t = new TestCpu();
    const fails: string[] = [];
    cases.forEach((c, i) => {
      const diff = diffDump(runOurs(t, c), ref.subarray(i * OUT_BYTES, (i + 1) * OUT_BYTES));
      if (diff && fails.length < 40) fails.push(`${dec.match(c.word)?.name} ${c.word.toString(16)}: ${diff}`);
    });
    expect(fails).toEqual([]);
    expect(cases.length).toBeGreaterThan(simd.length * 10);
  }, 120_000);
});
