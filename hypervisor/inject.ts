// Exceptions the hypervisor makes the guest take at EL1 (ARM ARM D1.10.2 AArch64.TakeException,
// performed by EL2 software as KVM's inject_fault does): ESR_EL1/FAR_EL1 say what happened,
// ELR_EL1/SPSR_EL1 hold where and in what state, and the exception return from EL2 goes to the
// guest's synchronous vector with EL1h and DAIF masked.
import type { El2Cpu } from '../emulator/arm64/el2.ts';

const enc = (op0: number, op1: number, crn: number, crm: number, op2: number): number => (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
const ESR_EL1 = enc(3, 0, 5, 2, 0);
const FAR_EL1 = enc(3, 0, 6, 0, 0);
const ELR_EL1 = enc(3, 0, 4, 0, 1);
const SPSR_EL1 = enc(3, 0, 4, 0, 0);
const VBAR_EL1 = enc(3, 0, 12, 0, 0);

const EC_UNKNOWN = 0x00;
const EC_IABT_LOWER = 0x20;
const EC_IABT_SAME = 0x21;
const EC_DABT_LOWER = 0x24;
const EC_DABT_SAME = 0x25;
const IL = 1 << 25;
/** DFSC/IFSC 0b010000: synchronous external abort, not on a table walk. */
const FSC_EXTERNAL = 0x10;

/**
 * Inject a synchronous external abort (instruction abort when `fetch`, data abort when false) or,
 * with fetch = null, an UNDEFINED instruction exception, at the instruction ELR_EL2 points to.
 */
export function injectAbort(cpu: El2Cpu, fetch: boolean | null, far: number): void {
  const spsr = cpu.spsr;
  const fromEl0 = ((spsr >>> 2) & 3) === 0;
  let esr: number;
  if (fetch === null) esr = (EC_UNKNOWN << 26) | IL;
  else if (fetch) esr = ((fromEl0 ? EC_IABT_LOWER : EC_IABT_SAME) << 26) | IL | FSC_EXTERNAL;
  else esr = ((fromEl0 ? EC_DABT_LOWER : EC_DABT_SAME) << 26) | IL | FSC_EXTERNAL | (cpu.esr & (1 << 6)); // keep WnR
  cpu.msr(ESR_EL1, BigInt(esr >>> 0));
  if (fetch !== null) cpu.msr(FAR_EL1, BigInt.asUintN(64, BigInt(far)));
  cpu.msr(ELR_EL1, BigInt.asUintN(64, BigInt(cpu.elr)));
  cpu.msr(SPSR_EL1, BigInt(spsr >>> 0));
  // Vector offset: from EL0 0x400 (lower EL, AArch64); from EL1 with SP_EL1 0x200, with SP_EL0 0x000.
  const offset = fromEl0 ? 0x400 : (spsr & 1) !== 0 ? 0x200 : 0;
  cpu.elr = Number(BigInt.asIntN(64, cpu.mrs(VBAR_EL1))) + offset;
  cpu.spsr = 0x3c5 | (spsr & (1 << 22)); // EL1h, DAIF masked; PAN kept
}
