// What the CPU knows about its generic timer (ARM ARM D11 "The Generic Timer in AArch64 state"):
// the system-register encodings, the EL0 access rules of CNTKCTL_EL1, and CpuTimer, the small
// interface through which sysregs.ts and the world switch (context.ts) reach this PE's timer
// without importing the device model. emulator/devices/generic-timer.ts implements CpuTimer.

/** The MRS/MSR field packing used by the CPU's system-register table (same as sysregs-el1 enc). */
export function sysregEnc(op0: number, op1: number, crn: number, crm: number, op2: number): number {
  return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

export const CNTFRQ_EL0 = sysregEnc(3, 3, 14, 0, 0);
export const CNTPCT_EL0 = sysregEnc(3, 3, 14, 0, 1);
export const CNTVCT_EL0 = sysregEnc(3, 3, 14, 0, 2);
export const CNTP_TVAL_EL0 = sysregEnc(3, 3, 14, 2, 0);
export const CNTP_CTL_EL0 = sysregEnc(3, 3, 14, 2, 1);
export const CNTP_CVAL_EL0 = sysregEnc(3, 3, 14, 2, 2);
export const CNTV_TVAL_EL0 = sysregEnc(3, 3, 14, 3, 0);
export const CNTV_CTL_EL0 = sysregEnc(3, 3, 14, 3, 1);
export const CNTV_CVAL_EL0 = sysregEnc(3, 3, 14, 3, 2);
export const CNTKCTL_EL1 = sysregEnc(3, 0, 14, 1, 0);
export const CNTHCTL_EL2 = sysregEnc(3, 4, 14, 1, 0);
export const CNTVOFF_EL2 = sysregEnc(3, 4, 14, 0, 3);
export const CNTHP_TVAL_EL2 = sysregEnc(3, 4, 14, 2, 0);
export const CNTHP_CTL_EL2 = sysregEnc(3, 4, 14, 2, 1);
export const CNTHP_CVAL_EL2 = sysregEnc(3, 4, 14, 2, 2);

/** CNTKCTL_EL1 bits that gate EL0 access (ARM ARM D13.8, CNTKCTL_EL1). */
export const CNTKCTL_EL0PCTEN = 1 << 0;
export const CNTKCTL_EL0VCTEN = 1 << 1;
export const CNTKCTL_EL0VTEN = 1 << 8;
export const CNTKCTL_EL0PTEN = 1 << 9;

/**
 * For an EL0-accessible timer register, the CNTKCTL_EL1 bits of which at least one must be set
 * for EL0 to access it (when HCR_EL2.{E2H,TGE} != {1,1}); 0 for any other register.
 * CNTFRQ_EL0 is readable at EL0 when EL0PCTEN or EL0VCTEN is set.
 */
export function el0TimerAccessMask(enc: number): number {
  switch (enc) {
    case CNTFRQ_EL0:
      return CNTKCTL_EL0PCTEN | CNTKCTL_EL0VCTEN;
    case CNTPCT_EL0:
      return CNTKCTL_EL0PCTEN;
    case CNTVCT_EL0:
      return CNTKCTL_EL0VCTEN;
    case CNTP_TVAL_EL0:
    case CNTP_CTL_EL0:
    case CNTP_CVAL_EL0:
      return CNTKCTL_EL0PTEN;
    case CNTV_TVAL_EL0:
    case CNTV_CTL_EL0:
    case CNTV_CVAL_EL0:
      return CNTKCTL_EL0VTEN;
    default:
      return 0;
  }
}

/**
 * This PE's timer as the CPU uses it: the EL1 state a world switch saves and restores. The EL1
 * physical timer, CNTVOFF_EL2, CNTHCTL_EL2 and the EL2 timer are not EL1 context: the hypervisor
 * owns them (it traps or emulates the physical timer for its guests, as Rust-Shyper does).
 */
export interface CpuTimer {
  /** CNTKCTL_EL1 (EL0 access controls and the event stream; bits 9:0). */
  cntkctl: number;
  /** CNTV_CTL_EL0.{ENABLE, IMASK} as written (ISTATUS is computed, not state). */
  readonly cntvCtl: number;
  /** CNTV_CVAL_EL0. */
  readonly cntvCval: bigint;
  /**
   * Load the EL1 virtual timer of the context being switched in: its output line and wake-up
   * event follow the new CTL/CVAL at once, as writing the registers would.
   */
  setVirtualTimer(ctl: number, cval: bigint): void;
}
