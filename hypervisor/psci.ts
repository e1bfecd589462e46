// PSCI for guests (ARM DEN 0022D), per VM, as Rust-Shyper's src/arch/aarch64/psci.rs and better:
// CPU_ON names a vCPU of the calling VM by its virtual MPIDR, SYSTEM_OFF and SYSTEM_RESET act on
// the calling VM only, and the VM's own vCPUs are all AFFINITY_INFO can see.
import type { El2Cpu } from '../emulator/arm64/el2.ts';
import type { Vcpu } from './vcpu.ts';
import { PSCI, PSCI_RET } from '../emulator/firmware/psci-abi.ts';

const { SUCCESS, NOT_SUPPORTED, INVALID_PARAMETERS, ALREADY_ON } = PSCI_RET;

/** What PSCI asks of the hypervisor. */
export interface PsciHost {
  cpuOn(target: Vcpu, entry: number, contextId: bigint): void;
  cpuOff(v: Vcpu): void;
  /** CPU_SUSPEND (standby): sleep like WFI until an interrupt. */
  suspend(v: Vcpu): void;
  systemOff(v: Vcpu): void;
  systemReset(v: Vcpu): void;
}

/** Is x0 a PSCI / SMCCC function id (as opposed to a Shyper hypercall)? */
export function isPsciCall(fn: number): boolean {
  return (fn >>> 0 >= 0x84000000 && fn >>> 0 <= 0x8400001f) || (fn >>> 0 >= 0xc4000000 && fn >>> 0 <= 0xc400001f) || fn >>> 0 === PSCI.SMCCC_VERSION;
}

/** Handle the call in x0..x3; the result goes to x0 (unless the vCPU stopped). */
export function psciCall(cpu: El2Cpu, v: Vcpu, host: PsciHost): void {
  const fn = Number(cpu.x(0) & 0xffffffffn) >>> 0;
  const r = dispatch(cpu, v, host, fn);
  if (r !== undefined) cpu.setX(0, BigInt.asUintN(64, BigInt(r)));
}

/** The vCPU of `v`'s VM whose MPIDR has the affinity fields (Aff3..Aff0) of `mpidr`. */
function vcpuByMpidr(v: Vcpu, mpidr: bigint): Vcpu | undefined {
  const aff = (m: number): number => (m & 0xffffff) + Math.floor(m / 2 ** 32) * 2 ** 24;
  const want = aff(Number(mpidr & 0xff00ffffffn));
  return v.vm.vcpus.find((c) => aff(c.vmpidr) === want);
}

function dispatch(cpu: El2Cpu, v: Vcpu, host: PsciHost, fn: number): number | undefined {
  switch (fn) {
    case PSCI.VERSION:
      return 0x00010000;
    case PSCI.MIGRATE_INFO_TYPE:
      return 2; // no Trusted OS to migrate
    case PSCI.FEATURES: {
      const q = Number(cpu.x(1) & 0xffffffffn) >>> 0;
      const supported: number[] = [
        PSCI.VERSION, PSCI.CPU_SUSPEND_32, PSCI.CPU_SUSPEND_64, PSCI.CPU_OFF, PSCI.CPU_ON_32, PSCI.CPU_ON_64,
        PSCI.AFFINITY_INFO_32, PSCI.AFFINITY_INFO_64, PSCI.MIGRATE_INFO_TYPE, PSCI.SYSTEM_OFF, PSCI.SYSTEM_RESET, PSCI.FEATURES,
      ];
      return supported.includes(q) ? SUCCESS : NOT_SUPPORTED;
    }
    case PSCI.CPU_ON_32:
    case PSCI.CPU_ON_64: {
      const target = vcpuByMpidr(v, cpu.x(1));
      if (target === undefined) return INVALID_PARAMETERS;
      if (target.state !== 'off') return ALREADY_ON;
      let entry = cpu.x(2);
      if (fn === PSCI.CPU_ON_32) entry &= 0xffffffffn;
      host.cpuOn(target, Number(entry), cpu.x(3));
      return SUCCESS;
    }
    case PSCI.CPU_OFF:
      host.cpuOff(v);
      return undefined;
    case PSCI.AFFINITY_INFO_32:
    case PSCI.AFFINITY_INFO_64: {
      if ((cpu.x(2) & 0xffffffffn) !== 0n) return INVALID_PARAMETERS;
      const target = vcpuByMpidr(v, cpu.x(1));
      if (target === undefined) return INVALID_PARAMETERS;
      return target.state === 'off' ? 1 : 0;
    }
    case PSCI.CPU_SUSPEND_32:
    case PSCI.CPU_SUSPEND_64:
      host.suspend(v);
      return SUCCESS;
    case PSCI.SYSTEM_OFF:
      host.systemOff(v);
      return undefined;
    case PSCI.SYSTEM_RESET:
      host.systemReset(v);
      return undefined;
    default:
      return NOT_SUPPORTED;
  }
}
