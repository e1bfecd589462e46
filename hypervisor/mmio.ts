// Emulated MMIO (ARM ARM D17.2.40, ESR_EL2 data abort ISS): a guest load or store that stage 2
// does not map traps with the instruction syndrome — ISV, access size (SAS), sign extension
// (SSE), the register (SRT), 64-bit register (SF), direction (WnR) — which is everything needed to
// perform it on an emulated device and return, as Rust-Shyper's emu handler does.
import type { El2Cpu } from '../emulator/arm64/el2.ts';
import { COST } from './cost.ts';

/** An emulated device's register window. Offsets are from its base; size is 1, 2, 4 or 8. */
export interface MmioHandler {
  read(offset: number, size: number, vcpu: number): bigint;
  write(offset: number, size: number, value: bigint, vcpu: number): void;
  /**
   * The VM stopped or is rebooting: back to the power-on state, so that nothing the old guest
   * set up (a virtqueue in its RAM) is used once the RAM holds a new boot.
   */
  reset?(): void;
}

export interface EmulatedRegion {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly handler: MmioHandler;
  /** Modeled cycles of the hypervisor's handling of one access (hypervisor/cost.ts); default COST.mmioEmulate. */
  readonly cost?: number;
}

/** A data abort's instruction syndrome, decoded. */
export interface MmioAccess {
  ipa: number;
  size: 1 | 2 | 4 | 8;
  write: boolean;
  /** Register number (31 = XZR/WZR). */
  reg: number;
  signExtend: boolean;
  /** Destination is an X register (else W: the upper half is zeroed). */
  sixtyFour: boolean;
}

const ISS_ISV = 1 << 24;

/** Decode ESR_EL2/FAR_EL2/HPFAR_EL2 of a data abort; null when ISV = 0 (not emulatable). */
export function decodeDataAbort(cpu: El2Cpu): MmioAccess | null {
  const iss = cpu.esr & 0x1ffffff;
  if ((iss & ISS_ISV) === 0) return null;
  return {
    ipa: faultIpa(cpu),
    size: (1 << ((iss >>> 22) & 3)) as 1 | 2 | 4 | 8,
    signExtend: (iss & (1 << 21)) !== 0,
    reg: (iss >>> 16) & 31,
    sixtyFour: (iss & (1 << 15)) !== 0,
    write: (iss & (1 << 6)) !== 0,
  };
}

/** The faulting IPA: HPFAR_EL2.FIPA gives IPA[47:12], FAR_EL2 the offset in the page. */
export function faultIpa(cpu: El2Cpu): number {
  return Math.floor(cpu.hpfar / 16) * 4096 + (cpu.far & 0xfff);
}

/** Perform a decoded access on a handler and advance the guest past the instruction. */
export function emulateAccess(cpu: El2Cpu, a: MmioAccess, region: EmulatedRegion, vcpu: number): void {
  cpu.chargeCycles(region.cost ?? COST.mmioEmulate);
  const off = a.ipa - region.base;
  const bits = BigInt(a.size * 8);
  const mask = (1n << bits) - 1n;
  if (a.write) {
    region.handler.write(off, a.size, cpu.x(a.reg) & mask, vcpu);
  } else {
    let v = region.handler.read(off, a.size, vcpu) & mask;
    if (a.signExtend && (v >> (bits - 1n)) & 1n) v = BigInt.asUintN(64, v - (1n << bits));
    if (!a.sixtyFour) v &= 0xffffffffn;
    cpu.setX(a.reg, v);
  }
  cpu.advancePc();
}
