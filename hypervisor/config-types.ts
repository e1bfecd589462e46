// The typed VM configuration the hypervisor builds VMs from (hypervisor/config.ts reads and checks
// it), its constants, and ConfigError.
import type { BoardDescription, UartSpec } from '../boards/types.ts';

/** A user error in a VM config; the CLI prints the message and exits 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** Rust-Shyper's VM_NUM_MAX. */
export const VM_NUM_MAX = 8;
/** RAM at the bottom of the board's memory that the hypervisor keeps (stage-2 tables, VM state). */
export const HYPERVISOR_RESERVED = 16 * MiB;
/** Each VM's IPA space (39 bits, a 3-level stage-2 walk from level 1). */
export const IPA_LIMIT = 2 ** 39;
/** One GICv3 redistributor (RD_base + SGI_base frames) per vCPU. */
export const GICR_FRAME_SIZE = 0x20000;
/** Room the generated device tree gets at device_tree_load_ipa. */
export const DTB_MAX_SIZE = 0x10000;

export type VmKind = 'mvm' | 'gvm' | 'rtvm';
export type VmOsType = 'linux' | 'bma' | 'freertos';

/** Emulated device kinds shyper-emu models (Rust-Shyper's EmuDeviceType). */
export type EmuDeviceType =
  | 'console'
  | 'gicd'
  | 'gppt'
  | 'virtio-blk'
  | 'virtio-net'
  | 'virtio-console'
  | 'shyper'
  | 'virtio-blk-mediated'
  | 'gicr';

/** JSON name → our kind and Rust-Shyper's EmuDeviceType value (what HVC_CONFIG_EMULATED_DEVICE passes). */
export const EMU_DEVICE_TYPES: Readonly<Record<string, { type: EmuDeviceType; value: number } | { unsupported: string; value: number }>> = {
  EMU_DEVICE_T_CONSOLE: { type: 'console', value: 0 },
  EMU_DEVICE_T_GICD: { type: 'gicd', value: 1 },
  EMU_DEVICE_T_GPPT: { type: 'gppt', value: 2 },
  EMU_DEVICE_T_VIRTIO_BLK: { type: 'virtio-blk', value: 3 },
  EMU_DEVICE_T_VIRTIO_NET: { type: 'virtio-net', value: 4 },
  EMU_DEVICE_T_VIRTIO_CONSOLE: { type: 'virtio-console', value: 5 },
  EMU_DEVICE_T_SHYPER: { type: 'shyper', value: 6 },
  EMU_DEVICE_T_VIRTIO_BLK_MEDIATED: { type: 'virtio-blk-mediated', value: 7 },
  EMU_DEVICE_T_IOMMU: { unsupported: 'shyper-emu models no IOMMU', value: 8 },
  EMU_DEVICE_T_SRE: { unsupported: 'ICC_SRE_EL1 is handled by the vGIC itself', value: 9 },
  EMU_DEVICE_T_SGIR: { unsupported: 'ICC_SGI1R_EL1 is handled by the vGIC itself', value: 10 },
  EMU_DEVICE_T_GICR: { type: 'gicr', value: 11 },
  EMU_DEVICE_T_META: { unsupported: 'board meta devices (RK3588 CRU) are not modelled', value: 12 },
  EMU_DEVICE_T_PLIC: { unsupported: 'the PLIC is RISC-V only', value: 13 },
  EMU_DEVICE_T_APLIC: { unsupported: 'the APLIC is RISC-V only', value: 14 },
};

export const VIRTIO_TYPES: readonly EmuDeviceType[] = ['virtio-blk', 'virtio-net', 'virtio-console', 'virtio-blk-mediated'];

export interface MemoryRegion {
  ipa: number;
  length: number;
  /** Host physical address backing it (first fit above the hypervisor's reserve). */
  pa: number;
}

export interface EmulatedDevice {
  name: string;
  type: EmuDeviceType;
  baseIpa: number;
  length: number;
  /** INTID (32 + SPI); 0 = none. */
  irq: number;
  cfg: number[];
  /** Added by the config loader (the implicit vGIC), not written in the file. */
  implicit?: boolean;
  /** virtio-blk: the disk image (absolute path), the window of it the VM sees, read-only. */
  disk?: { image: string; startSector: number; sectors: number | undefined; readOnly: boolean };
  /** virtio-net: the NIC's MAC address (cfg_list, or derived from the VM id). */
  mac?: number[];
  /** virtio-console in peer mode (cfg_list [vm, ipa]): the console it is joined to. */
  peer?: { vm: number; ipa: number };
}

export interface PassthroughDevice {
  name: string;
  basePa: number;
  baseIpa: number;
  length: number;
  /** Physical INTIDs routed to this VM. */
  irqs: number[];
  smmuId?: number;
  /** The board UART at basePa, when it is one. */
  uart?: UartSpec;
}

export interface DtbDevice {
  name: string;
  type: 'serial' | 'gicd' | 'gicc' | 'gicr';
  irqs: number[];
  ipa: number;
  length: number;
}

export interface VmImage {
  /** Absolute paths. */
  kernelFile: string;
  kernelLoadIpa: number;
  entryPoint: number;
  /** A DTB to use instead of the generated tree. */
  dtbFile?: string;
  dtbLoadIpa: number;
  ramdiskFile?: string;
  ramdiskLoadIpa?: number;
}

export interface VmCpu {
  /** vCPU count after normalisation. */
  num: number;
  /** Physical cores, bit n = board cpus[n] (lowest `num` set bits kept). */
  bitmap: number;
  master?: number;
  /** vCPU i runs on pcpus[i]: master first, then the other cores ascending (Rust-Shyper Vm::new). */
  pcpus: number[];
  /** vCPU i's MPIDR affinity (device tree cpu reg, PSCI CPU_ON target); VMPIDR_EL2 is vmpidr(). */
  affinities: number[];
  shared: boolean;
}

export interface VmConsole {
  /** passthrough: a board UART mapped into the VM; emulated: a UART the hypervisor emulates; virtio: hvc0. */
  kind: 'passthrough' | 'emulated' | 'virtio';
  /** The device's name in the config. */
  device: string;
  ipa: number;
  /** INTID the VM sees. */
  irq: number;
  /** UART model and device-tree properties (passthrough and emulated). */
  uart?: UartSpec;
}

export interface VmConfig {
  id: number;
  name: string;
  kind: VmKind;
  osType: VmOsType;
  cmdline: string;
  image: VmImage;
  memory: MemoryRegion[];
  cpu: VmCpu;
  emulatedDevices: EmulatedDevice[];
  passthroughDevices: PassthroughDevice[];
  dtbDevices: DtbDevice[];
  console?: VmConsole;
  /** RTVM interrupt mode: the physical GIC interface is the VM's. */
  gicPassthrough: boolean;
}

export interface VmConfigOptions {
  /** RAM the machine has (--mem); default the board's. */
  ramSize?: number;
  /** GIC version in use (--gic); default the board's. */
  gicVersion?: 2 | 3;
  /** Physical cores the machine has; default all of the board's. */
  cpus?: number;
  /** Directory image file names are relative to; default the config file's. */
  imageDir?: string;
  /** Label for the file in messages; default the path as given. */
  label?: string;
  /** Non-fatal findings (normalised values, ignored keys). */
  onWarning?: (message: string) => void;
}

/** VMPIDR_EL2 of vCPU i (Rust-Shyper vcpu.rs): bit 31 RES1; DynamIQ boards (MT=1) put i in Aff1. */
export function vmpidr(board: BoardDescription, i: number): number {
  return 0x8000_0000 + (board.cpus[0]!.mt ? 0x0100_0000 + i * 0x100 : i);
}

/** vCPU i's affinity as the device tree and PSCI CPU_ON name it (Aff fields only). */
export function vcpuAffinity(board: BoardDescription, i: number): number {
  return board.cpus[0]!.mt ? i << 8 : i;
}

