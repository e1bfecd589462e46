// The EL2 port of one physical CPU (el2.ts El2Cpu), implemented over the emulated Cpu. EL2
// software gets this object and nothing else of the CPU: the syndrome, the trapped context's
// registers, the EL2 system registers by name, the world switch and EL2 WFI.
//
// MSR/MRS of EL2 registers: the CPU's own (HCR, VTTBR, VTCR, VPIDR, VMPIDR, CPTR, MDCR) live in
// SystemState; the timer's (CNTVOFF, CNTHCTL, CNTHP_*) and the GIC's (ICH_*, ICC_*) are answered
// by the devices that own them through cpu.sysregProviders, exactly as MRS/MSR at EL2 would be.
import type { Cpu } from './cpu.ts';
import { El2Reg, type El1Context, type El2Cpu, type El2Software } from './el2.ts';
import type { Hypervisor } from './exceptions.ts';
import { HCR } from './sysstate.ts';
import { sysregDef } from './sysregs.ts';
import { El1ContextData, restoreEl1, saveEl1 } from './context.ts';

const e = (op0: number, op1: number, crn: number, crm: number, op2: number): number => (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;

/** System-register encodings (op0:op1:CRn:CRm:op2) of the El2Reg names (ARM ARM D17, IHI 0069 12). */
export function el2RegEncoding(reg: El2Reg | number): number {
  if (reg >= 256) return reg;
  if (reg >= El2Reg.ICH_LR0_EL2 && reg < El2Reg.ICH_LR0_EL2 + 16) {
    const n = reg - El2Reg.ICH_LR0_EL2;
    return e(3, 4, 12, 12 + (n >> 3), n & 7);
  }
  const enc = ENCODINGS[reg as El2Reg];
  if (enc === undefined) throw new RangeError(`unknown EL2 register ${reg}`);
  return enc;
}

const ENCODINGS: Partial<Record<El2Reg, number>> = {
  [El2Reg.HCR_EL2]: e(3, 4, 1, 1, 0),
  [El2Reg.VTTBR_EL2]: e(3, 4, 2, 1, 0),
  [El2Reg.VTCR_EL2]: e(3, 4, 2, 1, 2),
  [El2Reg.VMPIDR_EL2]: e(3, 4, 0, 0, 5),
  [El2Reg.VPIDR_EL2]: e(3, 4, 0, 0, 0),
  [El2Reg.CNTVOFF_EL2]: e(3, 4, 14, 0, 3),
  [El2Reg.CNTHCTL_EL2]: e(3, 4, 14, 1, 0),
  [El2Reg.CPTR_EL2]: e(3, 4, 1, 1, 2),
  [El2Reg.MDCR_EL2]: e(3, 4, 1, 1, 1),
  [El2Reg.CNTHP_CTL_EL2]: e(3, 4, 14, 2, 1),
  [El2Reg.CNTHP_CVAL_EL2]: e(3, 4, 14, 2, 2),
  [El2Reg.CNTPCT_EL0]: e(3, 3, 14, 0, 1),
  [El2Reg.CNTFRQ_EL0]: e(3, 3, 14, 0, 0),
  [El2Reg.ICH_HCR_EL2]: e(3, 4, 12, 11, 0),
  [El2Reg.ICH_VTR_EL2]: e(3, 4, 12, 11, 1),
  [El2Reg.ICH_MISR_EL2]: e(3, 4, 12, 11, 2),
  [El2Reg.ICH_EISR_EL2]: e(3, 4, 12, 11, 3),
  [El2Reg.ICH_ELRSR_EL2]: e(3, 4, 12, 11, 5),
  [El2Reg.ICH_VMCR_EL2]: e(3, 4, 12, 11, 7),
  [El2Reg.ICH_AP1R0_EL2]: e(3, 4, 12, 9, 0),
  [El2Reg.ICC_IAR1_EL1]: e(3, 0, 12, 12, 0),
  [El2Reg.ICC_EOIR1_EL1]: e(3, 0, 12, 12, 1),
  [El2Reg.ICC_DIR_EL1]: e(3, 0, 12, 11, 1),
  [El2Reg.ICC_SGI1R_EL1]: e(3, 0, 12, 11, 5),
  [El2Reg.ICC_PMR_EL1]: e(3, 0, 4, 6, 0),
  [El2Reg.ICC_CTLR_EL1]: e(3, 0, 12, 12, 4),
  [El2Reg.ICC_IGRPEN1_EL1]: e(3, 0, 12, 12, 7),
  [El2Reg.ICC_SRE_EL1]: e(3, 0, 12, 12, 5),
  [El2Reg.ICC_HPPIR1_EL1]: e(3, 0, 12, 12, 2),
};

const HCR_EL2_ENC = e(3, 4, 1, 1, 0);
const VTTBR_EL2_ENC = e(3, 4, 2, 1, 0);
const VTCR_EL2_ENC = e(3, 4, 2, 1, 2);
const VMPIDR_EL2_ENC = e(3, 4, 0, 0, 5);
const VPIDR_EL2_ENC = e(3, 4, 0, 0, 0);
const CPTR_EL2_ENC = e(3, 4, 1, 1, 2);
const MDCR_EL2_ENC = e(3, 4, 1, 1, 1);
const MASK64 = (1n << 64n) - 1n;
// HCR_EL2 bits whose change alters stage-1/stage-2 translation (VM, PTW, DC) or routing.
const HCR_TRANSLATION = HCR.VM | HCR.PTW | HCR.DC;

export class El2CpuPort implements El2Cpu {
  /** CPTR_EL2 and MDCR_EL2: held for EL2 software (their traps are not modeled). */
  private cptr = 0x33ffn;
  private mdcr = 0n;

  constructor(
    private readonly cpu: Cpu,
    readonly index: number,
    readonly mpidr: number,
    /** Modeled cycles per simple instruction of this core (converts chargeCycles to CPU time). */
    private readonly cyclesPerInstr = 1,
  ) {}

  get esr(): number {
    return this.cpu.sys.esr2;
  }
  get far(): number {
    return this.cpu.sys.far2;
  }
  get hpfar(): number {
    return this.cpu.sys.hpfar2;
  }
  get elr(): number {
    return this.cpu.sys.elr2;
  }
  set elr(v: number) {
    this.cpu.sys.elr2 = v;
  }
  get spsr(): number {
    return this.cpu.sys.spsr2;
  }
  set spsr(v: number) {
    this.cpu.sys.spsr2 = v >>> 0;
  }
  advancePc(): void {
    this.cpu.sys.elr2 += 4;
  }

  x(n: number): bigint {
    return n >= 31 ? 0n : this.cpu.regs.x[n]!;
  }
  setX(n: number, v: bigint): void {
    if (n < 31) this.cpu.regs.x[n] = v & MASK64;
  }

  mrs(reg: El2Reg | number): bigint {
    const s = this.cpu.sys;
    const enc = el2RegEncoding(reg);
    switch (enc) {
      case HCR_EL2_ENC:
        return (BigInt(s.hcrHi >>> 0) << 32n) | BigInt(s.hcr >>> 0);
      case VTTBR_EL2_ENC:
        return (BigInt(s.vmid) << 48n) | BigInt(s.vttbr);
      case VTCR_EL2_ENC:
        return BigInt(s.vtcr >>> 0);
      case VMPIDR_EL2_ENC:
        return (BigInt(s.vmpidrHi >>> 0) << 32n) | BigInt(s.vmpidrLo >>> 0);
      case VPIDR_EL2_ENC:
        return BigInt(s.vpidr >>> 0);
      case CPTR_EL2_ENC:
        return this.cptr;
      case MDCR_EL2_ENC:
        return this.mdcr;
    }
    // EL1 registers (ESR_EL1, VBAR_EL1... to inject an exception into the guest) as EL2 reads them.
    const def = sysregDef(enc);
    if (def?.read) return def.read(this.cpu);
    for (const p of this.cpu.sysregProviders) {
      const v = p.readSysreg(enc);
      if (v !== undefined) return v;
    }
    return 0n; // not implemented by this machine (e.g. ICH_* on a GICv2 board): reads as zero
  }

  msr(reg: El2Reg | number, v: bigint): void {
    const s = this.cpu.sys;
    const enc = el2RegEncoding(reg);
    v &= MASK64;
    switch (enc) {
      case HCR_EL2_ENC: {
        const lo = Number(v & 0xffffffffn) | 0;
        const changed = (lo ^ s.hcr) & HCR_TRANSLATION;
        s.hcr = lo;
        s.hcrHi = Number(v >> 32n) | 0;
        if (changed) this.cpu.flushTlb();
        this.cpu.exitRequest = 1; // VI/VF/IMO may change which interrupts are taken
        return;
      }
      case VTTBR_EL2_ENC: {
        const base = Number(v & 0xfffffffffffen);
        const vmid = Number((v >> 48n) & 0xffn);
        if (base !== s.vttbr || vmid !== s.vmid) {
          s.vttbr = base;
          s.vmid = vmid;
          this.cpu.flushTlb();
        }
        return;
      }
      case VTCR_EL2_ENC:
        if (Number(v & 0xffffffffn) !== s.vtcr) {
          s.vtcr = Number(v & 0xffffffffn);
          this.cpu.flushTlb();
        }
        return;
      case VMPIDR_EL2_ENC:
        s.vmpidrLo = Number(v & 0xffffffffn) | 0;
        s.vmpidrHi = Number(v >> 32n) | 0;
        return;
      case VPIDR_EL2_ENC:
        s.vpidr = Number(v & 0xffffffffn) | 0;
        return;
      case CPTR_EL2_ENC:
        this.cptr = v;
        return;
      case MDCR_EL2_ENC:
        this.mdcr = v;
        return;
    }
    const def = sysregDef(enc);
    if (def?.write) return def.write(this.cpu, v);
    for (const p of this.cpu.sysregProviders) if (p.writeSysreg(enc, v)) return;
  }

  save(ctx: El1Context): void {
    saveEl1(this.cpu, ctx as El1ContextData, this.cpu.sys.elr2, this.cpu.sys.spsr2);
  }

  restore(ctx: El1Context): void {
    const { pc, pstate } = restoreEl1(this.cpu, ctx as El1ContextData);
    this.cpu.sys.elr2 = pc;
    this.cpu.sys.spsr2 = pstate >>> 0;
  }

  park(): void {
    this.cpu.el2Parked = true;
  }

  chargeCycles(n: number): void {
    this.cpu.stall += n / this.cyclesPerInstr;
  }
}

/** The Cpu-facing adapter: enters EL2 software with this CPU's port. */
export function el2Adapter(software: El2Software, port: El2Cpu): Hypervisor {
  return {
    sync: () => software.sync(port),
    irq: () => software.irq(port),
    fiq: () => software.irq(port),
    start: () => software.start(port),
  };
}

