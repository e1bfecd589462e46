// A virtual CPU: its saved EL1 context (world switch through the EL2 port), the physical CPU it
// is pinned to for life (Rust-Shyper binds vCPU i to the i-th CPU of its VM's list), its virtual
// MPIDR, and its scheduling state.
import type { El1Context } from '../emulator/arm64/el2.ts';
import type { VirtualGic, Vm } from './vm.ts';

/** off: not started or CPU_OFF; ready: runnable; sleeping: in WFI with nothing pending. */
export type VcpuState = 'off' | 'ready' | 'sleeping';

export class Vcpu {
  state: VcpuState = 'off';
  /** Entry point and context id of a pending PSCI CPU_ON (applied on the vCPU's own pCPU). */
  pendingOn: { entry: number; contextId: bigint } | null = null;
  /**
   * While the vCPU is not loaded: the physical count at which its virtual timer fires (it was
   * enabled and unmasked when the vCPU was switched out), else null. Its timer is not in the
   * hardware then, so the hypervisor wakes it from WFI at that time (KVM's background timer).
   */
  timerDeadline: bigint | null = null;
  /**
   * The VM was reset (fresh vGIC) while this vCPU was loaded on its pCPU: the old vGIC, which
   * still has to empty the list registers it filled there before anything else runs there.
   */
  retiredVgic: VirtualGic | null = null;
  /**
   * Requests this vCPU waits for in the guest's stead (a synchronous mediated disk request,
   * hypervisor/devices/mediated-blk.ts): while nonzero it is not run, whatever is pending for it.
   */
  ioWait = 0;

  constructor(
    readonly vm: Vm,
    /** Index within the VM (vCPU 0 boots the VM). */
    readonly id: number,
    readonly pcpu: number,
    /** VMPIDR_EL2: what MPIDR_EL1 reads in the guest. */
    readonly vmpidr: number,
    readonly ctx: El1Context,
  ) {}

  get runnable(): boolean {
    return this.state === 'ready' && this.ioWait === 0;
  }

  toString(): string {
    return `vm${this.vm.id}.vcpu${this.id}`;
  }
}

/**
 * The virtual MPIDR of vCPU `id` (Rust-Shyper: 1<<31 | on rk3588 0x0100_0000 | id<<8, else id):
 * boards whose cores report MT (DynamIQ) number CPUs in Aff1, the others in Aff0.
 */
export function virtualMpidr(mtBoard: boolean, id: number): number {
  return mtBoard ? 0x8100_0000 + id * 0x100 : 0x8000_0000 + id;
}

/** The vCPU index an MPIDR names (PSCI CPU_ON, AFFINITY_INFO), or -1. */
export function vcpuIndexOfMpidr(mtBoard: boolean, mpidr: number): number {
  const aff = mpidr & 0xffffff;
  if (mtBoard) return (aff & 0xff) === 0 && aff >>> 16 === 0 ? (aff >>> 8) & 0xff : -1;
  return aff >>> 8 === 0 ? aff & 0xff : -1;
}
