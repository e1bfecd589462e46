import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boards } from '../../boards/index.ts';
import { addBootSeeds, boardTree, RNG_SEED_BYTES } from '../../emulator/fdt/board-tree.ts';
import { Fdt } from '../../emulator/fdt/fdt.ts';
import { DEFAULT_SEED, Rng } from '../../emulator/rng.ts';
import { describeOracle, qemuVirtDtb } from '../oracles.ts';

const tmp = mkdtempSync(join(tmpdir(), 'boards-'));

function dtc(blob: Uint8Array): { out: string; err: string } {
  const f = join(tmp, `b${Math.random().toString(36).slice(2)}.dtb`);
  writeFileSync(f, blob);
  const out = execFileSync('dtc', ['-I', 'dtb', '-O', 'dts', '-o', '-', f], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const err = execFileSync('sh', ['-c', `dtc -I dtb -O dts -o /dev/null ${f} 2>&1 || true`], { encoding: 'utf8' });
  return { out, err };
}

describeOracle('board device trees against dtc', ['dtc'], () => {
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
});

describeOracle("the qemu-virt board against QEMU's own tree", ['qemu-system-aarch64'], () => {
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
      const ref = Fdt.decode(qemuVirtDtb(gic));
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
      // Both hand Linux boot entropy the same shape (the bytes are each one's own).
      for (const [p, n] of [['rng-seed', RNG_SEED_BYTES], ['kaslr-seed', 8]] as const) {
        expect(ref.node('/chosen')!.get(p)?.length, `QEMU /chosen/${p}`).toBe(n);
        expect(ours.node('/chosen')!.get(p)?.length, `our /chosen/${p}`).toBe(n);
      }
      expect(diffs).toEqual([]);
    });
  }
});

describe('boot seeds in /chosen (--seed)', () => {
  const chosen = (fdt: Fdt) => Fdt.decode(fdt.encode()).node('/chosen')!;
  const virt = boards['qemu-virt']!;
  const opts = { smp: 4, memBytes: 512 << 20, gic: 3 as const };

  it('every generated tree has a 32-byte rng-seed and a u64 kaslr-seed, from the default seed unless told', () => {
    for (const b of Object.values(boards)) {
      const c = chosen(boardTree(b, { smp: b.cpus.length, memBytes: b.memory.defaultSize, gic: b.gic.version }));
      expect(c.get('rng-seed')?.length).toBe(32);
      expect(c.get('kaslr-seed')?.length).toBe(8);
      expect(c.getString('stdout-path')).toMatch(/^\//);
    }
    const r = new Rng(DEFAULT_SEED, 'chosen');
    const c = chosen(boardTree(virt, opts));
    expect(Buffer.from(c.get('rng-seed')!)).toEqual(Buffer.from(r.bytes(32)));
    const k = r.nextU64();
    expect(c.getCells('kaslr-seed')).toEqual([Number(k >> 32n), Number(k & 0xffffffffn)]);
  });

  it('the same seed gives the same bytes; another seed other bytes', () => {
    const a = chosen(boardTree(virt, { ...opts, rng: new Rng(1234n, 'chosen') }));
    const b = chosen(boardTree(virt, { ...opts, rng: new Rng(1234n, 'chosen') }));
    const c = chosen(boardTree(virt, { ...opts, rng: new Rng(1235n, 'chosen') }));
    expect(a.get('rng-seed')).toEqual(b.get('rng-seed'));
    expect(a.get('kaslr-seed')).toEqual(b.get('kaslr-seed'));
    expect(a.get('rng-seed')).not.toEqual(c.get('rng-seed'));
    expect(a.get('kaslr-seed')).not.toEqual(c.get('kaslr-seed'));
  });

  it('addBootSeeds adds them to any tree (the hypervisor does so for each VM), creating /chosen if needed', () => {
    const fdt = new Fdt();
    fdt.root.setCells('#address-cells', 2).setCells('#size-cells', 2);
    addBootSeeds(fdt, new Rng(5n, 'vm1/chosen'));
    const c = chosen(fdt);
    expect(c.get('rng-seed')).toEqual(new Rng(5n, 'vm1/chosen').bytes(32));
    expect(c.get('kaslr-seed')?.length).toBe(8);
  });
});
