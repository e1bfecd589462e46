// MRS/MSR without BigInt (sysregs-el1.ts readWords/writeWords, the path the interpreter's handlers
// take first): every register that has the word forms must read and write exactly what its BigInt
// read and write do, for any value -- canonical addresses, all-ones, values a double cannot hold.
import { expect, it } from 'vitest';
import { TestCpu } from './harness.ts';
import { sysregDef } from '../../emulator/arm64/sysregs.ts';
import type { SysregDef } from '../../emulator/arm64/sysregs-el1.ts';

const VALUES = [0n, 1n, 0xffffffffn, 0x100000000n, 0x3c5n, 0xffff800008001234n, 0x0000ffffffffeff0n, 0xffffffffffffffffn, 0x8000000000000001n, 0x7fffffffffffffffn, 0x123456789abcdef1n, 0xfffffffffffff000n];

function defsWithWords(): SysregDef[] {
  const defs: SysregDef[] = [];
  for (let e = 0; e < 1 << 16; e++) {
    const d = sysregDef(e);
    if (d !== undefined && (d.readWords !== undefined || d.writeWords !== undefined)) defs.push(d);
  }
  return defs;
}

const words = (v: bigint): [number, number] => [Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0];

it('has the word forms for the registers of Linux exception entry and return', () => {
  const names = defsWithWords().map((d) => d.name);
  for (const n of ['ELR_EL1', 'SPSR_EL1', 'ESR_EL1', 'FAR_EL1', 'SP_EL0', 'TPIDR_EL1', 'DAIF']) expect(names).toContain(n);
});

it.each(defsWithWords().map((d) => [d.name, d] as const))('%s: the word forms read and write what the BigInt ones do', (_, d) => {
  // (One CPU for the BigInt forms, one for the word forms: each write replaces the value.)
  const t = new TestCpu();
  const u = new TestCpu();
  t.cpu.el = 1;
  u.cpu.el = 1;
  for (const v of VALUES) {
    if (d.write !== undefined) d.write(t.cpu, v);
    const viaBig = d.read!(t.cpu);
    if (d.readWords !== undefined) {
      const r = new Int32Array(2);
      d.readWords(t.cpu, r, 0);
      expect(((BigInt(r[1]!) & 0xffffffffn) << 32n) | (BigInt(r[0]!) & 0xffffffffn), `${d.name} readWords after write(${v.toString(16)})`).toBe(viaBig);
    }
    if (d.writeWords !== undefined && d.write !== undefined) {
      const [lo, hi] = words(v);
      d.writeWords(u.cpu, lo, hi);
      expect(d.read!(u.cpu), `${d.name} read after writeWords(${v.toString(16)})`).toBe(viaBig);
    }
  }
});
