// Load/store register, every addressing mode and size, general and SIMD&FP registers, against
// qemu-aarch64 (see ls-oracle.ts). Random registers, data and offsets from a printed seed.
import { expect, it } from 'vitest';
import { describeOracle } from '../oracles.ts';
import { assemble, BUF, BUFSZ, type Case, randomState, Rng, runOurs, runQemu, SLOT, summary } from './ls-oracle.ts';

const SEED = Number(process.env.LS_SEED ?? Date.now() % 1e9);
console.log(`ls-single seed=${SEED} (LS_SEED=${SEED} to repeat)`);

interface Form {
  /** mnemonic per addressing family: [uimm/pre/post/reg, unscaled, unpriv] */
  m: [string, string, string | null];
  /** register prefix of Rt */
  r: 'w' | 'x' | 'b' | 'h' | 's' | 'd' | 'q';
  size: number;
}

const INT: Form[] = [
  { m: ['strb', 'sturb', 'sttrb'], r: 'w', size: 1 },
  { m: ['ldrb', 'ldurb', 'ldtrb'], r: 'w', size: 1 },
  { m: ['ldrsb', 'ldursb', 'ldtrsb'], r: 'w', size: 1 },
  { m: ['ldrsb', 'ldursb', 'ldtrsb'], r: 'x', size: 1 },
  { m: ['strh', 'sturh', 'sttrh'], r: 'w', size: 2 },
  { m: ['ldrh', 'ldurh', 'ldtrh'], r: 'w', size: 2 },
  { m: ['ldrsh', 'ldursh', 'ldtrsh'], r: 'w', size: 2 },
  { m: ['ldrsh', 'ldursh', 'ldtrsh'], r: 'x', size: 2 },
  { m: ['str', 'stur', 'sttr'], r: 'w', size: 4 },
  { m: ['ldr', 'ldur', 'ldtr'], r: 'w', size: 4 },
  { m: ['ldrsw', 'ldursw', 'ldtrsw'], r: 'x', size: 4 },
  { m: ['str', 'stur', 'sttr'], r: 'x', size: 8 },
  { m: ['ldr', 'ldur', 'ldtr'], r: 'x', size: 8 },
];
const FP: Form[] = (['b', 'h', 's', 'd', 'q'] as const).flatMap((r, i) => [
  { m: ['str', 'stur', null] as Form['m'], r, size: 1 << i },
  { m: ['ldr', 'ldur', null] as Form['m'], r, size: 1 << i },
]);

const MODES = ['uimm', 'unscaled', 'pre', 'post', 'unpriv', 'reg', 'literal'] as const;
type Mode = (typeof MODES)[number];

const xn = (n: number) => (n === 31 ? 'sp' : `x${n}`);

function reg(form: Form, n: number): string {
  if (form.r === 'w' || form.r === 'x') return n === 31 ? `${form.r}zr` : `${form.r}${n}`;
  return `${form.r}${n}`;
}

/** One random case of `form` in `mode`, or null when that combination does not exist. */
function makeCase(rng: Rng, form: Form, mode: Mode): { asm: string; c: Omit<Case, 'words'> } | null {
  const st = randomState(rng);
  const size = form.size;
  const isLoad = form.m[0].startsWith('ld');
  if (mode === 'unpriv' && form.m[2] === null) return null;
  if (mode === 'literal' && !(isLoad && (form.m[0] === 'ldrsw' || (form.m[0] === 'ldr' && 'wxsdq'.includes(form.r))))) return null;
  const rn = rng.int(32);
  let rt = rng.int(32);
  const wb = mode === 'pre' || mode === 'post';
  // Rt == Rn with writeback is CONSTRAINED UNPREDICTABLE; it has its own test.
  if (wb && (form.r === 'w' || form.r === 'x')) while (rt === rn) rt = rng.int(32);
  // Effective address inside the buffer, with room for the largest access.
  const ea = BUF + 64 + rng.int(BUFSZ - 128);
  const setBase = (v: number) => {
    if (rn === 31) st.sp = BigInt(v);
    else st.x[rn] = BigInt(v);
  };
  const t = reg(form, rt);
  let asm: string;
  switch (mode) {
    case 'uimm': {
      const k = rng.int(8) === 0 ? 4095 : rng.int(300);
      const a = ea - (ea % size);
      setBase(a - k * size);
      asm = `${form.m[0]} ${t}, [${xn(rn)}, #${k * size}]`;
      break;
    }
    case 'unscaled':
    case 'unpriv':
    case 'pre':
    case 'post': {
      const imm = rng.int(512) - 256;
      const mn = mode === 'unscaled' ? form.m[1] : mode === 'unpriv' ? form.m[2]! : form.m[0];
      setBase(mode === 'post' ? ea : ea - imm);
      asm = mode === 'pre' ? `${mn} ${t}, [${xn(rn)}, #${imm}]!` : mode === 'post' ? `${mn} ${t}, [${xn(rn)}], #${imm}` : `${mn} ${t}, [${xn(rn)}, #${imm}]`;
      break;
    }
    case 'reg': {
      let rm = rng.int(32);
      if (rm === rn) rm = (rm + 1) % 31;
      const ext = rng.pick(['lsl', 'uxtw', 'sxtw', 'sxtx'] as const);
      const shift = rng.int(2) ? Math.log2(size) : 0;
      const idx = rng.int(64) - (ext === 'uxtw' ? 0 : 32);
      const off = idx * 2 ** shift;
      setBase(ea - off);
      const lo = BigInt.asUintN(32, BigInt(idx));
      const w = ext === 'uxtw' || ext === 'sxtw';
      if (rm === 31) setBase(ea); // XZR: offset 0
      else st.x[rm] = w ? (rng.u64() & ~0xffffffffn) | lo : BigInt.asUintN(64, BigInt(idx));
      const wr = rm === 31 ? (w ? 'wzr' : 'xzr') : w ? `w${rm}` : `x${rm}`;
      const amt = ext === 'lsl' && shift === 0 ? (rng.int(2) ? '' : ', lsl #0') : `, ${ext}${shift || rng.int(2) ? ` #${shift}` : ''}`;
      asm = `${form.m[0]} ${t}, [${xn(rn)}, ${wr}${amt}]`;
      break;
    }
    case 'literal': {
      const a = ea - (ea % 4);
      asm = `${form.m[0]} ${t}, . + ${a - SLOT}`;
      break;
    }
  }
  return { asm, c: st };
}

function check(cases: { asm: string; c: Omit<Case, 'words'> }[], pristine: Uint8Array): void {
  const words = assemble(cases.map((k) => k.asm));
  const full: Case[] = cases.map((k, i) => ({ ...k.c, words: [words[i]!] }));
  const want = runQemu(full, pristine);
  const got = runOurs(full, pristine);
  for (let i = 0; i < full.length; i++) {
    expect({ asm: cases[i]!.asm, ...summary(got[i]!, pristine) }).toEqual({ asm: cases[i]!.asm, ...summary(want[i]!, pristine) });
  }
}

describeOracle('load/store register vs qemu-aarch64', ['qemu-aarch64', 'cross-gcc', 'cross-as'], () => {
  const rng = new Rng(SEED);
  const pristine = rng.bytes(BUFSZ);

  it('general registers: every size, sign and addressing mode', () => {
    const cases = [];
    for (const form of INT) for (const mode of MODES) for (let k = 0; k < 20; k++) {
      const c = makeCase(rng, form, mode);
      if (c) cases.push(c);
    }
    expect(cases.length).toBeGreaterThan(1500);
    check(cases, pristine);
  });

  it('SIMD&FP registers B/H/S/D/Q: every addressing mode, loads zero the rest of V', () => {
    const cases = [];
    for (const form of FP) for (const mode of MODES) for (let k = 0; k < 20; k++) {
      const c = makeCase(rng, form, mode);
      if (c) cases.push(c);
    }
    check(cases, pristine);
  });

  it('PRFM/PRFUM (immediate, unscaled, register, literal) change nothing', () => {
    const lines = ['prfm pldl1keep, [x2, #8]', 'prfm pstl3strm, [sp, #32760]', 'prfum pldl2keep, [x3, #-3]', 'prfm #0x1f, [x4, x5, lsl #3]', 'prfm plil1keep, [x6, w7, sxtw]', 'prfm pldl1keep, . + 0x1000'];
    check(lines.map((asm) => ({ asm, c: randomState(rng) })), pristine);
  });

  it('writeback with Rt == Rn: loads leave the address, stores store the old base', () => {
    const lines = ['ldr x3, [x3, #16]!', 'ldr x3, [x3], #-8', 'ldrb w5, [x5, #1]!', 'ldrsw x7, [x7], #4', 'str x3, [x3, #16]!', 'str x4, [x4], #-8', 'strh w9, [x9, #-2]!'];
    const cases = lines.map((asm) => {
      const st = randomState(rng);
      for (let k = 0; k < 31; k++) st.x[k] = BigInt(BUF + 0x400 + 8 * k);
      return { asm, c: st };
    });
    check(cases, pristine);
  });
});
