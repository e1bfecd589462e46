import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boards } from '../../boards/index.ts';
import { boardTree } from '../../emulator/fdt/board-tree.ts';
import { Fdt } from '../../emulator/fdt/fdt.ts';

const KIT = new URL('../../../shared/guests/', import.meta.url);
const tmp = mkdtempSync(join(tmpdir(), 'boards-'));

function dtc(blob: Uint8Array): { out: string; err: string } {
  const f = join(tmp, `b${Math.random().toString(36).slice(2)}.dtb`);
  writeFileSync(f, blob);
  const out = execFileSync('dtc', ['-I', 'dtb', '-O', 'dts', '-o', '-', f], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const err = execFileSync('sh', ['-c', `dtc -I dtb -O dts -o /dev/null ${f} 2>&1 || true`], { encoding: 'utf8' });
  return { out, err };
}

describe('board device trees', () => {
  for (const [name, b] of Object.entries(boards)) {
    for (const gic of b.gic.versions) {
      it(`${name} (GICv${gic}) is accepted by dtc without warnings`, () => {
        const blob = boardTree(b, { smp: b.cpus.length, memBytes: b.memory.defaultSize, gic }).encode();
        const { out, err } = dtc(blob);
        expect(err).toBe('');
        expect(out).toContain(`compatible = "${b.uarts[0]!.compatible[0]}`);
        expect((out.match(/device_type = "cpu"/g) ?? []).length).toBe(b.cpus.length);
      });
    }
  }

  // The nodes and properties Linux uses, compared byte for byte with QEMU 7.2's own tree.
  const COMPARED: [string, string[]][] = [
    ['/', ['#address-cells', '#size-cells', 'compatible', 'model']],
    ['/psci', ['compatible', 'method', 'cpu_on', 'cpu_off', 'cpu_suspend', 'migrate']],
    ['/memory@40000000', ['device_type', 'reg']],
    ['/intc@8000000', ['compatible', 'reg', '#interrupt-cells', 'interrupt-controller', '#redistributor-regions']],
    ['/timer', ['compatible', 'interrupts', 'always-on']],
    ['/pl011@9000000', ['compatible', 'reg', 'interrupts', 'clock-names']],
    ['/apb-pclk', ['compatible', 'clock-frequency', '#clock-cells']],
    ...[0, 1, 2, 3].map((i): [string, string[]] => [`/cpus/cpu@${i}`, ['device_type', 'compatible', 'enable-method', 'reg']]),
    ...Array.from({ length: 32 }, (_, k): [string, string[]] => [`/virtio_mmio@${(0xa000000 + k * 0x200).toString(16)}`, ['compatible', 'reg', 'interrupts', 'dma-coherent']]),
  ];

  for (const gic of [3, 2] as const) {
    it(`qemu-virt GICv${gic} matches QEMU's tree for 4 CPUs and 512 MiB`, () => {
      const ref = Fdt.decode(new Uint8Array(readFileSync(new URL(`qemu-virt-gicv${gic}-smp4.dtb`, KIT))));
      const ours = boardTree(boards['qemu-virt']!, { smp: 4, memBytes: 512 << 20, gic });
      const diffs: string[] = [];
      for (const [path, props] of COMPARED) {
        const a = ref.node(path);
        const b = ours.node(path);
        if (!a || !b) {
          diffs.push(`${path}: ${a ? 'missing in ours' : 'missing in QEMU'}`);
          continue;
        }
        for (const p of props) {
          const va = a.get(p);
          const vb = b.get(p);
          if (va === undefined && vb === undefined) continue;
          if (!va || !vb || Buffer.compare(Buffer.from(va), Buffer.from(vb)) !== 0) {
            diffs.push(`${path} ${p}: QEMU ${va ? Buffer.from(va).toString('hex') : '-'} ours ${vb ? Buffer.from(vb).toString('hex') : '-'}`);
          }
        }
      }
      // stdout-path names the same UART; interrupt-parent points at the GIC in both.
      expect(ours.node('/chosen')!.getString('stdout-path')).toBe(ref.node('/chosen')!.getString('stdout-path'));
      expect(ours.root.getU32('interrupt-parent')).toBe(ours.node('/intc@8000000')!.getU32('phandle'));
      expect(diffs).toEqual([]);
    });
  }
});
