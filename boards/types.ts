// A board is data: its memory map, CPUs, interrupt controller, timer, UARTs and defaults.
// emulator/machine.ts turns one into a running machine; emulator/fdt/board-tree.ts into the
// device tree Linux boots with. Sources for every address are in docs/boards.md.

export type CoreType = 'cortex-a76' | 'cortex-a55' | 'cortex-a72' | 'cortex-a57' | 'denver2';

export interface CpuSpec {
  core: CoreType;
  /** MIDR_EL1 of the real core (implementer, variant, part, revision). */
  midr: number;
  /** MPIDR affinity (Aff2.Aff1.Aff0) as in the device tree's cpu reg. */
  mpidr: number;
  /** MPIDR_EL1.MT as real silicon reports it (DynamIQ cores: 1). */
  mt: boolean;
  /**
   * The optional Cryptographic Extension (AES, PMULL, SHA1, SHA256) is built in; default true.
   * BCM2711 (Raspberry Pi 4) licenses its Cortex-A72s without it.
   */
  crypto?: boolean;
}

export interface GicSpec {
  /** Default version; `versions` lists the ones the board can have (qemu-virt: both). */
  version: 2 | 3;
  versions: (2 | 3)[];
  distBase: number;
  distSize: number;
  /** GICv3 redistributor region (one 128 KiB frame pair per CPU). */
  redistBase?: number;
  redistSize?: number;
  /** GICv2 CPU interface, hypervisor control (GICH) and virtual CPU interface (GICV). */
  cpuBase?: number;
  cpuSize?: number;
  gichBase?: number;
  gicvBase?: number;
  /** Describe GICH/GICV and the maintenance interrupt in the board's device tree. */
  virtInTree: boolean;
  /** Number of SPIs the distributor implements (multiple of 32). */
  spis: number;
  /** Device-tree compatible strings of the GIC node. */
  compatible: string[];
}

export interface UartSpec {
  kind: 'pl011' | 'dw-apb-uart' | 'ns16550a';
  base: number;
  size: number;
  /** SPI number as in the device tree (INTID - 32). */
  spi: number;
  clockHz: number;
  regShift: number;
  regIoWidth: number;
  compatible: string[];
  /** Device-tree alias (serial2 makes the 8250 driver call it ttyS2). */
  alias?: string;
  /**
   * arm,primecell-periphid for a PL011 whose register window is smaller than 4 KiB (the AMBA bus
   * would read the ID at size - 0x20, outside the ID registers): BCM2711 uses 0x00241011.
   */
  primecellPeriphId?: number;
}

export interface VirtioSpec {
  base: number;
  stride: number;
  count: number;
  /** SPI number of slot 0; slot n uses firstSpi + n. */
  firstSpi: number;
}

export interface BoardDescription {
  name: string;
  model: string;
  compatible: string[];
  memory: { base: number; defaultSize: number; maxSize: number };
  cpus: CpuSpec[];
  gic: GicSpec;
  timer: { freqHz: number; /** PPIs (INTID-16): secure phys, NS phys, virt, hyp. */ ppis: [number, number, number, number] };
  uarts: UartSpec[];
  virtio: VirtioSpec;
  psciMethod: 'hvc' | 'smc';
  defaultCmdline: string;
}

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

export const MIDR = {
  'cortex-a76': 0x414fd0b0, // r4p0
  'cortex-a55': 0x412fd050, // r2p0
  'cortex-a72': 0x410fd083, // r0p3
  'cortex-a57': 0x411fd073, // r1p3
  denver2: 0x4e0f0030,
} as const;
