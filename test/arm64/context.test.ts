// The EL1 context of a world switch (emulator/arm64/context.ts): a test hypervisor switches between
// two guest programs on one CPU at HVC, and the first program must continue bit-exactly as if it
// had never been interrupted (every register class, system registers, the timer, memory). The
// second program changes every class, including translation (MMU on, a different mapping of the
// first program's pages: a restore that kept stale soft-TLB entries would run the wrong code).
import { describe, expect, it } from 'vitest';
import { Cpu } from '../../emulator/arm64/cpu.ts';
import { FlatMemory } from '../../emulator/arm64/flat-memory.ts';
import type { Hypervisor } from '../../emulator/arm64/exceptions.ts';
import { CONTEXT_WORDS, CTX, El1ContextData, PSTATE_EL1H_MASKED, resetEl1, resetEl1Context, restoreEl1, saveEl1 } from '../../emulator/arm64/context.ts';
import { El1Slot, SCTLR_RESET } from '../../emulator/arm64/sysstate.ts';
import { Clock } from '../../emulator/clock/clock.ts';
import { GenericTimer, SystemCounter } from '../../emulator/devices/generic-timer.ts';
import { FPSR_QC } from '../../emulator/arm64/exec/simd-lanes.ts';
import { assemble } from './ls-oracle.ts';
import { TestCpu } from './harness.ts';

const A = 0x10000; // program A (MMU off: VA = PA)
const A_DATA = 0x12000;
const B = 0x30000; // program B (turns its MMU on)
const DECOY = 0x50000; // B maps VA A..A+4K here
const DECOY_DATA = 0x52000; // and VA A_DATA here
const EXCL = 0x60000;
const TABLES = 0x100000;
const HVC_SWITCH = 1;
const HVC_BACK = 2;
const HVC_DONE = 0xff;

/** TCR_EL1 for 48-bit VAs with 4 KiB pages (T0SZ = T1SZ = 16, TG1 = 4K), as mmu.test.ts uses. */
const TCR_48_4K = (16 | (16 << 16) | (2 << 30)) >>> 0;
const ASID_B = 0x42;

const msr = (reg: string, v: bigint | number): string[] => [`ldr x0, =0x${(typeof v === 'number' ? BigInt(v >>> 0) : v).toString(16)}`, `msr ${reg}, x0`];

/** Every value-only EL1 register both programs write, with a value per program. */
const VALUE_REGS: [string, El1Slot, bigint][] = [
  ['tpidr_el0', El1Slot.TPIDR_EL0, 0x1000000000000001n],
  ['tpidrro_el0', El1Slot.TPIDRRO_EL0, 0x1000000000000002n],
  ['tpidr_el1', El1Slot.TPIDR_EL1, 0x1000000000000003n],
  ['cpacr_el1', El1Slot.CPACR_EL1, 0x300000n],
  ['actlr_el1', El1Slot.ACTLR_EL1, 0x5n],
  ['amair_el1', El1Slot.AMAIR_EL1, 0x1000000000000006n],
  ['contextidr_el1', El1Slot.CONTEXTIDR_EL1, 0x17n],
  ['afsr0_el1', El1Slot.AFSR0_EL1, 0x18n],
  ['afsr1_el1', El1Slot.AFSR1_EL1, 0x19n],
  ['par_el1', El1Slot.PAR_EL1, 0x1000000000000a00n],
  ['csselr_el1', El1Slot.CSSELR_EL1, 0x2n],
  ['mdscr_el1', El1Slot.MDSCR_EL1, 0x1000n],
  ['dbgbvr0_el1', El1Slot.DBGBVR0, 0x1000000000000c00n],
  ['dbgbcr5_el1', El1Slot.DBGBCR0 + 5, 0x1e5n],
  ['dbgwvr3_el1', El1Slot.DBGWVR0 + 3, 0x1000000000000d00n],
  ['dbgwcr3_el1', El1Slot.DBGWCR0 + 3, 0x1f7n],
];
const valueFor = (v: bigint, prog: 'A' | 'B'): bigint => (prog === 'A' ? v : v ^ 0x0b000000_00000040n);

const programA = [
  ...VALUE_REGS.flatMap(([name, , v]) => msr(name, valueFor(v, 'A'))),
  ...msr('vbar_el1', 0x8000),
  ...msr('elr_el1', 0xffff800000101234n),
  ...msr('spsr_el1', 0x600003c5),
  ...msr('esr_el1', 0x96000045),
  ...msr('far_el1', 0xffff000012345678n),
  ...msr('sp_el0', 0x7000),
  ...msr('mair_el1', 0x0044ff),
  ...msr('tcr_el1', TCR_48_4K),
  ...msr('ttbr0_el1', (7n << 48n) | 0x200000n),
  ...msr('ttbr1_el1', (8n << 48n) | 0x201000n),
  ...msr('cntkctl_el1', 0x3),
  ...msr('cntv_cval_el0', 0xa000000),
  ...msr('cntv_ctl_el0', 2),
  ...msr('fpcr', (1 << 24) | (1 << 22)), // FZ, round towards +Inf
  'ldr x0, =0x9000',
  'mov sp, x0',
  'movi v0.16b, #0x11',
  'movi v1.16b, #0x22',
  'fmov d4, #1.0',
  'ldr x0, =0x3ff0000000000001', // 1 + 2^-52: the sum below rounds differently per FPCR.RMode
  'fmov d6, x0',
  'movi v9.2d, #0xff00ff00ff00ff00',
  'adds x0, x0, x0', // some flags
  ...Array.from({ length: 30 }, (_, i) => `ldr x${i}, =0x${(0xa0000000_00000000n + BigInt(i) * 0x1111_0000_0101n).toString(16)}`),
  'ldr x30, =0xa0a0a0a0a0a0a0a0',
  `ldr x1, =0x${EXCL.toString(16)}`,
  'ldxr x2, [x1]',
  `hvc #${HVC_SWITCH}`,
  // Resumed (or never left): use every class, then push what the system registers hold.
  'fadd d5, d4, d6',
  'sqadd v7.16b, v0.16b, v1.16b',
  'stxr w3, x2, [x1]', // fails: the exception return cleared the monitor (in both runs)
  ...Array.from({ length: 15 }, (_, i) => `stp x${2 * i}, x${2 * i + 1}, [sp, #-16]!`),
  'str x30, [sp, #-16]!',
  ...VALUE_REGS.flatMap(([name]) => [`mrs x0, ${name}`, 'str x0, [sp, #-8]!']),
  ...['vbar_el1', 'elr_el1', 'spsr_el1', 'esr_el1', 'far_el1', 'sp_el0', 'mair_el1', 'tcr_el1', 'ttbr0_el1', 'ttbr1_el1', 'sctlr_el1',
    'cntkctl_el1', 'cntv_cval_el0', 'cntv_ctl_el0', 'fpcr', 'fpsr', 'nzcv'].flatMap((name) => [`mrs x0, ${name}`, 'str x0, [sp, #-8]!']),
  `ldr x0, =0x${A_DATA.toString(16)}`,
  'ldr x0, [x0]',
  'str x0, [sp, #-8]!',
  'st1 {v4.2d-v7.2d}, [sp]',
  `hvc #${HVC_DONE}`,
  'b .',
];

const programB = [
  ...VALUE_REGS.flatMap(([name, , v]) => msr(name, valueFor(v, 'B'))),
  ...msr('vbar_el1', 0x38000),
  ...msr('elr_el1', 0x31234),
  ...msr('spsr_el1', 0x3c4),
  ...msr('esr_el1', 0x5600002a),
  ...msr('far_el1', 0xbbbb000),
  ...msr('sp_el0', 0xb000),
  'ldr x0, =0xb100',
  'mov sp, x0',
  ...msr('cntkctl_el1', 0x303),
  ...msr('cntv_cval_el0', 0xb0000000),
  ...msr('cntv_ctl_el0', 3),
  ...msr('fpcr', (1 << 25) | (3 << 22)), // DN, round towards zero
  'movi v0.16b, #0x7f',
  'movi v1.16b, #0x10',
  'sqadd v2.16b, v0.16b, v1.16b', // saturates: FPSR.QC
  'movi v9.2d, #0x00ff00ff00ff00ff',
  'fmov d4, #-2.5',
  // Translation: identity for this page and the exclusive page, A's pages moved elsewhere.
  ...msr('mair_el1', 0xff),
  ...msr('tcr_el1', TCR_48_4K),
  ...msr('ttbr0_el1', (BigInt(ASID_B) << 48n) | BigInt(TABLES)),
  ...msr('ttbr1_el1', (0x43n << 48n) | BigInt(TABLES + 0x1000)),
  'isb',
  'mrs x0, sctlr_el1',
  'orr x0, x0, #1',
  'msr sctlr_el1, x0',
  'isb',
  `ldr x9, =0x${A.toString(16)}`,
  'blr x9', // runs the decoy (x28 = 0xdec0) through VA A
  `ldr x9, =0x${A_DATA.toString(16)}`,
  'ldr x27, [x9]', // DECOY_DATA's value through VA A_DATA
  `ldr x25, =0x${(EXCL + 0x200).toString(16)}`,
  'ldxr x26, [x25]',
  ...Array.from({ length: 25 }, (_, i) => `ldr x${i}, =0x${(0xb0000000_00000000n + BigInt(i) * 0x2222_0000_0303n).toString(16)}`),
  'subs x24, x24, x24', // Z and C
  `hvc #${HVC_BACK}`,
  'b .',
];

interface Run {
  cpu: Cpu;
  mem: FlatMemory;
  timer: GenericTimer;
  log: number[];
  ctxA: El1ContextData;
  ctxB: El1ContextData;
  /** B's context as saved at its HVC, and A's as saved at its. */
  savedB: Uint32Array | null;
  savedA: Uint32Array | null;
}

function pageTables(mem: FlatMemory): void {
  let next = TABLES + 0x2000;
  const map4k = (va: number, pa: number): void => {
    let t = TABLES;
    for (let level = 0; level < 3; level++) {
      const idx = Math.floor(va / 2 ** (39 - 9 * level)) % 512;
      const cur = mem.ram.getBigUint64(t + idx * 8, true);
      if ((cur & 3n) !== 3n) {
        const nt = next;
        next += 0x1000;
        mem.ram.setBigUint64(t + idx * 8, BigInt(nt) | 3n, true);
        t = nt;
      } else t = Number(cur & 0xfffffffff000n);
    }
    // Page descriptor, AttrIndx 0, AF, EL1 read/write, executable.
    mem.ram.setBigUint64(t + ((va / 4096) % 512) * 8, BigInt(pa) | (1n << 10n) | 3n, true);
  };
  map4k(B, B);
  map4k(B + 0x1000, B + 0x1000);
  map4k(A, DECOY);
  map4k(A_DATA, DECOY_DATA);
  map4k(EXCL, EXCL);
}

function setup(switching: boolean): Run {
  const mem = new FlatMemory(2 << 20);
  const cpu = new Cpu(mem);
  cpu.enableSystemMode();
  const load = (at: number, lines: string[]): void => assemble(lines).forEach((w, i) => mem.ram.setUint32(at + 4 * i, w >>> 0, true));
  load(A, programA);
  load(B, programB);
  load(DECOY, ['movz x28, #0xdec0', 'ret']);
  mem.ram.setBigUint64(A_DATA, 0xaaaa_0000_1111_2222n, true);
  mem.ram.setBigUint64(DECOY_DATA, 0xdddd_0000_3333_4444n, true);
  mem.ram.setBigUint64(EXCL, 0x5555_6666_7777_8888n, true);
  mem.ram.setBigUint64(EXCL + 0x200, 0x9999_aaaa_bbbb_ccccn, true);
  pageTables(mem);
  const wire = { set: (): void => {} };
  const timer = new GenericTimer({ clock: new Clock(), counter: new SystemCounter(62_500_000), irqs: { phys: wire, virt: wire, hyp: wire } });
  cpu.timer = timer;
  cpu.sysregProviders.push(timer);

  const run: Run = { cpu, mem, timer, log: [], ctxA: new El1ContextData(), ctxB: new El1ContextData(), savedA: null, savedB: null };
  run.ctxB.pc = B;
  const hv: Hypervisor = {
    sync: (c) => {
      const imm = c.sys.esr2 & 0xffff;
      run.log.push(imm);
      if (imm === HVC_DONE) c.halted = true;
      if (!switching || imm === HVC_DONE) return;
      const [from, to] = imm === HVC_SWITCH ? [run.ctxA, run.ctxB] : [run.ctxB, run.ctxA];
      saveEl1(c, from, c.sys.elr2, c.sys.spsr2);
      if (imm === HVC_SWITCH) run.savedA = from.words.slice();
      else run.savedB = from.words.slice();
      const next = restoreEl1(c, to);
      c.sys.elr2 = next.pc;
      c.sys.spsr2 = next.pstate;
    },
    irq: () => {},
    fiq: () => {},
  };
  cpu.hypervisor = hv;
  cpu.pc = A;
  for (let i = 0; i < 100 && !cpu.halted; i++) cpu.run(10_000);
  expect(cpu.halted).toBe(true);
  return run;
}

const hvcAddr = (base: number, lines: string[], imm: number): number => base + 4 * assemble(lines).indexOf((0xd4000002 | (imm << 5)) >>> 0);

/** 64-bit field of a context as BigInt. */
const f64 = (w: Uint32Array, o: number): bigint => (BigInt(w[o + 1]!) << 32n) | BigInt(w[o]!);

describe('EL1 context save/restore (world switch)', () => {
  it('program A continues bit-exactly after running program B in between (all registers, sysregs, timer, memory)', () => {
    const alone = setup(false);
    const switched = setup(true);
    expect(alone.log).toEqual([HVC_SWITCH, HVC_DONE]);
    expect(switched.log).toEqual([HVC_SWITCH, HVC_BACK, HVC_DONE]);
    const a = alone.cpu;
    const s = switched.cpu;
    // Whole register file: X0-X30, SP slot, NZCV words, FPCR, FPSR (QC clear: only B saturated), V0-V31.
    expect(s.regs.bytes).toEqual(a.regs.bytes);
    expect(s.fpsr & FPSR_QC).toBe(0);
    expect({ pc: s.pc, el: s.el, spsel: s.spsel, daif: s.daif, nzcv: s.nzcv }).toEqual({ pc: a.pc, el: a.el, spsel: a.spsel, daif: a.daif, nzcv: a.nzcv });
    expect(s.sys).toEqual(a.sys);
    expect([s.exclusiveAddr, s.exclusiveSize, [...s.exclusiveValue]]).toEqual([a.exclusiveAddr, a.exclusiveSize, [...a.exclusiveValue]]);
    expect([switched.timer.cntkctl, switched.timer.cntvCtl, switched.timer.cntvCval]).toEqual([0x3, 2, 0xa000000n]);
    expect([switched.timer.cntkctl, switched.timer.cntvCtl, switched.timer.cntvCval]).toEqual([alone.timer.cntkctl, alone.timer.cntvCtl, alone.timer.cntvCval]);
    // Memory, including what A pushed after resuming (its A_DATA read went through no stale TLB entry).
    expect(Buffer.compare(Buffer.from(switched.mem.ramBytes), Buffer.from(alone.mem.ramBytes))).toBe(0);
    expect(s.regs.x[28]).not.toBe(0xdec0n);
  });

  it('the saved contexts hold exactly each program\'s state at its HVC', () => {
    const r = setup(true);
    const wa = r.savedA!;
    const wb = r.savedB!;
    // ContextFrame: PC after the HVC, PSTATE EL1h with DAIF masked (B also has Z and C set).
    expect(getPc(wa)).toBe(hvcAddr(A, programA, HVC_SWITCH) + 4);
    expect(getPc(wb)).toBe(hvcAddr(B, programB, HVC_BACK) + 4);
    expect(wb[CTX.SPSR]).toBe(0x60000000 | PSTATE_EL1H_MASKED);
    expect(f64(wb, CTX.X0 + 2 * 26)).toBe(0x9999_aaaa_bbbb_ccccn); // LDXR through the identity page
    expect(f64(wb, CTX.X0 + 2 * 27)).toBe(0xdddd_0000_3333_4444n); // VA A_DATA was DECOY_DATA
    expect(f64(wb, CTX.X0 + 2 * 28)).toBe(0xdec0n);
    expect(f64(wb, CTX.SP_EL0)).toBe(0xb000n);
    expect(f64(wb, CTX.SP_EL1)).toBe(0xb100n);
    expect(f64(wa, CTX.SP_EL1)).toBe(0x9000n);
    // System frame.
    expect(f64(wb, CTX.ELR_EL1)).toBe(0x31234n);
    expect(f64(wa, CTX.ELR_EL1)).toBe(0xffff800000101234n);
    expect(f64(wb, CTX.SPSR_EL1)).toBe(0x3c4n);
    expect(f64(wb, CTX.SCTLR_EL1)).toBe(BigInt(SCTLR_RESET | 1));
    expect(f64(wa, CTX.SCTLR_EL1)).toBe(BigInt(SCTLR_RESET));
    expect(f64(wb, CTX.TTBR0_EL1)).toBe((BigInt(ASID_B) << 48n) | BigInt(TABLES));
    expect(f64(wb, CTX.TTBR1_EL1)).toBe((0x43n << 48n) | BigInt(TABLES + 0x1000));
    expect(f64(wb, CTX.TCR_EL1)).toBe(BigInt(TCR_48_4K));
    expect(f64(wb, CTX.MAIR_EL1)).toBe(0xffn);
    expect(f64(wb, CTX.VBAR_EL1)).toBe(0x38000n);
    expect(f64(wb, CTX.ESR_EL1)).toBe(0x5600002an);
    expect(f64(wb, CTX.FAR_EL1)).toBe(0xbbbb000n);
    expect(f64(wa, CTX.FAR_EL1)).toBe(0xffff000012345678n);
    expect(f64(wb, CTX.CNTKCTL_EL1)).toBe(0x303n);
    for (const [, slot, v] of VALUE_REGS) {
      expect(f64(wa, CTX.EL1_SLOTS + 2 * slot)).toBe(valueFor(v, 'A'));
      expect(f64(wb, CTX.EL1_SLOTS + 2 * slot)).toBe(valueFor(v, 'B'));
    }
    // FP frame: QC from B's SQADD, B's FPCR; V2 = saturated bytes.
    expect(wb[CTX.FPSR]).toBe(FPSR_QC);
    expect(wa[CTX.FPSR]).toBe(0);
    expect(wb[CTX.FPCR]).toBe((1 << 25) | (3 << 22));
    expect([...wb.subarray(CTX.V0 + 8, CTX.V0 + 12)]).toEqual([0x7f7f7f7f, 0x7f7f7f7f, 0x7f7f7f7f, 0x7f7f7f7f]);
    expect(f64(wb, CTX.V0 + 4 * 9)).toBe(0x00ff00ff00ff00ffn);
    // Virtual timer and the exclusive monitor B opened with LDXR.
    expect([wb[CTX.CNTV_CTL_EL0], f64(wb, CTX.CNTV_CVAL_EL0)]).toEqual([3, 0xb0000000n]);
    expect([wa[CTX.CNTV_CTL_EL0], f64(wa, CTX.CNTV_CVAL_EL0)]).toEqual([2, 0xa000000n]);
    expect([f64(wb, CTX.EXCL_ADDR), wb[CTX.EXCL_SIZE]]).toEqual([BigInt(EXCL + 0x200), 8]);
    expect(f64(wb, CTX.EXCL_VALUE)).toBe(0x9999_aaaa_bbbb_ccccn);
    expect([f64(wa, CTX.EXCL_ADDR), wa[CTX.EXCL_SIZE]]).toEqual([BigInt(EXCL), 8]);
  });

  it('save(restore(ctx)) is the identity on every word; restore only at EL2, of the right size', () => {
    const cpu = new Cpu(new FlatMemory(1 << 16));
    const wire = { set: (): void => {} };
    cpu.timer = new GenericTimer({ clock: new Clock(), counter: new SystemCounter(1_000_000), irqs: { phys: wire, virt: wire, hyp: wire } });
    const ctx = new El1ContextData();
    // Arbitrary words, made valid where a register holds fewer bits than its field.
    let seed = 12345;
    for (let i = 0; i < CONTEXT_WORDS; i++) ctx.words[i] = seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const w = ctx.words;
    for (const o of [CTX.SPSR, CTX.SPSR_EL1, CTX.ESR_EL1, CTX.CNTKCTL_EL1, CTX.CNTV_CTL_EL0, CTX.EXCL_SIZE]) w[o + 1] = 0;
    for (const o of [CTX.ELR, CTX.ELR_EL1, CTX.VBAR_EL1, CTX.FAR_EL1, CTX.EXCL_ADDR]) w[o + 1] = (w[o + 1]! & 0x1fffff) | (w[o + 1]! & 0x100000 ? 0xffe00000 : 0);
    w[CTX.CNTKCTL_EL1] &= 0x3ff;
    w[CTX.CNTV_CTL_EL0] &= 3;
    cpu.el = 1;
    expect(() => restoreEl1(cpu, ctx)).toThrow(/EL2/);
    cpu.el = 2;
    expect(() => restoreEl1(cpu, { words: new Uint32Array(CONTEXT_WORDS - 1) })).toThrow(/words/);
    const { pc, pstate } = restoreEl1(cpu, ctx);
    expect([pc, pstate]).toEqual([ctx.pc, ctx.pstate]);
    const again = new El1ContextData();
    saveEl1(cpu, again, pc, pstate);
    expect(again.words).toEqual(ctx.words);
  });

  it('a fresh context is the reset state: EL1h, DAIF masked, MMU off, monitor open', () => {
    const ctx = new El1ContextData();
    expect(ctx.words.length).toBe(CONTEXT_WORDS);
    expect([ctx.pc, ctx.pstate, ctx.words[CTX.SCTLR_EL1]]).toEqual([0, 0x3c5, SCTLR_RESET]);
    expect(getPc(ctx.words.subarray(CTX.EXCL_ADDR - CTX.ELR))).toBe(-1);
    ctx.setX(3, 0xfedcba9876543210n);
    expect(ctx.x(3)).toBe(0xfedcba9876543210n);
    resetEl1Context(ctx);
    expect(ctx.x(3)).toBe(0n);

    const cpu = new Cpu(new FlatMemory(1 << 16));
    cpu.el = 2;
    cpu.sys.sctlr |= 1;
    cpu.sys.el1[El1Slot.TPIDR_EL1] = 5n;
    cpu.exclusiveAddr = 0x100;
    expect(resetEl1(cpu)).toEqual({ pc: 0, pstate: 0x3c5 });
    expect([cpu.sys.sctlr, cpu.sys.el1[El1Slot.TPIDR_EL1], cpu.exclusiveAddr]).toEqual([SCTLR_RESET, 0n, -1]);
  });
});

/** The ELR field (PC) of a context as the signed number the CPU uses. */
function getPc(w: Uint32Array): number {
  return (w[CTX.ELR + 1]! | 0) * 2 ** 32 + w[CTX.ELR]!;
}

describe('FPSR.QC is per CPU', () => {
  it('saturation on one CPU sets QC in its FPSR only, whatever the interleaving', () => {
    const code = assemble(['sqadd v2.16b, v0.16b, v1.16b', 'sqadd v2.16b, v0.16b, v1.16b']);
    const sat = new TestCpu();
    const plain = new TestCpu();
    for (const t of [sat, plain]) {
      code.forEach((w, i) => t.mem.ram.setUint32(TestCpu.CODE + 4 * i, w, true));
      t.cpu.pc = TestCpu.CODE;
    }
    sat.cpu.regs.vb.fill(0x7f, 0, 32); // V0, V1 = 0x7f bytes: 0x7f + 0x7f saturates
    plain.cpu.regs.vb.fill(0x01, 0, 32);
    sat.cpu.run(1);
    expect(sat.cpu.fpsr).toBe(FPSR_QC); // set by the instruction itself, no fold step
    plain.cpu.run(1);
    expect(plain.cpu.fpsr).toBe(0);
    plain.cpu.run(1);
    sat.cpu.run(1);
    expect([sat.cpu.fpsr, plain.cpu.fpsr]).toEqual([FPSR_QC, 0]);
    // And a world switch carries it with the context, not with the CPU.
    const ctx = new El1ContextData();
    sat.cpu.el = 2;
    plain.cpu.el = 2;
    saveEl1(sat.cpu, ctx, 0, PSTATE_EL1H_MASKED);
    expect(ctx.words[CTX.FPSR]).toBe(FPSR_QC);
    restoreEl1(plain.cpu, ctx);
    expect(plain.cpu.fpsr).toBe(FPSR_QC);
  });
});
