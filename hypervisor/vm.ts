// A virtual machine: its vCPUs (pinned), its guest-physical memory (stage 2), its emulated
// devices and virtual GIC, the physical interrupts it owns, and the images it (re)boots from.
import type { El2Cpu, El2Machine } from '../emulator/arm64/el2.ts';
import type { HypMemory } from './memory.ts';
import { Stage2, type Stage2Kind } from './stage2.ts';
import { Vcpu, virtualMpidr } from './vcpu.ts';
import { physicalMpidr } from './rt.ts';
import type { EmulatedRegion } from './mmio.ts';

export type VmKind = 'mvm' | 'gvm' | 'rtvm';
export type VmState = 'inactive' | 'pending' | 'active' | 'off';

/** The per-VM virtual GIC as the rest of the hypervisor uses it (hypervisor/vgic/). */
export interface VirtualGic {
  own(intid: number, hwPintid?: number): void;
  inject(intid: number, vcpuId?: number): void;
  setLevel(intid: number, level: boolean, vcpuId?: number): void;
  /** A physical interrupt owned by the VM arrived; false if it is not the VM's (then deactivate it). */
  injectHw(vcpuId: number, pintid: number): boolean;
  gicdAccess(vcpuId: number, offset: number, size: 1 | 2 | 4 | 8, isWrite: boolean, value?: bigint): bigint;
  gicrAccess(vcpuId: number, offset: number, size: 1 | 2 | 4 | 8, isWrite: boolean, value?: bigint): bigint;
  sgi1r(vcpuId: number, value: bigint): void;
  flush(vcpuId: number, cpu: El2Cpu): void;
  sync(vcpuId: number, cpu: El2Cpu): void;
  save(vcpuId: number, cpu: El2Cpu): void;
  restore(vcpuId: number, cpu: El2Cpu): void;
  maintenance(vcpuId: number, cpu: El2Cpu): void;
  pending(vcpuId: number): boolean;
}

export interface VmImage {
  data: Uint8Array;
  ipa: number;
}

/** Everything the hypervisor needs to build and boot one VM (src/ turns a VM config into it). */
export interface VmSetup {
  id: number;
  name: string;
  kind: VmKind;
  /** Bare-metal application (Rust-Shyper BMA): x0 = end of memory region 0 instead of the DTB. */
  bareMetal: boolean;
  /** vCPU i runs on physical CPU pcpus[i] (master first). */
  pcpus: number[];
  memory: { ipa: number; size: number }[];
  kernel: VmImage;
  entry: number;
  dtb?: VmImage;
  initrd?: VmImage;
  /** Physical device windows mapped into the VM (Device memory unless normal is set). */
  passthrough: { ipa: number; pa: number; size: number; normal?: boolean }[];
  /** Physical SPIs (INTIDs) owned by the VM, delivered to it as hardware interrupts. */
  irqs: number[];
  /** Emulated devices; `irq` lines they drive are given to the VM's vGIC. */
  devices: EmulatedDeviceSpec[];
  /** Virtual SPIs the hypervisor injects that no emulated region drives (the shyper device's HVC_IRQ). */
  virqs?: number[];
  /** RTVM with the interrupt controller passed through (hypervisor/rt.ts) instead of a vGIC. */
  gicPassthrough?: boolean;
}

/** The VM-side view an emulated device gets to raise its interrupt. */
export interface IrqSink {
  set(level: boolean): void;
  pulse(): void;
}

export interface EmulatedDeviceSpec {
  name: string;
  base: number;
  size: number;
  irq?: number;
  create(irq: IrqSink | null, vm: Vm): EmulatedRegion['handler'];
}

export class Vm {
  readonly vcpus: Vcpu[];
  readonly stage2: Stage2;
  /** Guest RAM: IPA ranges and the host physical memory behind them. */
  readonly ram: { ipa: number; pa: number; size: number }[] = [];
  /** Emulated regions, sorted by base. */
  readonly regions: EmulatedRegion[] = [];
  vgic!: VirtualGic;
  state: VmState = 'inactive';

  constructor(
    readonly setup: VmSetup,
    readonly machine: El2Machine,
    mem: HypMemory,
    makeContext: () => Vcpu['ctx'],
  ) {
    this.stage2 = new Stage2(mem, machine, setup.id + 1);
    const mt = machine.board.cpus[0]!.mt;
    // A passthrough RTVM talks to the physical GIC: its vCPUs are their cores, MPIDR included.
    const mpidr = (p: number, i: number): number => (setup.gicPassthrough ? physicalMpidr(machine, p) : virtualMpidr(mt, i));
    this.vcpus = setup.pcpus.map((p, i) => new Vcpu(this, i, p, mpidr(p, i), makeContext()));
  }

  get id(): number {
    return this.setup.id;
  }
  get name(): string {
    return this.setup.name;
  }

  /** Map guest RAM (allocated by the caller) and passthrough windows into stage 2. */
  mapMemory(ipa: number, pa: number, size: number): void {
    this.ram.push({ ipa, pa, size });
    this.stage2.map(ipa, pa, size, 'normal');
  }

  mapDevice(ipa: number, pa: number, size: number, kind: Stage2Kind = 'device'): void {
    this.stage2.map(ipa, pa, size, kind);
  }

  addRegion(r: EmulatedRegion): void {
    for (const o of this.regions) {
      if (r.base < o.base + o.size && o.base < r.base + r.size) throw new Error(`vm ${this.id}: emulated device ${r.name} overlaps ${o.name}`);
    }
    this.regions.push(r);
    this.regions.sort((a, b) => a.base - b.base);
  }

  /** The emulated region containing ipa, if any. */
  regionAt(ipa: number): EmulatedRegion | undefined {
    for (const r of this.regions) if (ipa >= r.base && ipa < r.base + r.size) return r;
    return undefined;
  }

  /** Host PA of a guest IPA in the VM's RAM, or -1 (hypercall arguments, device DMA). */
  ipaToPa(ipa: number, len = 1): number {
    for (const r of this.ram) if (ipa >= r.ipa && ipa + len <= r.ipa + r.size) return r.pa + (ipa - r.ipa);
    return -1;
  }

  /** Copy bytes into guest RAM; false if any byte falls outside it. */
  writeGuest(ipa: number, data: Uint8Array): boolean {
    const pa = this.ipaToPa(ipa, data.length);
    if (pa < 0) return false;
    this.machine.writePhys(pa, data);
    return true;
  }

  readGuest(ipa: number, out: Uint8Array): boolean {
    const pa = this.ipaToPa(ipa, out.length);
    if (pa < 0) return false;
    this.machine.readPhys(pa, out);
    return true;
  }
}
