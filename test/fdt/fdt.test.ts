import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Fdt, FdtError } from '../../emulator/fdt/fdt.ts';

const KIT = new URL('../../../shared/guests/', import.meta.url);
const tmp = mkdtempSync(join(tmpdir(), 'fdt-'));

export function dtcToDts(blob: Uint8Array): string {
  const f = join(tmp, `t${Math.random().toString(36).slice(2)}.dtb`);
  writeFileSync(f, blob);
  return execFileSync('dtc', ['-q', '-I', 'dtb', '-O', 'dts', f], { encoding: 'utf8' });
}

describe('FDT codec (DTSpec v0.4 ch. 5) against dtc', () => {
  for (const name of ['qemu-virt-gicv3-smp4.dtb', 'qemu-virt-gicv2-smp4.dtb']) {
    it(`decodes and re-encodes QEMU's ${name} to a tree dtc prints identically`, () => {
      const blob = new Uint8Array(readFileSync(new URL(name, KIT)));
      const fdt = Fdt.decode(blob);
      expect(fdt.node('/cpus/cpu@0')?.getString('device_type')).toBe('cpu');
      expect(fdt.node('/')?.getU32('#address-cells')).toBe(2);
      const again = fdt.encode();
      expect(dtcToDts(again)).toBe(dtcToDts(blob));
    });
  }

  it('a tree built in code passes dtc and reads back', () => {
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
    const back = Fdt.decode(fdt.encode());
    expect(back.node('/memory@40000000')?.getCells('reg')).toEqual([0, 0x40000000, 0, 0x10000000]);
    expect(back.node('/chosen')?.getCells('linux,initrd-start')).toEqual([0, 0x48000000]);
  });

  it('rejects garbage with a clear error', () => {
    expect(() => Fdt.decode(new Uint8Array(100))).toThrow(FdtError);
    expect(() => Fdt.decode(new Uint8Array(10))).toThrow(/too short/);
  });
});
