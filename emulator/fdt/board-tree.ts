// The device tree of a board, as its firmware would hand it to Linux: CPUs with PSCI, memory,
// the GIC, the architected timer, UARTs, virtio-mmio slots, /chosen (with boot seeds) and /aliases.
// For qemu-virt it follows QEMU 7.2's own tree (hw/arm/virt.c) node for node, minus the
// devices this emulator does not model: fw-cfg, flash, pl061 GPIO + gpio-keys, pl031 RTC,
// PCIe host, platform bus, the GICv3 ITS / GICv2m MSI frames and the PMU (we report no PMU).
import type { BoardDescription } from '../../boards/types.ts';
import { Fdt, type FdtNode } from './fdt.ts';
import { DEFAULT_SEED, Rng } from '../rng.ts';

export interface BoardTreeOptions {
  smp: number;
  memBytes: number;
  gic: 2 | 3;
  /** Where /chosen's rng-seed and kaslr-seed come from; default: new Rng(DEFAULT_SEED, 'chosen'). */
  rng?: Rng;
}

/** Bytes of /chosen/rng-seed: what QEMU's virt gives (hw/arm/virt.c create_randomness). */
export const RNG_SEED_BYTES = 32;

/**
 * Firmware-provided entropy in /chosen, as QEMU's virt (and U-Boot) hand it to Linux:
 * `rng-seed` (32 bytes, mixed into the kernel's input pool at early boot and credited when
 * CONFIG_RANDOM_TRUST_BOOTLOADER=y, so the CRNG is ready before /init) and `kaslr-seed` (u64,
 * read by arm64's KASLR). Linux drops rng-seed from its copy of the tree once read (KASLR, when
 * built in, zeroes kaslr-seed). The hypervisor calls this for every VM's tree, each VM with its
 * own stream.
 */
export function addBootSeeds(fdt: Fdt, rng: Rng): void {
  const chosen = fdt.ensureNode('/chosen');
  chosen.setBytes('rng-seed', rng.bytes(RNG_SEED_BYTES)); // QEMU's order: rng-seed, kaslr-seed
  chosen.setU64('kaslr-seed', rng.nextU64());
}

const GIC_SPI = 0;
const GIC_PPI = 1;
const IRQ_EDGE_RISING = 1;
const IRQ_LEVEL_HIGH = 4;
const hex = (n: number): string => n.toString(16);
const hi = (n: number): number => Math.floor(n / 2 ** 32);
const lo = (n: number): number => n >>> 0;
const reg = (...pairs: number[]): number[] => pairs.flatMap((v) => [hi(v), lo(v)]);

export function boardTree(b: BoardDescription, o: BoardTreeOptions): Fdt {
  const fdt = new Fdt();
  const root = fdt.root;
  root.setCells('#address-cells', 2).setCells('#size-cells', 2);
  root.setStringList('compatible', b.compatible).setString('model', b.model);

  const psci = root.addChild('psci');
  psci.setStringList('compatible', ['arm,psci-1.0', 'arm,psci-0.2', 'arm,psci']).setString('method', b.psciMethod);
  psci.setU32('cpu_suspend', 0xc4000001).setU32('cpu_off', 0x84000002).setU32('cpu_on', 0xc4000003).setU32('migrate', 0xc4000005);

  root.addChild(`memory@${hex(b.memory.base)}`).setString('device_type', 'memory').setCells('reg', ...reg(b.memory.base, o.memBytes));

  const intc = gicNode(fdt, root, b, o);
  root.setU32('interrupt-parent', fdt.phandle(intc));

  const clk = root.addChild('apb-pclk');
  clk.setString('compatible', 'fixed-clock').setU32('#clock-cells', 0).setU32('clock-frequency', 24_000_000);
  clk.setString('clock-output-names', 'clk24mhz');
  const clkPh = fdt.phandle(clk);

  const aliases: [string, string][] = [];
  let stdout = '';
  for (const u of b.uarts) {
    const name = u.kind === 'pl011' ? `pl011@${hex(u.base)}` : `serial@${hex(u.base)}`;
    const n = root.addChild(name);
    n.setStringList('compatible', u.compatible).setCells('reg', ...reg(u.base, u.size));
    n.setCells('interrupts', GIC_SPI, u.spi, IRQ_LEVEL_HIGH);
    if (u.kind === 'pl011') {
      n.setCells('clocks', clkPh, clkPh).setStringList('clock-names', ['uartclk', 'apb_pclk']);
      if (u.primecellPeriphId !== undefined) n.setU32('arm,primecell-periphid', u.primecellPeriphId);
    } else {
      n.setU32('clock-frequency', u.clockHz).setU32('reg-shift', u.regShift).setU32('reg-io-width', u.regIoWidth);
    }
    if (u.alias) aliases.push([u.alias, `/${name}`]);
    if (!stdout) stdout = `/${name}`;
  }

  const cpus = root.addChild('cpus');
  cpus.setU32('#address-cells', 1).setU32('#size-cells', 0);
  const cpuNodes: FdtNode[] = [];
  for (let i = 0; i < o.smp; i++) {
    const c = b.cpus[i]!;
    const n = cpus.addChild(`cpu@${hex(c.mpidr)}`);
    n.setString('device_type', 'cpu').setString('compatible', c.core === 'denver2' ? 'nvidia,tegra186-denver' : `arm,${c.core}`);
    n.setString('enable-method', 'psci').setU32('reg', c.mpidr);
    cpuNodes.push(n);
  }
  const map = cpus.addChild('cpu-map').addChild('socket0');
  const clusters = new Map<number, FdtNode>();
  cpuNodes.forEach((n, i) => {
    const c = b.cpus[i]!;
    // DynamIQ (MT=1) puts every core in one cluster; otherwise Aff1 is the cluster.
    const cl = c.mt ? 0 : (c.mpidr >> 8) & 0xff;
    let cn = clusters.get(cl);
    if (!cn) clusters.set(cl, (cn = map.addChild(`cluster${cl}`)));
    cn.addChild(`core${cn.children.length}`).setU32('cpu', fdt.phandle(n));
  });

  const [sec, ns, virt, hyp] = b.timer.ppis;
  const ppi = ppiFlags(o);
  root.addChild('timer').setStringList('compatible', ['arm,armv8-timer', 'arm,armv7-timer']).setEmpty('always-on')
    .setCells('interrupts', GIC_PPI, sec, ppi, GIC_PPI, ns, ppi, GIC_PPI, virt, ppi, GIC_PPI, hyp, ppi);

  const v = b.virtio;
  for (let k = 0; k < v.count; k++) {
    const base = v.base + k * v.stride;
    root.addChild(`virtio_mmio@${hex(base)}`).setString('compatible', 'virtio,mmio').setCells('reg', ...reg(base, v.stride))
      .setCells('interrupts', GIC_SPI, v.firstSpi + k, IRQ_EDGE_RISING).setEmpty('dma-coherent');
  }

  if (aliases.length) {
    const a = root.addChild('aliases');
    for (const [k, p] of aliases) a.setString(k, p);
  }
  root.addChild('chosen').setString('stdout-path', stdout);
  addBootSeeds(fdt, o.rng ?? new Rng(DEFAULT_SEED, 'chosen'));
  return fdt;
}

/** PPI flags: level-high, plus for GICv2 the CPU mask in bits [15:8] (arm,gic binding). */
function ppiFlags(o: BoardTreeOptions): number {
  return o.gic === 2 ? (((1 << o.smp) - 1) << 8) | IRQ_LEVEL_HIGH : IRQ_LEVEL_HIGH;
}

function gicNode(fdt: Fdt, root: FdtNode, b: BoardDescription, o: BoardTreeOptions): FdtNode {
  const g = b.gic;
  const n = root.addChild(`intc@${hex(g.distBase)}`);
  n.setU32('#interrupt-cells', 3).setEmpty('interrupt-controller').setU32('#address-cells', 2).setU32('#size-cells', 2).setEmpty('ranges');
  if (o.gic === 3) {
    n.setStringList('compatible', ['arm,gic-v3']).setU32('#redistributor-regions', 1);
    n.setCells('reg', ...reg(g.distBase, g.distSize, g.redistBase!, g.redistSize!));
    if (g.virtInTree) n.setCells('interrupts', GIC_PPI, 9, IRQ_LEVEL_HIGH);
  } else {
    n.setStringList('compatible', g.compatible.length ? g.compatible : ['arm,cortex-a15-gic']);
    const regs = [g.distBase, g.distSize, g.cpuBase!, g.cpuSize!];
    if (g.virtInTree) regs.push(g.gichBase!, 0x2000, g.gicvBase!, 0x2000);
    n.setCells('reg', ...reg(...regs));
    if (g.virtInTree) n.setCells('interrupts', GIC_PPI, 9, ppiFlags(o));
  }
  fdt.phandle(n);
  return n;
}
