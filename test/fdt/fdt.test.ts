import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Fdt, FdtError } from '../../emulator/fdt/fdt.ts';
import { describeOracle, qemuVirtDtb } from '../oracles.ts';

const tmp = mkdtempSync(join(tmpdir(), 'fdt-'));

export function dtcToDts(blob: Uint8Array): string {
  const f = join(tmp, `t${Math.random().toString(36).slice(2)}.dtb`);
  writeFileSync(f, blob);
  return execFileSync('dtc', ['-q', '-I', 'dtb', '-O', 'dts', f], { encoding: 'utf8' });
}

describeOracle("FDT codec (DTSpec v0.4 ch. 5) on QEMU's own trees, against dtc", ['qemu-system-aarch64', 'dtc'], () => {
  for (const gic of [3, 2] as const) {
    it(`decodes and re-encodes QEMU's qemu-virt GICv${gic} tree (4 CPUs) to a tree dtc prints identically`, () => {
      const blob = qemuVirtDtb(gic);
      const fdt = Fdt.decode(blob);
      expect(fdt.node('/cpus/cpu@0')?.getString('device_type')).toBe('cpu');
      expect(fdt.node('/')?.getU32('#address-cells')).toBe(2);
      const again = fdt.encode();
      expect(dtcToDts(again)).toBe(dtcToDts(blob));
    });
  }
});

describeOracle('FDT codec (DTSpec v0.4 ch. 5) against dtc', ['dtc'], () => {
  it('a tree built in code passes dtc', () => {
    const fdt = new Fdt();
    fdt.root.setCells('#address-cells', 2).setCells('#size-cells', 2).setString('compatible', 'test,board');
    const mem = fdt.ensureNode('/memory@40000000');
    mem.setString('device_type', 'memory').setCells('reg', 0, 0x40000000, 0, 0x10000000);
    const intc = fdt.ensureNode('/intc@8000000');
    const ph = fdt.phandle(intc);
    fdt.root.setU32('interrupt-parent', ph);
    fdt.ensureNode('/chosen').setString('bootargs', 'console=ttyAMA0').setU64('linux,initrd-start', 0x48000000n);
    fdt.reservations.push({ address: 0x40000000n, size: 0x1000n });
    const dts = dtcToDts(fdt.encode());
    expect(dts).toContain('bootargs = "console=ttyAMA0";');
    expect(dts).toContain('/memreserve/\t0x0000000040000000 0x0000000000001000;');
    expect(dts).toContain(`interrupt-parent = <0x${ph.toString(16).padStart(2, '0')}>;`);
  });
});

describe('FDT codec (DTSpec v0.4 ch. 5)', () => {
  it('a tree built in code reads back', () => {
    const fdt = new Fdt();
    fdt.root.setCells('#address-cells', 2).setCells('#size-cells', 2).setString('compatible', 'test,board');
    fdt.ensureNode('/memory@40000000').setString('device_type', 'memory').setCells('reg', 0, 0x40000000, 0, 0x10000000);
    fdt.ensureNode('/chosen').setString('bootargs', 'console=ttyAMA0').setU64('linux,initrd-start', 0x48000000n);
    fdt.reservations.push({ address: 0x40000000n, size: 0x1000n });
    const back = Fdt.decode(fdt.encode());
    expect(back.node('/memory@40000000')?.getCells('reg')).toEqual([0, 0x40000000, 0, 0x10000000]);
    expect(back.node('/chosen')?.getCells('linux,initrd-start')).toEqual([0, 0x48000000]);
    expect(back.node('/chosen')?.getString('bootargs')).toBe('console=ttyAMA0');
    expect(back.reservations).toEqual([{ address: 0x40000000n, size: 0x1000n }]);
  });

  it('rejects garbage with a clear error', () => {
    expect(() => Fdt.decode(new Uint8Array(100))).toThrow(FdtError);
    expect(() => Fdt.decode(new Uint8Array(10))).toThrow(/too short/);
  });
});
