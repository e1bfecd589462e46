// Synchronous exceptions from a guest, dispatched on ESR_EL2.EC (ARM ARM D17.2.40) as Rust-Shyper's
// exception_aarch64_synchronous does: HVC and trapped SMC (PSCI, hypercalls), data aborts from a
// lower EL (emulated MMIO from the instruction syndrome; anything else is the guest's own fault,
// injected back into it), trapped system registers (ICC_SGI1R_EL1), WFI/WFE.
import { ESR_EC, type El2Cpu } from '../emulator/arm64/el2.ts';
import type { Vcpu } from './vcpu.ts';
import { decodeDataAbort, emulateAccess, faultIpa } from './mmio.ts';
import { isPsciCall, psciCall, type PsciHost } from './psci.ts';
import { injectAbort } from './inject.ts';
import { COST } from './cost.ts';

/** What trap handling asks of the rest of the hypervisor. */
export interface TrapHost extends PsciHost {
  /** WFI: the vCPU sleeps unless an interrupt is pending for it. */
  wfi(v: Vcpu): void;
  /** WFE: give way to another runnable vCPU of this pCPU, if any. */
  wfe(v: Vcpu): void;
  /** A Shyper hypercall (x7 = fid << 8 | event); returns x0. */
  hypercall(cpu: El2Cpu, v: Vcpu): bigint;
  /** One line for the user, once per distinct key, within a budget per VM (vmId). */
  logOnce(key: string, line: string, vmId?: number): void;
}

const ALL_ONES = (1n << 64n) - 1n;

// Trapped system registers (ISS of EC 0x18: Op0 [21:20], Op2 [19:17], Op1 [16:14], CRn [13:10],
// Rt [9:5], CRm [4:1], Direction [0]).
const sysregKey = (op0: number, op1: number, crn: number, crm: number, op2: number): number => (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
const ICC_SGI1R = sysregKey(3, 0, 12, 11, 5);
const ICC_ASGI1R = sysregKey(3, 0, 12, 11, 6);
const ICC_SGI0R = sysregKey(3, 0, 12, 11, 7);

export function handleSync(cpu: El2Cpu, v: Vcpu, host: TrapHost): void {
  const ec = cpu.esr >>> 26;
  switch (ec) {
    case ESR_EC.HVC64:
      cpu.chargeCycles(COST.hvc);
      // ELR_EL2 already points past the HVC.
      if (isPsciCall(Number(cpu.x(0) & 0xffffffffn))) psciCall(cpu, v, host);
      else cpu.setX(0, host.hypercall(cpu, v));
      return;
    case ESR_EC.SMC64:
      // A trapped SMC (HCR_EL2.TSC) returns to the SMC itself: step over it.
      cpu.chargeCycles(COST.hvc);
      cpu.advancePc();
      if (isPsciCall(Number(cpu.x(0) & 0xffffffffn))) psciCall(cpu, v, host);
      else cpu.setX(0, ALL_ONES); // SMCCC NOT_SUPPORTED: guests reach no firmware but ours
      return;
    case ESR_EC.DABT_LOWER:
      return dataAbort(cpu, v, host);
    case ESR_EC.IABT_LOWER: {
      const ipa = faultIpa(cpu);
      host.logOnce(`iabt:${v.vm.id}:${ipa}`, `vm${v.vm.id}: instruction fetch from unmapped IPA 0x${ipa.toString(16)} (pc 0x${cpu.elr.toString(16)}): abort injected`, v.vm.id);
      injectAbort(cpu, true, cpu.far);
      return;
    }
    case ESR_EC.SYSREG:
      cpu.chargeCycles(COST.sysregTrap);
      return sysreg(cpu, v, host);
    case ESR_EC.WFX:
      cpu.chargeCycles(COST.wfi);
      cpu.advancePc();
      if ((cpu.esr & 1) === 0) host.wfi(v);
      else host.wfe(v);
      return;
    default:
      host.logOnce(`ec:${v.vm.id}:${ec}`, `vm${v.vm.id}: unexpected trap EC 0x${ec.toString(16)} at pc 0x${cpu.elr.toString(16)}: UNDEFINED injected`, v.vm.id);
      injectUndefined(cpu);
  }
}

function dataAbort(cpu: El2Cpu, v: Vcpu, host: TrapHost): void {
  const ipa = faultIpa(cpu);
  const region = v.vm.regionAt(ipa);
  const access = decodeDataAbort(cpu);
  if (region !== undefined && access !== null) return emulateAccess(cpu, access, region, v.id);
  const what = region !== undefined ? `an access without instruction syndrome to ${region.name}` : `an access to unmapped IPA 0x${ipa.toString(16)}`;
  host.logOnce(`dabt:${v.vm.id}:${Math.floor(ipa / 4096)}`, `vm${v.vm.id}: ${what} (pc 0x${cpu.elr.toString(16)}): data abort injected`, v.vm.id);
  injectAbort(cpu, false, cpu.far);
}

function sysreg(cpu: El2Cpu, v: Vcpu, host: TrapHost): void {
  const iss = cpu.esr & 0x1ffffff;
  const isRead = (iss & 1) !== 0;
  const rt = (iss >>> 5) & 31;
  const key = sysregKey((iss >>> 20) & 3, (iss >>> 14) & 7, (iss >>> 10) & 15, (iss >>> 1) & 15, (iss >>> 17) & 7);
  cpu.advancePc();
  if (!isRead && (key === ICC_SGI1R || key === ICC_ASGI1R)) return v.vm.vgic.sgi1r(v.id, cpu.x(rt));
  if (!isRead && key === ICC_SGI0R) return; // group 0 SGIs: the guest has no group 0
  // Anything else we trap reads as zero and ignores writes.
  host.logOnce(`sysreg:${v.vm.id}:${key}`, `vm${v.vm.id}: trapped ${isRead ? 'read of' : 'write to'} system register 0x${key.toString(16)} ignored`, v.vm.id);
  if (isRead) cpu.setX(rt, 0n);
}

function injectUndefined(cpu: El2Cpu): void {
  injectAbort(cpu, null, 0);
}
