// Integer data processing vs qemu-aarch64: random instances of every encoding of the
// data-processing tables, random operands (seeded), all of X0-X7 and NZCV compared.
import { describe, expect, it } from 'vitest';
import { describeOracle } from '../oracles.ts';
import { intImmediate } from '../../emulator/arm64/decode/int-imm.ts';
import { intRegister } from '../../emulator/arm64/decode/int-reg.ts';
import { rng } from './simd-oracle.ts';
import { TestCpu } from './harness.ts';
import { diffInt, randomIntInput, randomIntWord, runOursInt, runQemuInt, type IntCase } from './int-oracle.ts';
import { defaultDecoder } from '../../emulator/arm64/cpu.ts';

// ADR/ADRP depend on the PC, which differs between the two runs: tested on their own below.
const TESTED = [...intImmediate, ...intRegister].filter((d) => d.name !== 'ADR' && d.name !== 'ADRP');
const SEED = Number(process.env.INT_SEED ?? 20261124);
const PER = Number(process.env.INT_PER_ENCODING ?? 120);

describeOracle(`integer data processing vs qemu-aarch64 (seed ${SEED})`, ['qemu-aarch64', 'cross-gcc', 'cross-as'], () => {
  it('every encoding, random operands and flags', () => {
    const rand = rng(SEED);
    const dec = defaultDecoder();
    const cases: (IntCase & { name: string })[] = [];
    for (const def of TESTED) {
      for (let k = 0; k < PER; k++) {
        const word = randomIntWord(def, rand);
        const d = dec.decode(word);
        if (d.def !== def || d.fields.word !== undefined) continue; // a more specific row, or unallocated
        cases.push({ word, input: randomIntInput(rand), name: def.name });
      }
    }
    const ref = runQemuInt(cases);
    const t = new TestCpu();
    const failures: string[] = [];
    const seen = new Map<string, number>();
    cases.forEach((c, i) => {
      seen.set(c.name, (seen.get(c.name) ?? 0) + 1);
      const d = diffInt(runOursInt(t, c), ref.subarray(i * 72, i * 72 + 72));
      if (d && failures.length < 30) failures.push(`${c.name} 0x${c.word.toString(16).padStart(8, '0')}: ${d}`);
    });
    expect(failures).toEqual([]);
    for (const def of TESTED) expect(seen.get(def.name) ?? 0, def.name).toBeGreaterThan(10);
  });
});

describe('PC-relative addresses', () => {
  it('ADR and ADRP (ARM ARM C6.2.10-11)', () => {
    const t = new TestCpu();
    // adr x0, .+0x12345 ; adr x1, .-4 ; adrp x2, .+0x3000 (page of CODE + 3 pages)
    t.exec([0x30091a20, 0x10ffffe1, (0x90000002 | (3 << 29)) >>> 0], 3);
    expect(t.x(0)).toBe(BigInt(TestCpu.CODE + 0x12345));
    expect(t.x(1)).toBe(BigInt(TestCpu.CODE));
    expect(t.x(2)).toBe(BigInt((TestCpu.CODE & ~0xfff) + 0x3000));
  });
});
