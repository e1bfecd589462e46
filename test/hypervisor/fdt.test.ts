import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boards } from '../../boards/index.ts';
import { type BoardDescription, MiB } from '../../boards/types.ts';
import { Fdt, type FdtNode } from '../../emulator/fdt/fdt.ts';
import { defaultVmSet, type VmConfig } from '../../hypervisor/config.ts';
import { BOOT_SEED_BYTES, vmDeviceTree } from '../../hypervisor/fdt.ts';

const DTC = spawnSync('dtc', ['--version']).status === 0;
const tmp = mkdtempSync(join(tmpdir(), 'vmfdt-'));
const SEED = Uint8Array.from({ length: BOOT_SEED_BYTES }, (_, i) => 0xa0 + i);
const rk3588 = boards.rk3588!;
const virt = boards['qemu-virt']!;

/** dtc's view of a blob: the dts it prints and whatever it warns on stderr. */
function dtc(blob: Uint8Array): { dts: string; warnings: string } {
  const f = join(tmp, `t${Math.random().toString(36).slice(2)}.dtb`);
  writeFileSync(f, blob);
  const r = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', '-o', '-', f], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return { dts: r.stdout, warnings: r.stderr };
}

/** Build, encode and decode again: what the guest will parse. */
function tree(vm: VmConfig, board = rk3588, gic: 2 | 3 = board.gic.version, initrd?: { start: number; end: number }): Fdt {
  return Fdt.decode(vmDeviceTree(vm, board, gic, { seed: SEED, initrd }).encode());
}

function node(fdt: Fdt, path: string): FdtNode {
  const n = fdt.node(path);
  if (!n) throw new Error(`no ${path}; nodes: ${fdt.root.children.map((c) => c.name).join(' ')}`);
  return n;
}

const names = (n: FdtNode): string[] => n.children.map((c) => c.name);

describe('per-VM device trees pass dtc', () => {
  for (const b of Object.values(boards)) {
    for (const gic of b.gic.versions) {
      it.skipIf(!DTC)(`${b.name} GICv${gic}: every VM of the default set${DTC ? '' : ' (SKIPPED: dtc is not installed; .ci/run installs device-tree-compiler)'}`, () => {
        for (const vm of defaultVmSet(b, { gicVersion: gic }).filter((v) => v.osType === 'linux')) {
          const { dts, warnings } = dtc(vmDeviceTree(vm, b, gic, { seed: SEED, initrd: { start: 0x1000000, end: 0x1100000 } }).encode());
          expect(warnings, `vm ${vm.id}`).toBe('');
          expect((dts.match(/device_type = "cpu"/g) ?? []).length).toBe(vm.cpu.num);
          expect(dts).toContain(`bootargs = "${vm.cmdline}"`);
        }
      });
    }
  }
});

/** A default-set GVM with its emulated UART as the console instead of hvc0 (the UART's device-tree node). */
function uartConsole(vm: VmConfig, board: BoardDescription): VmConfig {
  const c = structuredClone(vm);
  const d = c.emulatedDevices.find((x) => x.type === 'console')!;
  c.console = { kind: 'emulated', device: d.name, ipa: d.baseIpa, irq: d.irq, uart: board.uarts.find((u) => u.base === d.baseIpa) };
  return c;
}

describe('per-VM device tree contents (create_fdt_aarch64, completed)', () => {
  const [mvm, hvcGvm1] = defaultVmSet(rk3588);
  const gvm1 = uartConsole(hvcGvm1!, rk3588);

  it('rk3588 GVM 1: root, psci, memory, cpus with Aff1 = vCPU, timer', () => {
    const t = tree(hvcGvm1!);
    // The default GVM's console is hvc0: no UART node (its emulated UART serves earlycon only), no stdout-path.
    expect(names(t.root)).toEqual(['psci', 'memory@10000000', 'cpus', 'timer', 'intc@fe600000', 'virtio_mmio@f0001000', 'shyper', 'chosen']);
    expect(node(t, '/chosen').get('stdout-path')).toBeUndefined();
    expect(names(tree(gvm1).root)).toEqual(['psci', 'memory@10000000', 'cpus', 'timer', 'intc@fe600000', 'serial@feb50000', 'virtio_mmio@f0001000', 'shyper', 'aliases', 'chosen']);
    expect(t.root.getU32('#address-cells')).toBe(2);
    expect(t.root.getU32('#size-cells')).toBe(2);
    expect(t.root.getStringList('compatible')).toEqual(['shyper,vm', 'linux,dummy-virt']);
    expect(t.root.getString('model')).toBe('Shyper VM 1 "gvm1" on Rockchip RK3588 (shyper-emu)');
    expect(t.root.getU32('interrupt-parent')).toBe(node(t, '/intc@fe600000').getU32('phandle'));
    expect(node(t, '/psci').getStringList('compatible')).toEqual(['arm,psci-1.0', 'arm,psci-0.2']);
    expect(node(t, '/psci').getString('method')).toBe('hvc');
    expect(node(t, '/memory@10000000').getString('device_type')).toBe('memory');
    expect(node(t, '/memory@10000000').getCells('reg')).toEqual([0, 0x10000000, 0, 0x10000000]);
    const cpus = node(t, '/cpus');
    expect([cpus.getU32('#address-cells'), cpus.getU32('#size-cells')]).toEqual([1, 0]);
    expect(names(cpus)).toEqual(['cpu@0', 'cpu@100']);
    for (const [i, c] of cpus.children.entries()) {
      expect(c.getString('device_type')).toBe('cpu');
      expect(c.getString('compatible')).toBe('arm,cortex-a76'); // cores 4-5 are A76
      expect(c.getU32('reg')).toBe(i << 8);
      expect(c.getString('enable-method')).toBe('psci');
    }
    expect(t.bootCpuidPhys).toBe(0);
    expect(node(t, '/timer').getStringList('compatible')).toEqual(['arm,armv8-timer']);
    expect(node(t, '/timer').getCells('interrupts')).toEqual([1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4]);
  });

  it('rk3588 GICv3: GICD at the board address, one GICR frame pair per vCPU, no maintenance IRQ', () => {
    for (const [vm, frames] of [[gvm1, 2], [mvm!, 1]] as const) {
      const g = node(tree(vm), '/intc@fe600000');
      expect(g.getStringList('compatible')).toEqual(['arm,gic-v3']);
      expect(g.getCells('reg')).toEqual([0, 0xfe600000, 0, 0x10000, 0, 0xfe680000, 0, frames * 0x20000]);
      expect(g.getU32('#interrupt-cells')).toBe(3);
      expect(g.get('interrupt-controller')).toEqual(new Uint8Array(0));
      expect(g.getU32('#redistributor-regions')).toBe(1);
      expect(g.get('interrupts')).toBeUndefined();
    }
  });

  it('rk3588: the console UART (emulated for a GVM, passed through for the MVM) as ttyS2', () => {
    for (const vm of [gvm1, mvm!]) {
      const t = tree(vm);
      const u = node(t, '/serial@feb50000');
      expect(u.getStringList('compatible')).toEqual(['rockchip,rk3588-uart', 'snps,dw-apb-uart']);
      expect(u.getCells('reg')).toEqual([0, 0xfeb50000, 0, 0x100]);
      expect(u.getCells('interrupts')).toEqual([0, 333, 4]);
      expect(u.getU32('clock-frequency')).toBe(24_000_000);
      expect(u.getU32('reg-shift')).toBe(2);
      expect(u.getU32('reg-io-width')).toBe(4);
      expect(node(t, '/aliases').getString('serial2')).toBe('/serial@feb50000');
      expect(node(t, '/chosen').getString('stdout-path')).toBe('/serial@feb50000');
    }
  });

  it('rk3588: the vm_service node, /chosen with bootargs, initrd and the boot seeds', () => {
    const t = tree(mvm!, rk3588, 3, { start: 0x11000000, end: 0x111c4800 });
    const s = node(t, '/shyper');
    expect(s.getString('compatible')).toBe('shyper');
    expect(s.getCells('interrupts')).toEqual([0, 48 - 32, 1]);
    expect(s.get('reg')).toBeUndefined();
    const c = node(t, '/chosen');
    expect(c.getString('bootargs')).toBe(rk3588.defaultCmdline);
    expect(c.getCells('linux,initrd-start')).toEqual([0, 0x11000000]);
    expect(c.getCells('linux,initrd-end')).toEqual([0, 0x111c4800]);
    expect(c.get('rng-seed')).toEqual(SEED.slice(0, 32));
    expect(c.get('kaslr-seed')).toEqual(SEED.slice(32, 40));
    expect(node(tree(mvm!), '/chosen').get('linux,initrd-start')).toBeUndefined();
  });

  it('the seeds are the VM\'s own bytes; too few is a programming error', () => {
    const other = SEED.map((b) => b ^ 0xff);
    const t = Fdt.decode(vmDeviceTree(gvm1, rk3588, 3, { seed: other }).encode());
    expect(node(t, '/chosen').get('rng-seed')).toEqual(other.slice(0, 32));
    expect(() => vmDeviceTree(gvm1, rk3588, 3, { seed: new Uint8Array(32) })).toThrow(RangeError);
  });

  it('qemu-virt GICv2: GICD + GICC (GICV mapped there), PPI CPU masks for the VM\'s vCPUs, PL011 with its clock', () => {
    const [m, hvcG1] = defaultVmSet(virt, { gicVersion: 2 });
    const g1 = uartConsole(hvcG1!, virt);
    const t = tree(g1, virt, 2);
    const g = node(t, '/intc@8000000');
    expect(g.getStringList('compatible')).toEqual(['arm,cortex-a15-gic']);
    expect(g.getCells('reg')).toEqual([0, 0x8000000, 0, 0x10000, 0, 0x8010000, 0, 0x10000]);
    expect(g.get('interrupts')).toBeUndefined();
    expect(node(t, '/timer').getCells('interrupts')).toEqual([1, 13, 0x304, 1, 14, 0x304, 1, 11, 0x304, 1, 10, 0x304]);
    expect(node(tree(m!, virt, 2), '/timer').getCells('interrupts')![2]).toBe(0x104);
    expect(names(node(t, '/cpus'))).toEqual(['cpu@0', 'cpu@1']);
    const u = node(t, '/pl011@9000000');
    expect(u.getCells('interrupts')).toEqual([0, 1, 4]);
    const clk = node(t, '/apb-pclk');
    expect(u.getCells('clocks')).toEqual([clk.getU32('phandle'), clk.getU32('phandle')]);
    expect(u.getStringList('clock-names')).toEqual(['uartclk', 'apb_pclk']);
    expect(clk.getU32('clock-frequency')).toBe(24_000_000);
    expect(t.node('/aliases')).toBeUndefined(); // the PL011 is ttyAMA0 without one
    expect(node(t, '/shyper').getCells('interrupts')).toEqual([0, 64 - 32, 1]);
  });

  it('pi4: the BCM2711 PL011 keeps its primecell id; tx2: A57 vCPUs with Aff0 = vCPU', () => {
    const pi4 = boards.pi4!;
    const u = node(tree(uartConsole(defaultVmSet(pi4)[1]!, pi4), pi4, 2), '/pl011@fe201000');
    expect(u.getU32('arm,primecell-periphid')).toBe(0x00241011);
    expect(u.getCells('reg')).toEqual([0, 0xfe201000, 0, 0x200]);
    const tx2 = boards.tx2!;
    const cpus = node(tree(defaultVmSet(tx2)[1]!, tx2, 2), '/cpus');
    expect(cpus.children.map((c) => [c.name, c.getU32('reg'), c.getString('compatible')])).toEqual([
      ['cpu@0', 0, 'arm,cortex-a57'],
      ['cpu@1', 1, 'arm,cortex-a57'],
    ]);
  });

  it('virtio-mmio nodes for emulated virtio devices; a virtio console has no UART and no stdout-path', () => {
    const vm = structuredClone(defaultVmSet(virt)[1]!);
    vm.emulatedDevices = vm.emulatedDevices.filter((d) => d.type !== 'console');
    vm.emulatedDevices.push(
      { name: 'blk', type: 'virtio-blk', baseIpa: 0xa000000, length: 0x200, irq: 48, cfg: [] },
      { name: 'hvc', type: 'virtio-console', baseIpa: 0xa000200, length: 0x200, irq: 49, cfg: [] },
    );
    vm.console = { kind: 'virtio', device: 'hvc', ipa: 0xa000200, irq: 49 };
    vm.memory = [
      { ipa: 0x50000000, length: 64 * MiB, pa: 0 },
      { ipa: 0x40000000, length: 64 * MiB, pa: 0 },
    ];
    const t = tree(vm, virt);
    for (const [base, irq] of [[0xa000000, 48], [0xa000200, 49]]) {
      const v = node(t, `/virtio_mmio@${base!.toString(16)}`);
      expect(v.getString('compatible')).toBe('virtio,mmio');
      expect(v.getCells('reg')).toEqual([0, base, 0, 0x200]);
      expect(v.getCells('interrupts')).toEqual([0, irq! - 32, 4]);
      expect(v.get('dma-coherent')).toEqual(new Uint8Array(0));
    }
    expect(names(t.root).some((n) => n.startsWith('pl011'))).toBe(false);
    expect(node(t, '/chosen').get('stdout-path')).toBeUndefined();
    expect(node(t, '/memory@40000000').getCells('reg')).toEqual([0, 0x40000000, 0, 64 * MiB, 0, 0x50000000, 0, 64 * MiB]);
    if (DTC) expect(dtc(vmDeviceTree(vm, virt, 3, { seed: SEED }).encode()).warnings).toBe('');
  });
});

