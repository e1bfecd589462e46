// Advanced SIMD structure loads/stores (LD1-LD4/ST1-ST4 multiple and single structure, LD1R-LD4R)
// against qemu-aarch64 (see ls-oracle.ts): every arrangement, lane size and post-index form,
// register lists wrapping past V31, random data and base addresses from a printed seed.
import { expect, it } from 'vitest';
import { describeOracle } from '../oracles.ts';
import { assemble, BUF, BUFSZ, type Case, randomState, Rng, runOurs, runQemu, summary } from './ls-oracle.ts';

const SEED = Number(process.env.LS_SEED ?? Date.now() % 1e9);
console.log(`ls-struct seed=${SEED} (LS_SEED=${SEED} to repeat)`);

const xn = (n: number) => (n === 31 ? 'sp' : `x${n}`);
const ARR: [string, number, number][] = [['8b', 1, 8], ['16b', 1, 16], ['4h', 2, 8], ['8h', 2, 16], ['2s', 4, 8], ['4s', 4, 16], ['1d', 8, 8], ['2d', 8, 16]];

function check(cases: { asm: string; c: Omit<Case, 'words'> }[], pristine: Uint8Array): void {
  const words = assemble(cases.map((k) => k.asm));
  const full: Case[] = cases.map((k, i) => ({ ...k.c, words: [words[i]!] }));
  const want = runQemu(full, pristine);
  const got = runOurs(full, pristine);
  for (let i = 0; i < full.length; i++) {
    expect({ asm: cases[i]!.asm, ...summary(got[i]!, pristine) }).toEqual({ asm: cases[i]!.asm, ...summary(want[i]!, pristine) });
  }
}

describeOracle('SIMD structure loads/stores vs qemu-aarch64', ['qemu-aarch64', 'cross-gcc', 'cross-as'], () => {
  const rng = new Rng(SEED);
  const pristine = rng.bytes(BUFSZ);

  /** A case: base register somewhere in the buffer; post-index by #total, by Xm, or none. */
  function mk(body: string, total: number): { asm: string; c: Omit<Case, 'words'> } {
    const st = randomState(rng);
    const rn = rng.int(32);
    const base = BUF + 256 + rng.int(BUFSZ - 512);
    if (rn === 31) st.sp = BigInt(base);
    else st.x[rn] = BigInt(base);
    const wb = rng.int(3);
    let asm = `${body}, [${xn(rn)}]`;
    if (wb === 1) asm += `, #${total}`;
    if (wb === 2) {
      let rm = rng.int(31);
      if (rm === rn) rm = (rm + 1) % 31;
      st.x[rm] = BigInt.asUintN(64, BigInt(rng.int(4096) - 2048));
      asm += `, x${rm}`;
    }
    return { asm, c: st };
  }
  const list = (t: number, n: number, suffix: string) => `{${Array.from({ length: n }, (_, k) => `v${(t + k) % 32}${suffix}`).join(', ')}}`;

  it('LD1-LD4/ST1-ST4 multiple structures, every arrangement', () => {
    const cases = [];
    for (const l of ['ld', 'st']) for (const [arr, , q] of ARR) for (let k = 0; k < 8; k++) {
      for (let regs = 1; regs <= 4; regs++) cases.push(mk(`${l}1 ${list(rng.int(32), regs, '.' + arr)}`, regs * q));
      if (arr !== '1d') for (let n = 2; n <= 4; n++) cases.push(mk(`${l}${n} ${list(rng.int(32), n, '.' + arr)}`, n * q));
    }
    check(cases, pristine);
  });

  it('LD1-LD4/ST1-ST4 single structure to/from one lane, every lane size', () => {
    const cases = [];
    for (const l of ['ld', 'st']) for (const [sfx, eb] of [['b', 1], ['h', 2], ['s', 4], ['d', 8]] as const) for (let k = 0; k < 16; k++) {
      for (let n = 1; n <= 4; n++) cases.push(mk(`${l}${n} ${list(rng.int(32), n, '.' + sfx)}[${rng.int(16 / eb)}]`, n * eb));
    }
    check(cases, pristine);
  });

  it('LD1R-LD4R replicate, every arrangement (64-bit arrangements zero the upper half)', () => {
    const cases = [];
    for (const [arr, eb] of ARR) for (let k = 0; k < 10; k++) {
      for (let n = 1; n <= 4; n++) cases.push(mk(`ld${n}r ${list(rng.int(32), n, '.' + arr)}`, n * eb));
    }
    check(cases, pristine);
  });
});
