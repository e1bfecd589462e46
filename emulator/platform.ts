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
}

export function attachPlatform(host: PlatformHost, o: { board: BoardDescription; gicVersion: 2 | 3; console: Console }): Platform {
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
  const empty = new EmptyVirtioSlot();
  for (let k = 0; k < b.virtio.count; k++) host.bus.addMmio(b.virtio.base + k * b.virtio.stride, b.virtio.stride, empty);
  return {
    gic: core,
    gicVirtual: (v3 ?? v2)!.virt,
    timerIrqs: (cpu) => ({ phys: core.ppiLine(cpu, 16 + ns), virt: core.ppiLine(cpu, 16 + virt), hyp: core.ppiLine(cpu, 16 + hyp) }),
    attachCpu: (i, cpu, timer) => {
      cpu.timer = timer;
      cpu.sysregProviders.push(timer);
      if (v3) cpu.sysregProviders.push(v3.sysregInterface(i, () => cpu.hypervisor !== null && cpu.el < 2 && (cpu.sys.hcr & HCR.IMO) !== 0));
      core.connectCpu(i, cpu.pins);
    },
    selectCpu: (i) => {
      if (v2) v2.currentCpu = i;
    },
  };
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
