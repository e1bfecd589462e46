// FEAT_LSE atomics (LD<op>, SWP, CAS, CASP) against qemu-aarch64 -cpu cortex-a76 (ls-oracle.ts):
// every operation, size and ordering from random state, compare-and-swap both when it matches and
// when it does not, and beside load/store-exclusive pairs. Then what the oracle cannot show:
// faults (alignment, permission, stage 2, a device) leave memory and registers as they were, an
// atomic rewriting code is seen by the next fetch, and a second PE's atomic fails our STXR.
import { expect, it } from 'vitest';
import { describeOracle } from '../oracles.ts';
import { Cpu, EC } from '../../emulator/arm64/cpu.ts';
import { FlatMemory } from '../../emulator/arm64/flat-memory.ts';
import { Access, type AddressTranslator } from '../../emulator/arm64/memory.ts';
import { Bus } from '../../emulator/bus/bus.ts';
import { HCR } from '../../emulator/arm64/sysstate.ts';
import type { Hypervisor } from '../../emulator/arm64/exceptions.ts';
import { TestCpu } from './harness.ts';
import { assemble, BUF, BUFSZ, type Case, loadCase, qemuSignal, randomState, Rng, runOurs, runQemu, summary } from './ls-oracle.ts';

const SEED = Number(process.env.LS_SEED ?? Date.now() % 1e9);
console.log(`ls-atomic seed=${SEED} (LS_SEED=${SEED} to repeat)`);

const rng = new Rng(SEED);
const pristine = rng.bytes(BUFSZ);
const ORDER = ['', 'a', 'al', 'l'];
const LDOPS = ['add', 'clr', 'eor', 'set', 'smax', 'smin', 'umax', 'umin'];
/** Registers the cases may use besides x2 (the base) and x0/x1 (the runner's scratch). */
const REGS = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30];

/** Little-endian value of `n` bytes of the pristine buffer at BUF + off. */
function memValue(off: number, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(pristine[off + i]!);
  return v;
}

interface Gen {
  asm: string[];
  /** Adjust the random state (base address, expected values) for this case. */
  fix: (st: Omit<Case, 'words'>) => void;
}

/** A base address in the buffer, aligned to 16, and SP beside it. */
function placeBase(st: Omit<Case, 'words'>, off: number): void {
  st.x[2] = BigInt(BUF + off);
  st.sp = BigInt(BUF + off);
}

function genCase(): Gen {
  const off = 0x100 + 16 * rng.int(200);
  const base = rng.int(4) === 0 ? 'sp' : 'x2';
  const ord = rng.pick(ORDER);
  const kind = rng.int(12);
  const reg = (): number => (rng.int(10) === 0 ? 31 : rng.pick(REGS));
  if (kind < 9) {
    // LD<op> / SWP in one of four sizes
    const op = kind === 8 ? 'swp' : `ld${LDOPS[kind]}`;
    const sz = rng.int(4);
    const suffix = ['b', 'h', '', ''][sz]!;
    const r = sz === 3 ? 'x' : 'w';
    const s = reg(), t = reg();
    const name = (n: number) => (n === 31 ? `${r}zr` : `${r}${n}`);
    return { asm: [`${op}${ord}${suffix} ${name(s)}, ${name(t)}, [${base}]`], fix: (st) => placeBase(st, off) };
  }
  if (kind < 11) {
    // CAS: Rs equals memory half of the time (the store happens), upper bits random
    const sz = rng.int(4);
    const n = 1 << sz;
    const suffix = ['b', 'h', '', ''][sz]!;
    const r = sz === 3 ? 'x' : 'w';
    const s = rng.pick(REGS), t = reg();
    const match = rng.int(2) === 0;
    const name = (k: number) => (k === 31 ? `${r}zr` : `${r}${k}`);
    return {
      asm: [`cas${ord}${suffix} ${name(s)}, ${name(t)}, [${base}]`],
      fix: (st) => {
        placeBase(st, off);
        if (match) st.x[s] = (st.x[s]! & ~((1n << BigInt(8 * n)) - 1n)) | memValue(off, n);
      },
    };
  }
  // CASP: even register pairs; both, one or neither element matching
  const x = rng.int(2) === 1;
  const n = x ? 8 : 4;
  const pick = () => 2 * (2 + rng.int(14)); // x4 .. x30
  const s = pick();
  let t = pick();
  if (rng.int(8) === 0) t = 30; // Rt+1 = XZR
  const m = rng.int(4);
  const r = x ? 'x' : 'w';
  const name = (k: number) => (k === 31 ? `${r}zr` : `${r}${k}`);
  return {
    asm: [`casp${ord} ${name(s)}, ${name(s + 1)}, ${name(t)}, ${name(t + 1)}, [${base}]`],
    fix: (st) => {
      placeBase(st, off);
      if (m & 1) st.x[s] = memValue(off, n) | (x ? 0n : st.x[s]! & ~0xffffffffn);
      if (m & 2 && s + 1 < 31) st.x[s + 1] = memValue(off + n, n) | (x ? 0n : st.x[s + 1]! & ~0xffffffffn);
    },
  };
}

function check(gens: Gen[]): void {
  const words = assemble(gens.flatMap((g) => g.asm));
  let k = 0;
  const cases: Case[] = gens.map((g) => {
    const st = randomState(rng);
    g.fix(st);
    return { ...st, words: g.asm.map(() => words[k++]!) };
  });
  const want = runQemu(cases, pristine);
  const got = runOurs(cases, pristine);
  for (let i = 0; i < cases.length; i++) {
    const asm = gens[i]!.asm.join('; ');
    expect({ asm, ...summary(got[i]!, pristine) }).toEqual({ asm, ...summary(want[i]!, pristine) });
  }
}

describeOracle('LSE atomics vs qemu-aarch64 -cpu cortex-a76', ['qemu-aarch64', 'cross-gcc', 'cross-as'], () => {
  it('LD<op>, SWP, CAS and CASP: every operation, size and ordering, random operands', () => {
    check(Array.from({ length: 1500 }, genCase));
  });

  it('ST<op> aliases, Rs = Rt, Rs = XZR, CASP with Rs+1 = XZR', () => {
    const fix = (st: Omit<Case, 'words'>) => placeBase(st, 0x200);
    check([
      'stadd w3, [x2]', 'staddlb w3, [x2]', 'stclrh w3, [x2]', 'steor x3, [x2]', 'stset x3, [sp]',
      'stsmax w3, [x2]', 'stsminl x3, [x2]', 'stumaxb w3, [x2]', 'stuminh w3, [x2]',
      'ldadd x3, x3, [x2]', 'swp w3, w3, [x2]', 'swpal x3, x3, [x2]', 'ldaddal xzr, x4, [x2]',
      'cas x3, x3, [x2]', 'casal w3, wzr, [x2]', 'cas xzr, x4, [x2]', 'caspal x30, xzr, x4, x5, [x2]',
    ].map((a) => ({ asm: [a], fix })));
  });

  it('an atomic between a load-exclusive and its store-exclusive: the STXR fails when the value changed', () => {
    const fix = (st: Omit<Case, 'words'>) => {
      placeBase(st, 0x300);
      st.x[3] = 5n;
    };
    check([
      ['ldxr x4, [x2]', 'ldadd x3, x5, [x2]', 'stxr w6, x7, [x2]'],
      ['ldxr x4, [x2]', 'ldadd xzr, x5, [x2]', 'stxr w6, x7, [x2]'],
      ['ldaxr w4, [x2]', 'swp w3, w5, [x2]', 'stlxr w6, w7, [x2]'],
      ['ldxr x4, [x2]', 'cas x4, x3, [x2]', 'stxr w6, x7, [x2]'],
      ['ldxp x4, x5, [x2]', 'caspal x4, x5, x8, x9, [x2]', 'stxp w6, x10, x11, [x2]'],
    ].map((asm) => ({ asm, fix })));
  });
});

describeOracle('LSE atomics: faults and memory effects', ['qemu-aarch64', 'cross-gcc', 'cross-as'], () => {
  const WORDS = assemble([
    'ldadd x3, x4, [x2]', 'swpb w3, w4, [x2]', 'casal w3, w4, [x2]', 'casp x4, x5, x6, x7, [x2]',
    'stsetlh w3, [x2]', 'ldumin w3, w4, [x2]',
  ]);

  it('misaligned: alignment fault (DFSC 0b100001, WnR) with nothing changed; qemu-aarch64 SIGBUS', () => {
    for (const [w, mis] of [[WORDS[0]!, 4], [WORDS[2]!, 2], [WORDS[3]!, 8], [WORDS[4]!, 1], [WORDS[5]!, 2]] as const) {
      const st = randomState(rng);
      st.x[2] = BigInt(BUF + 0x400 + mis);
      const c = { ...st, words: [w] };
      const [res] = runOurs([c], pristine);
      const trap = res!.trap as { ec: number; iss: number; far: number; pc: number };
      expect(trap.ec).toBe(EC.DABT_LOWER);
      expect(trap.iss & 0x7f).toBe(0x40 | 0x21);
      expect(trap.far).toBe(BUF + 0x400 + mis);
      expect(res!.x).toEqual(c.x);
      expect(res!.buf).toEqual(pristine);
      expect(qemuSignal(c, pristine)).toBe('SIGBUS');
    }
    // SWPB has no alignment requirement beyond its byte.
    const st = randomState(rng);
    st.x[2] = BigInt(BUF + 0x401);
    expect(runOurs([{ ...st, words: [WORDS[1]!] }], pristine)[0]!.trap).toBeUndefined();
  });

  it('a read-only page: permission fault reported as a write, memory unchanged (CAS too, when the compare fails)', () => {
    for (const w of WORDS) {
      const t = new TestCpu();
      const cpu = t.cpu;
      const ro: AddressTranslator = {
        pageCacheable: true,
        translate(va: number, access: Access): number {
          if (access === Access.Write && va >= BUF && va < BUF + BUFSZ) cpu.raise(EC.DABT_LOWER, 0x0f | 0x40, va, cpu.pc);
          return va;
        },
      };
      cpu.translator = ro;
      const st = randomState(rng);
      st.x[2] = BigInt(BUF + 0x400);
      const c = { ...st, words: [w] };
      loadCase(t, c, pristine);
      const regs = cpu.regs.x.slice();
      // A warm read TLB entry for the page must not let the atomic through.
      cpu.read32(BUF + 0x400);
      cpu.run(1);
      expect(t.traps).toHaveLength(1);
      expect(t.traps[0]!.iss).toBe(0x4f);
      expect(cpu.regs.x.slice()).toEqual(regs);
      expect(t.mem.ramBytes.slice(BUF, BUF + BUFSZ)).toEqual(pristine);
    }
  });

  it('a device address: synchronous external abort (DFSC 0b010000), the device sees no access', () => {
    const bus = new Bus();
    bus.addRam(0, 1 << 20);
    const seen: string[] = [];
    bus.addMmio(0x900000, 0x1000, {
      name: 'probe',
      read: (o, s) => (seen.push(`r${s}@${o}`), 0x1234),
      write: (o, s, v) => void seen.push(`w${s}@${o}=${v}`),
    });
    const cpu = new Cpu(bus);
    const traps: { ec: number; iss: number; far: number }[] = [];
    cpu.exceptionHook = (c, ec, iss, far) => {
      traps.push({ ec, iss, far });
      c.exitRequest = 1;
    };
    for (const w of WORDS) {
      bus.ram.setUint32(0x1000, w, true);
      cpu.invalidateCodeRam(0x1000, 4);
      cpu.setX(2, 0x900010n);
      cpu.setX(3, 7n);
      cpu.pc = 0x1000;
      cpu.run(1);
    }
    expect(traps).toHaveLength(WORDS.length);
    for (const t of traps) expect(t).toEqual({ ec: EC.DABT_LOWER, iss: 0x50, far: 0x900010 });
    expect(seen).toEqual([]);
  });

  it('a stage-2 permission fault reaches EL2 with WnR and no instruction syndrome (ISV = 0); memory unchanged', () => {
    const mem = new FlatMemory(4 << 20);
    const cpu = new Cpu(mem);
    cpu.enableSystemMode();
    const seen: number[] = [];
    const hv: Hypervisor = { sync: (c) => void seen.push(c.sys.esr2), irq: () => {}, fiq: () => {} };
    cpu.hypervisor = hv;
    // Stage 2 as in mmu.test.ts: IPA 0x40000000 -> PA 0x300000 read-write, 0x40001000 -> 0x301000 read-only.
    const l1 = 0x200000, l2 = 0x201000, l3 = 0x202000;
    const set = (t: number, i: number, d: bigint) => mem.ram.setBigUint64(t + 8 * i, d, true);
    set(l1, 1, BigInt(l2) | 3n);
    set(l2, 0, BigInt(l3) | 3n);
    set(l3, 0, 0x300000n | (1n << 10n) | (3n << 6n) | 3n);
    set(l3, 1, 0x301000n | (1n << 10n) | (1n << 6n) | 3n);
    cpu.sys.vttbr = l1;
    cpu.sys.vtcr = 24 | (1 << 6);
    cpu.sys.hcr = HCR.VM | HCR.RW;
    mem.ram.setUint32(0x1000, WORDS[0]!, true); // ldadd x3, x4, [x2]
    mem.ram.setBigUint64(0x300000, 40n, true);
    mem.ram.setBigUint64(0x301000, 40n, true);
    cpu.setX(3, 2n);
    const runAt = (ipa: number) => {
      cpu.setX(2, BigInt(ipa));
      cpu.pc = 0x1000;
      cpu.el = 1;
      cpu.run(1);
    };
    // Code at IPA 0x1000 is not mapped at stage 2 either: map it to itself first.
    set(l1, 0, BigInt(0x203000) | 3n);
    set(0x203000, 0, BigInt(0x204000) | 3n);
    set(0x204000, 1, 0x1000n | (1n << 10n) | (3n << 6n) | 3n);
    runAt(0x40000000);
    expect(seen).toEqual([]);
    expect(mem.ram.getBigUint64(0x300000, true)).toBe(42n);
    expect(cpu.getX(4)).toBe(40n);
    runAt(0x40001000);
    expect(seen).toHaveLength(1);
    expect(seen[0]! >>> 26).toBe(EC.DABT_LOWER);
    expect(seen[0]! & (1 << 24)).toBe(0); // ISV = 0: an atomic cannot be emulated from the syndrome
    expect(seen[0]! & 0x7f).toBe(0x40 | 0x0f); // WnR, permission fault level 3
    expect(mem.ram.getBigUint64(0x301000, true)).toBe(40n);
  });

  it('an atomic that rewrites an instruction is seen by the next fetch of it', () => {
    const t = new TestCpu();
    const [swp, movz1, movz2] = assemble(['swp w3, w4, [x2]', 'movz x5, #1', 'movz x5, #2']);
    // The instruction at CODE+4 runs once (decoded), is replaced by SWP, then runs again.
    t.setX(2, TestCpu.CODE + 4);
    t.setX(3, movz2!);
    t.exec([swp!, movz1!], 2);
    expect(t.x(4)).toBe(BigInt(movz1!));
    expect(t.x(5)).toBe(2n);
  });

  it('another PE changing the reserved location makes this PE store-exclusive fail; an unchanged value does not', () => {
    const mem = new FlatMemory(1 << 20);
    const a = new Cpu(mem), b = new Cpu(mem);
    for (const c of [a, b]) c.exceptionHook = (cpu) => void (cpu.exitRequest = 1);
    const [ldxr, stxr, ldadd] = assemble(['ldxr x4, [x2]', 'stxr w6, x7, [x2]', 'ldadd x3, x5, [x2]']);
    mem.ram.setUint32(0x1000, ldxr!, true);
    mem.ram.setUint32(0x1004, stxr!, true);
    mem.ram.setUint32(0x2000, ldadd!, true);
    const step = (c: Cpu, pc: number) => {
      c.pc = pc;
      c.run(1);
    };
    for (const [add, status] of [[1n, 1n], [0n, 0n]] as const) {
      mem.ram.setBigUint64(0x8000, 100n, true);
      for (const c of [a, b]) c.setX(2, 0x8000n);
      a.setX(7, 7n);
      b.setX(3, add);
      step(a, 0x1000);
      step(b, 0x2000);
      step(a, 0x1004);
      expect(a.getX(6)).toBe(status);
      expect(mem.ram.getBigUint64(0x8000, true)).toBe(status ? 100n + add : 7n);
    }
  });
});
