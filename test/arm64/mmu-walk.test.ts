// The table walker (mmu.ts) against a reference written the plain way (each level's index and the
// output address in double arithmetic, as the walker was first written) on random page tables:
// random descriptors of every kind, random TCR/TTBR/VTCR/VTTBR, exception level, PAN, WXN, LDTR
// and access kind, with and without stage 2. Both must give the same address or the same fault
// (exception class, ISS, FAR, HPFAR, and whether it goes to EL2).
import { describe, expect, it } from 'vitest';
import { Cpu, EC } from '../../emulator/arm64/cpu.ts';
import { FlatMemory } from '../../emulator/arm64/flat-memory.ts';
import { HCR, SCTLR } from '../../emulator/arm64/sysstate.ts';
import { Access } from '../../emulator/arm64/memory.ts';

const TWO32 = 4294967296;
const PA_LIMIT = 2 ** 48;
const RAM = 4 << 20;
/** Tables live in RAM pages [TABLES, TABLES + TABLE_PAGES * 4 KiB). */
const TABLES = 0x100000;
const TABLE_PAGES = 256;

interface Fault {
  el2: boolean;
  ec: number;
  iss: number;
  far: number;
  hpfar: number;
}
type Outcome = { pa: number } | { fault: Fault };

/** The walk as first written (ARM ARM D8), faults returned rather than raised. */
function referenceTranslate(cpu: Cpu, unprivileged: boolean, va: number, access: Access): Outcome {
  const s = cpu.sys;
  const ram = cpu.mem.ram;
  const desc = (pa: number): [number, number] | null => {
    const ro = cpu.mem.ramOffset(pa);
    return ro < 0 ? null : [ram.getUint32(ro, true), ram.getUint32(ro + 4, true)];
  };
  const s1Fault = (fsc: number, level: number): Outcome => {
    const lower = cpu.el === 0;
    if (access === Access.Exec) return { fault: { el2: false, ec: lower ? EC.IABT_LOWER : EC.IABT_SAME, iss: fsc + level, far: va, hpfar: 0 } };
    const iss = fsc + level + (access === Access.Write ? 1 << 6 : 0);
    return { fault: { el2: false, ec: lower ? EC.DABT_LOWER : EC.DABT_SAME, iss, far: va, hpfar: 0 } };
  };
  const stage2 = (ipa: number, acc: Access, s1ptw: boolean): Outcome => {
    const s2Fault = (fsc: number, level: number): Outcome => {
      let iss = fsc + level;
      if (s1ptw) iss |= 1 << 7;
      const hpfar = Math.floor(ipa / 4096) * 16;
      if (access === Access.Exec && !s1ptw) return { fault: { el2: true, ec: EC.IABT_LOWER, iss, far: va, hpfar } };
      if (access === Access.Write && !s1ptw) iss |= 1 << 6;
      if (!s1ptw) iss |= cpu.dataAbortInstructionSyndrome();
      return { fault: { el2: true, ec: EC.DABT_LOWER, iss, far: va, hpfar } };
    };
    const vtcr = s.vtcr;
    const inputBits = 64 - (vtcr & 0x3f);
    const sl0 = (vtcr >>> 6) & 3;
    if (((vtcr >>> 14) & 3) !== 0 || sl0 === 3 || ipa >= 2 ** inputBits) return s2Fault(0x04, 0);
    const startLevel = 2 - sl0;
    let table = s.vttbr - (s.vttbr % 2);
    for (let level = startLevel; ; level++) {
      const shift = 12 + 9 * (3 - level);
      const entries = level === startLevel ? 2 ** (inputBits - shift) : 512;
      if (level === startLevel && entries > 512 * 16) return s2Fault(0x04, level);
      const d = desc(table + (Math.floor(ipa / 2 ** shift) % entries) * 8);
      if (d === null) return s2Fault(0x14, level);
      const [lo, hi] = d;
      if ((lo & 1) === 0) return s2Fault(0x04, level);
      const isTable = (lo & 2) !== 0;
      if (level < 3 && isTable) {
        table = (hi & 0xffff) * TWO32 + ((lo & 0xfffff000) >>> 0);
        continue;
      }
      if (level === 0 || (level === 3 && !isTable)) return s2Fault(0x04, level);
      if ((lo & (1 << 10)) === 0) return s2Fault(0x08, level);
      const s2ap = (lo >>> 6) & 3;
      const xn = ((hi >>> 22) & 1) !== 0;
      const ok = acc === Access.Exec ? !xn && (s2ap & 1) !== 0 : acc === Access.Write ? (s2ap & 2) !== 0 : (s2ap & 1) !== 0;
      if (!ok) return s2Fault(0x0c, level);
      const blockSize = 2 ** shift;
      const outBase = (hi & 0xffff) * TWO32 + ((lo & 0xfffff000) >>> 0);
      return { pa: outBase - (outBase % blockSize) + (ipa % blockSize) };
    }
  };
  const hcrVm = (s.hcr & HCR.VM) !== 0 && cpu.el < 2;
  let ipa: number;
  if ((s.sctlr & SCTLR.M) === 0) {
    if (va < 0 || va >= PA_LIMIT) return s1Fault(0x00, 0);
    ipa = va;
  } else {
    const tcr = s.tcr;
    const upper = va < 0;
    let txsz = upper ? (tcr >>> 16) & 0x3f : tcr & 0x3f;
    let epd = upper ? (tcr >>> 23) & 1 : (tcr >>> 7) & 1;
    if (((tcr >>> (upper ? 30 : 14)) & 3) !== (upper ? 2 : 0)) epd = 1;
    const base = upper ? s.ttbr1 : s.ttbr0;
    if (txsz < 16) txsz = 16;
    const inputBits = 64 - txsz;
    const span = 2 ** inputBits;
    if (upper ? va < -span : va >= span) return s1Fault(0x04, 0);
    if (epd) return s1Fault(0x04, 0);
    const off = upper ? va + span : va;
    const levels = Math.ceil((inputBits - 12) / 9);
    let table = base - (base % 2);
    let apTable0 = 0, apTable1 = 0, uxnTable = 0, pxnTable = 0;
    let out = -1;
    for (let level = 4 - levels; out < 0; level++) {
      const shift = 12 + 9 * (3 - level);
      const entries = level === 4 - levels ? 2 ** (inputBits - shift) : 512;
      let descPa = table + (Math.floor(off / 2 ** shift) % entries) * 8;
      if (hcrVm) {
        const r = stage2(descPa, Access.Read, true);
        if ('fault' in r) return r;
        descPa = r.pa;
      }
      const d = desc(descPa);
      if (d === null) return s1Fault(0x14, level);
      const [lo, hi] = d;
      if ((lo & 1) === 0) return s1Fault(0x04, level);
      const isTable = (lo & 2) !== 0;
      if (level < 3 && isTable) {
        apTable0 |= (hi >>> 29) & 1;
        apTable1 |= (hi >>> 30) & 1;
        uxnTable |= (hi >>> 28) & 1;
        pxnTable |= (hi >>> 27) & 1;
        table = (hi & 0xffff) * TWO32 + ((lo & 0xfffff000) >>> 0);
        continue;
      }
      if (level === 0 || (level === 3 && !isTable)) return s1Fault(0x04, level);
      if ((lo & (1 << 10)) === 0) return s1Fault(0x08, level);
      const ap = (lo >>> 6) & 3;
      const el0Access = (ap & 1) !== 0 && apTable0 === 0;
      const readOnly = (ap & 2) !== 0 || apTable1 !== 0;
      const asEl0 = cpu.el === 0 || unprivileged;
      if (access === Access.Exec) {
        let xn = asEl0 ? ((hi >>> 22) & 1) !== 0 || uxnTable !== 0 || !el0Access : ((hi >>> 21) & 1) !== 0 || pxnTable !== 0 || (el0Access && !readOnly);
        if (!xn && (s.sctlr & SCTLR.WXN) !== 0 && !readOnly && (!asEl0 || el0Access)) xn = true;
        if (xn) return s1Fault(0x0c, level);
      } else {
        if (asEl0 && !el0Access) return s1Fault(0x0c, level);
        if (access === Access.Write && readOnly) return s1Fault(0x0c, level);
        if (!asEl0 && s.pan !== 0 && el0Access) return s1Fault(0x0c, level);
      }
      const blockSize = 2 ** shift;
      const outBase = (hi & 0xffff) * TWO32 + ((lo & 0xfffff000) >>> 0);
      out = outBase - (outBase % blockSize) + (off % blockSize);
    }
    ipa = out;
  }
  return hcrVm ? stage2(ipa, access, false) : { pa: ipa };
}

/** xorshift32, fixed seed: the same tables and cases on every run. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

describe('table walk against the reference walk', () => {
  it('gives the same address or fault on random tables and configurations', () => {
    const next = rng(0x1234567);
    const pick = <T>(xs: readonly T[]): T => xs[next() % xs.length]!;
    const mem = new FlatMemory(RAM);
    const cpu = new Cpu(mem);
    cpu.enableSystemMode();
    // Faults come back as records instead of exceptions, so each case leaves the CPU untouched.
    const asFault = (f: Fault): never => {
      throw f;
    };
    Object.assign(cpu, {
      raise: (ec: number, iss: number, far: number) => asFault({ el2: false, ec, iss, far, hpfar: 0 }),
      raiseToEl2: (ec: number, iss: number, far: number, hpfar: number) => asFault({ el2: true, ec, iss, far, hpfar }),
      // (It would look the instruction up through the tables: not what is under test.)
      dataAbortInstructionSyndrome: () => 0x1000000,
    });
    const tablePage = () => TABLES + (next() % TABLE_PAGES) * 4096;
    // Descriptors: every type and attribute at random; most addresses point at table pages, so
    // walks go deep; some point outside RAM (external aborts) or anywhere in 48 bits.
    for (let i = 0; i < (TABLE_PAGES * 4096) / 8; i++) {
      let lo = next() | 0;
      let hi = next() | 0;
      const r = next() % 10;
      if (r < 7) {
        lo = (lo & 0xfff) | tablePage();
        hi &= ~0xffff;
      } else if (r === 7) {
        lo = (lo & 0xfff) | 0x7ff00000;
      }
      if (next() % 4 !== 0) lo |= 1 << 10; // AF mostly set
      if (next() % 3 !== 0) lo |= 1; // mostly valid
      mem.ram.setInt32(TABLES + i * 8, lo, true);
      mem.ram.setInt32(TABLES + i * 8 + 4, hi, true);
    }
    const fails: string[] = [];
    let translated = 0;
    for (let c = 0; c < 4000; c++) {
      const s = cpu.sys;
      const txsz = () => pick([16, 16, 25, 25, 39, 39, 12, 20, 33, 40, 44, 48]);
      s.tcr = txsz() | (txsz() << 16) | (pick([2, 2, 2, 1, 3, 0]) << 30) | (pick([0, 0, 0, 1, 2]) << 14) | (next() % 8 === 0 ? 1 << 7 : 0) | (next() % 8 === 0 ? 1 << 23 : 0);
      s.ttbr0 = next() % 16 === 0 ? 0x7ff000 * 4096 : tablePage() + (next() % 2);
      s.ttbr1 = tablePage();
      s.sctlr = (s.sctlr & ~(SCTLR.M | SCTLR.WXN)) | (next() % 16 !== 0 ? SCTLR.M : 0) | (next() % 4 === 0 ? SCTLR.WXN : 0);
      s.pan = next() & 1;
      cpu.el = pick([0, 1, 1]);
      cpu.mmu.unprivileged = cpu.el === 1 && next() % 4 === 0;
      const stage2 = next() % 3 === 0;
      s.hcr = stage2 ? HCR.VM | HCR.RW : HCR.RW;
      s.vtcr = pick([24, 24, 25, 32, 16, 40]) | (pick([1, 1, 0, 2, 3]) << 6) | (next() % 16 === 0 ? 1 << 14 : 0);
      s.vttbr = tablePage();
      // As MSR of these registers does (el2-cpu.ts, sysregs-el1.ts): the stage-2 walk cache (mmu.ts)
      // lives until the next full flush. The eight addresses below then share it.
      cpu.flushTlb();
      for (let k = 0; k < 8; k++) {
        const bits = 12 + (next() % 40);
        let va = (next() % 2 ** Math.min(bits, 32)) + (bits > 32 ? (next() % 2 ** (bits - 32)) * TWO32 : 0);
        if (next() % 2 === 0) va = va - 2 ** (next() % 3 === 0 ? 52 : 48);
        const access = pick([Access.Read, Access.Write, Access.Exec]);
        let got: Outcome;
        try {
          got = { pa: cpu.mmu.translate(va, access) };
        } catch (e) {
          if (e instanceof Error) throw e;
          got = { fault: e as Fault };
        }
        const want = referenceTranslate(cpu, cpu.mmu.unprivileged, va, access);
        if ('pa' in want) translated++;
        if (JSON.stringify(got) !== JSON.stringify(want) && fails.length < 10) {
          fails.push(`case ${c} va ${va.toString(16)} access ${access}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
        }
      }
    }
    expect(fails).toEqual([]);
    // The cases reach leaves too, not only faults near the root.
    expect(translated).toBeGreaterThan(500);
  });
});
