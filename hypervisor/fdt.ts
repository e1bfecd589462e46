// Each VM's device tree, built from scratch from its config and the board, as Rust-Shyper's
// create_fdt_aarch64 (src/device/device_tree.rs) does for a GVM, but complete: every node a Linux
// guest needs to boot on what the hypervisor gives it, and nothing of the host it must not see.
//
//   /            compatible, model, #address-cells 2, #size-cells 2, interrupt-parent = the GIC
//   /psci        PSCI 1.0 over HVC (the hypervisor's psci handles it per VM)
//   /memory@     every region of the VM's IPA space
//   /cpus        one cpu per vCPU, reg = its virtual MPIDR affinity (VMPIDR_EL2), enable-method psci
//   /timer       the architected timer on the board's PPIs
//   /intc@       the VM's GIC: GICv3 = GICD + a GICR region of one frame pair per vCPU; GICv2 =
//                GICD + GICC (the hypervisor maps the physical GICV there). No maintenance
//                interrupt: virtualization is not the guest's.
//   /serial@ /pl011@  the console UART (passed through or emulated) and any other board UART the
//                VM owns or lists as a dtb device, with the board's compatible and clock
//   /virtio_mmio@  one per emulated virtio device, <SPI irq-32 level-high>
//   /shyper      the vm_service node (compatible "shyper", interrupt HVC_IRQ) for the MVM's module
//   /aliases     serialN as the board names its console UART (ttyS2 on rk3588)
//   /chosen      bootargs, stdout-path, linux,initrd-start/end, rng-seed, kaslr-seed
import type { BoardDescription, UartSpec } from '../boards/types.ts';
import { cells64, Fdt, type FdtNode, GIC_PPI, GIC_SPI, IRQ_TYPE_EDGE_RISING, IRQ_TYPE_LEVEL_HIGH } from '../emulator/fdt/fdt.ts';
import { GICR_FRAME_SIZE, VIRTIO_TYPES, type VmConfig } from './config.ts';

export interface VmTreeOptions {
  /** Where the hypervisor loaded the initramfs, in IPA: [start, end). */
  initrd?: { start: number; end: number };
  /** This VM's boot entropy, at least BOOT_SEED_BYTES: rng-seed then kaslr-seed. */
  seed: Uint8Array;
}

/** Bytes of /chosen/rng-seed, as QEMU's virt gives (hw/arm/virt.c create_randomness). */
export const RNG_SEED_BYTES = 32;
/** opts.seed: 32 bytes of rng-seed, then the 8 bytes of kaslr-seed (big-endian). */
export const BOOT_SEED_BYTES = RNG_SEED_BYTES + 8;

const hex = (n: number): string => n.toString(16);

export function vmDeviceTree(vm: VmConfig, board: BoardDescription, gicVersion: 2 | 3, opts: VmTreeOptions): Fdt {
  const fdt = new Fdt();
  const root = fdt.root;
  root.setCells('#address-cells', 2).setCells('#size-cells', 2);
  root.setStringList('compatible', ['shyper,vm', 'linux,dummy-virt']);
  root.setString('model', `Shyper VM ${vm.id} "${vm.name}" on ${board.model}`);

  root.addChild('psci').setStringList('compatible', ['arm,psci-1.0', 'arm,psci-0.2']).setString('method', 'hvc');

  const mem = [...vm.memory].sort((a, b) => a.ipa - b.ipa);
  root.addChild(`memory@${hex(mem[0]!.ipa)}`).setString('device_type', 'memory').setCells('reg', ...cells64(...mem.flatMap((m) => [m.ipa, m.length])));

  const cpus = root.addChild('cpus');
  cpus.setU32('#address-cells', 1).setU32('#size-cells', 0);
  vm.cpu.pcpus.forEach((p, i) => {
    const aff = vm.cpu.affinities[i]!;
    const core = board.cpus[p]!.core;
    cpus.addChild(`cpu@${hex(aff)}`).setString('device_type', 'cpu').setString('compatible', core === 'denver2' ? 'nvidia,tegra186-denver' : `arm,${core}`)
      .setU32('reg', aff).setString('enable-method', 'psci');
  });
  fdt.bootCpuidPhys = vm.cpu.affinities[0]!;

  // GICv2 PPI specifiers carry a mask of the CPUs the PPI goes to (arm,gic binding).
  const ppi = gicVersion === 2 ? (((1 << vm.cpu.num) - 1) << 8) | IRQ_TYPE_LEVEL_HIGH : IRQ_TYPE_LEVEL_HIGH;
  const [sec, ns, virt, hyp] = board.timer.ppis;
  root.addChild('timer').setStringList('compatible', ['arm,armv8-timer']).setEmpty('always-on')
    .setCells('interrupts', GIC_PPI, sec, ppi, GIC_PPI, ns, ppi, GIC_PPI, virt, ppi, GIC_PPI, hyp, ppi);

  const g = board.gic;
  const intc = root.addChild(`intc@${hex(g.distBase)}`);
  intc.setU32('#interrupt-cells', 3).setEmpty('interrupt-controller').setU32('#address-cells', 2).setU32('#size-cells', 2).setEmpty('ranges');
  if (gicVersion === 3) {
    intc.setStringList('compatible', ['arm,gic-v3']).setU32('#redistributor-regions', 1);
    intc.setCells('reg', ...cells64(g.distBase, g.distSize, g.redistBase!, vm.cpu.num * GICR_FRAME_SIZE));
  } else {
    intc.setStringList('compatible', g.compatible.length ? g.compatible : ['arm,cortex-a15-gic']);
    intc.setCells('reg', ...cells64(g.distBase, g.distSize, g.cpuBase!, g.cpuSize!));
  }
  root.setU32('interrupt-parent', fdt.phandle(intc));

  // UARTs: the console first, then board UARTs passed through, then serial dtb devices.
  const uarts: { ipa: number; irq: number; spec: UartSpec }[] = [];
  const addUart = (ipa: number, irq: number, spec: UartSpec): void => {
    if (!uarts.some((u) => u.ipa === ipa)) uarts.push({ ipa, irq, spec });
  };
  const con = vm.console;
  if (con?.uart) addUart(con.ipa, con.irq, con.uart);
  for (const d of vm.passthroughDevices) if (d.uart) addUart(d.baseIpa + (d.uart.base - d.basePa), 32 + d.uart.spi, d.uart);
  for (const d of vm.dtbDevices) {
    if (d.type === 'serial') addUart(d.ipa, d.irqs[0]!, board.uarts.find((u) => u.base === d.ipa) ?? board.uarts[0]!);
  }
  let clock: number | undefined;
  const aliases: [string, string][] = [];
  const uartPaths = uarts.map(({ ipa, irq, spec }) => {
    const name = spec.kind === 'pl011' ? `pl011@${hex(ipa)}` : `serial@${hex(ipa)}`;
    const n = root.addChild(name);
    n.setStringList('compatible', spec.compatible).setCells('reg', ...cells64(ipa, spec.size)).setCells('interrupts', GIC_SPI, irq - 32, IRQ_TYPE_LEVEL_HIGH);
    if (spec.kind === 'pl011') {
      clock ??= uartClock(fdt, root, spec.clockHz);
      n.setCells('clocks', clock, clock).setStringList('clock-names', ['uartclk', 'apb_pclk']);
      if (spec.primecellPeriphId !== undefined) n.setU32('arm,primecell-periphid', spec.primecellPeriphId);
    } else {
      n.setU32('clock-frequency', spec.clockHz).setU32('reg-shift', spec.regShift).setU32('reg-io-width', spec.regIoWidth);
    }
    if (spec.alias && !aliases.some(([a]) => a === spec.alias)) aliases.push([spec.alias, `/${name}`]);
    return `/${name}`;
  });

  for (const d of vm.emulatedDevices) {
    if (VIRTIO_TYPES.includes(d.type)) {
      root.addChild(`virtio_mmio@${hex(d.baseIpa)}`).setString('compatible', 'virtio,mmio').setCells('reg', ...cells64(d.baseIpa, d.length))
        .setCells('interrupts', GIC_SPI, d.irq - 32, IRQ_TYPE_LEVEL_HIGH).setEmpty('dma-coherent');
    } else if (d.type === 'shyper') {
      // Rust-Shyper create_shyper_node: an event line, a register window only when it has one.
      const n = root.addChild(d.length ? `shyper@${hex(d.baseIpa)}` : 'shyper');
      n.setString('compatible', 'shyper').setCells('interrupts', GIC_SPI, d.irq - 32, IRQ_TYPE_EDGE_RISING);
      if (d.length) n.setCells('reg', ...cells64(d.baseIpa, d.length));
    }
  }

  if (aliases.length) {
    const a = root.addChild('aliases');
    for (const [k, p] of aliases) a.setString(k, p);
  }
  const chosen = root.addChild('chosen');
  chosen.setString('bootargs', vm.cmdline);
  if (con?.uart) chosen.setString('stdout-path', uartPaths[0]!);
  if (opts.initrd) chosen.setU64('linux,initrd-start', BigInt(opts.initrd.start)).setU64('linux,initrd-end', BigInt(opts.initrd.end));
  writeBootSeeds(chosen, opts.seed);
  return fdt;
}

function uartClock(fdt: Fdt, root: FdtNode, hz: number): number {
  const clk = root.addChild('apb-pclk');
  clk.setString('compatible', 'fixed-clock').setU32('#clock-cells', 0).setU32('clock-frequency', hz).setString('clock-output-names', 'clk_uart');
  return fdt.phandle(clk);
}

/**
 * Firmware entropy in /chosen, as QEMU's virt gives it: `rng-seed` (mixed into the guest kernel's
 * pool at early boot, credited with CONFIG_RANDOM_TRUST_BOOTLOADER) and `kaslr-seed` (u64, arm64
 * KASLR). Each VM gets its own bytes; the same seed gives the same tree.
 */
export function writeBootSeeds(chosen: FdtNode, seed: Uint8Array): void {
  if (seed.length < BOOT_SEED_BYTES) throw new RangeError(`boot seed: ${seed.length} bytes, ${BOOT_SEED_BYTES} needed`);
  chosen.setBytes('rng-seed', seed.slice(0, RNG_SEED_BYTES));
  chosen.setBytes('kaslr-seed', seed.slice(RNG_SEED_BYTES, BOOT_SEED_BYTES));
}
