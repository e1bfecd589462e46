// The devices of a board around its CPUs: the GIC (v2 or v3) with its MMIO frames and CPU
// interfaces, the generic-timer PPIs, and the console UART. machine.ts owns CPUs and time.
import type { BoardDescription, UartSpec } from '../boards/types.ts';
import type { Cpu } from './arm64/cpu.ts';
import type { Bus } from './bus/bus.ts';
import type { Console } from './devices/console.ts';
import type { GenericTimer } from './devices/generic-timer.ts';
import type { IrqLine } from './devices/irq.ts';
import { GicV2 } from './devices/gic/gicv2.ts';
import { GicV3 } from './devices/gic/gicv3.ts';
import type { GicCore } from './devices/gic/core.ts';
import type { VirtualCpuInterface } from './devices/gic/virtual.ts';
import { Pl011 } from './devices/pl011.ts';
import { DwApbUart } from './devices/dw-apb-uart.ts';
import { EmptyVirtioSlot } from './devices/virtio-mmio-empty.ts';
import type { VirtioDevice } from './devices/virtio/device.ts';
import { BusGuestMemory } from './devices/virtio/guest-memory.ts';
import { VirtioMmio } from './devices/virtio/mmio.ts';
import { HCR } from './arm64/sysstate.ts';

export interface PlatformHost {
  readonly bus: Bus;
  readonly smp: number;
}

export interface Platform {
  readonly gic: GicCore;
  /** The GIC's per-CPU virtual interfaces (list registers), for the hypervisor. */
  readonly gicVirtual: VirtualCpuInterface[];
  timerIrqs(cpu: number): { phys: IrqLine; virt: IrqLine; hyp: IrqLine };
  attachCpu(index: number, cpu: Cpu, timer: GenericTimer): void;
  /** Called before CPU `index` runs: banked GICv2 registers answer for it. */
  selectCpu(index: number): void;
  /** The virtio-mmio transport of each board slot that has a device (null: empty slot). */
  readonly virtio: (VirtioMmio | null)[];
}

export interface PlatformOptions {
  board: BoardDescription;
  gicVersion: 2 | 3;
  console: Console;
  /** Devices for the board's virtio-mmio slots, by slot number; the others stay empty. */
  virtio?: readonly (VirtioDevice | null | undefined)[];
  /** Where device error lines go. */
  log?: (line: string) => void;
}

export function attachPlatform(host: PlatformHost, o: PlatformOptions): Platform {
  const b = o.board;
  const mpidrs = b.cpus.slice(0, host.smp).map((c) => c.mpidr);
  const cfg = { nCpus: host.smp, spis: b.gic.spis, mpidrs };
  let core: GicCore;
  let v2: GicV2 | null = null;
  let v3: GicV3 | null = null;
  if (o.gicVersion === 3) {
    v3 = new GicV3(cfg);
    core = v3.core;
    host.bus.addMmio(b.gic.distBase, b.gic.distSize, v3.distributor);
    host.bus.addMmio(b.gic.redistBase!, Math.min(b.gic.redistSize!, host.smp * 0x20000), v3.redistributors);
  } else {
    v2 = new GicV2(cfg);
    core = v2.core;
    host.bus.addMmio(b.gic.distBase, b.gic.distSize, v2.distributor);
    host.bus.addMmio(b.gic.cpuBase!, b.gic.cpuSize!, v2.cpuInterface);
    // GICH and GICV frames (the hypervisor maps GICV into a guest in place of GICC).
    host.bus.addMmio(b.gic.gichBase!, 0x2000, v2.hypControl);
    host.bus.addMmio(b.gic.gicvBase!, 0x2000, v2.virtualCpuInterface);
  }
  const [, ns, virt, hyp] = b.timer.ppis;
  for (const u of b.uarts) attachUart(host, u, core, o.console);
  const virtio = attachVirtio(host, b, core, o);
  return {
    gic: core,
    gicVirtual: (v3 ?? v2)!.virt,
    timerIrqs: (cpu) => ({ phys: core.ppiLine(cpu, 16 + ns), virt: core.ppiLine(cpu, 16 + virt), hyp: core.ppiLine(cpu, 16 + hyp) }),
    attachCpu: (i, cpu, timer) => {
      cpu.timer = timer;
      cpu.sysregProviders.push(timer);
      if (v3) {
        cpu.sysregProviders.push(v3.sysregInterface(i, () => cpu.hypervisor !== null && cpu.el < 2 && (cpu.sys.hcr & HCR.IMO) !== 0));
        // ICH_*_EL2: reached only by EL2 software through the port (EL1 is refused op1=4).
        const virt = v3.virt[i]!;
        cpu.sysregProviders.push({ readSysreg: (e) => virt.ichRead(e), writeSysreg: (e, v) => virt.ichWrite(e, v) });
      }
      core.connectCpu(i, cpu.pins);
    },
    selectCpu: (i) => {
      if (v2) v2.currentCpu = i;
    },
    virtio,
  };
}

// Slot k sits at base + k * stride with SPI firstSpi + k, as the board's device tree says; its
// device reaches RAM through the bus (DMA keeps decoded code coherent).
function attachVirtio(host: PlatformHost, b: BoardDescription, gic: GicCore, o: PlatformOptions): (VirtioMmio | null)[] {
  const v = b.virtio;
  const devices = o.virtio ?? [];
  if (devices.length > v.count) throw new Error(`board ${b.name} has ${v.count} virtio-mmio slots, ${devices.length} asked for`);
  const memory = new BusGuestMemory(host.bus);
  const empty = new EmptyVirtioSlot();
  const out: (VirtioMmio | null)[] = [];
  for (let k = 0; k < v.count; k++) {
    const base = v.base + k * v.stride;
    const device = devices[k];
    if (!device) {
      host.bus.addMmio(base, v.stride, empty);
      out.push(null);
      continue;
    }
    const t = new VirtioMmio({ device, memory, irq: gic.spiLine(32 + v.firstSpi + k), name: `${device.name}@${base.toString(16)}`, log: o.log });
    host.bus.addMmio(base, v.stride, t);
    out.push(t);
  }
  return out;
}

function attachUart(host: PlatformHost, u: UartSpec, gic: GicCore, console: Console): void {
  const irq = gic.spiLine(32 + u.spi);
  if (u.kind === 'pl011') {
    host.bus.addMmio(u.base, Math.max(u.size, 0x1000), new Pl011({ console, irq, name: 'uart' }));
  } else {
    const dev = new DwApbUart({
      console,
      irq,
      regShift: u.regShift as 0 | 2,
      fifoDepth: u.kind === 'dw-apb-uart' ? 64 : 16,
      designware: u.kind === 'dw-apb-uart',
      name: 'uart',
    });
    host.bus.addMmio(u.base, Math.max(u.size, 0x100), dev);
  }
}
