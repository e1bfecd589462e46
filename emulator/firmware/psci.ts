// PSCI 1.0 firmware (ARM DEN 0022D) for native mode: answers the calls Linux makes over HVC or
// SMC when there is no hypervisor. In virtualized mode the hypervisor implements PSCI itself.
import type { Cpu } from '../arm64/cpu.ts';
import type { Firmware } from '../arm64/exceptions.ts';

import { PSCI, PSCI_RET } from './psci-abi.ts';

export { PSCI, PSCI_RET };

/** What PSCI needs from the machine: power control of the cores and of the system. */
export interface PowerController {
  /** Index of the CPU with this MPIDR affinity, or -1. */
  cpuIndexByMpidr(mpidr: number): number;
  isCpuOn(index: number): boolean;
  /** Start a powered-off CPU at `entry` in EL1, MMU off, with x0 = contextId. */
  cpuOn(index: number, entry: number, contextId: bigint): void;
  /** Power the calling CPU off (it stops executing until a CPU_ON). */
  cpuOff(cpu: Cpu): void;
  systemOff(): void;
  systemReset(): void;
}

const MPIDR_AFF_MASK = 0xff00ffffffn;

export class PsciFirmware implements Firmware {
  constructor(private readonly power: PowerController) {}

  smc(cpu: Cpu): void {
    this.call(cpu);
  }
  hvc(cpu: Cpu): void {
    this.call(cpu);
  }

  /** SMCCC: function ID in w0, arguments in x1..x3, result in x0. */
  call(cpu: Cpu): void {
    const fn = Number(cpu.getX(0) & 0xffffffffn);
    const ret = this.dispatch(cpu, fn);
    if (ret !== undefined) cpu.setX(0, BigInt(ret));
  }

  private dispatch(cpu: Cpu, fn: number): number | undefined {
    switch (fn) {
      case PSCI.VERSION:
        return 0x00010000; // 1.0
      case PSCI.MIGRATE_INFO_TYPE:
        return 2; // Trusted OS not present / migration not required
      case PSCI.FEATURES: {
        const q = Number(cpu.getX(1) & 0xffffffffn);
        const supported: number[] = [
          PSCI.VERSION, PSCI.CPU_OFF, PSCI.CPU_ON_32, PSCI.CPU_ON_64, PSCI.AFFINITY_INFO_32, PSCI.AFFINITY_INFO_64,
          PSCI.MIGRATE_INFO_TYPE, PSCI.SYSTEM_OFF, PSCI.SYSTEM_RESET, PSCI.FEATURES,
        ];
        return supported.includes(q) ? 0 : PSCI_RET.NOT_SUPPORTED;
      }
      case PSCI.CPU_ON_32:
      case PSCI.CPU_ON_64: {
        const target = cpu.getX(1) & MPIDR_AFF_MASK;
        let entry = cpu.getX(2);
        if (fn === PSCI.CPU_ON_32) entry &= 0xffffffffn;
        const idx = this.power.cpuIndexByMpidr(Number(target));
        if (idx < 0) return PSCI_RET.INVALID_PARAMETERS;
        if (this.power.isCpuOn(idx)) return PSCI_RET.ALREADY_ON;
        this.power.cpuOn(idx, Number(entry), cpu.getX(3));
        return PSCI_RET.SUCCESS;
      }
      case PSCI.CPU_OFF:
        this.power.cpuOff(cpu);
        return undefined;
      case PSCI.AFFINITY_INFO_32:
      case PSCI.AFFINITY_INFO_64: {
        const level = Number(cpu.getX(2) & 0xffffffffn);
        if (level !== 0) return PSCI_RET.INVALID_PARAMETERS;
        const idx = this.power.cpuIndexByMpidr(Number(cpu.getX(1) & MPIDR_AFF_MASK));
        if (idx < 0) return PSCI_RET.INVALID_PARAMETERS;
        return this.power.isCpuOn(idx) ? 0 : 1; // ON = 0, OFF = 1
      }
      case PSCI.SYSTEM_OFF:
        this.power.systemOff();
        return undefined;
      case PSCI.SYSTEM_RESET:
        this.power.systemReset();
        return undefined;
      case PSCI.CPU_SUSPEND_32:
      case PSCI.CPU_SUSPEND_64:
        // Standby-only suspend is a WFI; returning at once is a valid implementation.
        return PSCI_RET.SUCCESS;
      default:
        return PSCI_RET.NOT_SUPPORTED;
    }
  }
}
