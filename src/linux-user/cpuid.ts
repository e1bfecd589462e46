// What Linux shows a user program about the CPU: AT_HWCAP (features.ts linuxHwcaps) and, since
// HWCAP_CPUID is set, EL0 reads of the ID registers, which trap and which the kernel emulates
// (arch/arm64/kernel/cpufeature.c, emulate_mrs / emulate_id_reg): MRS of op0=3, op1=0, CRn=0,
// CRm 0 or 2-7 returns MIDR_EL1 as is, MPIDR_EL1 as 0x80000000, REVIDR and the other CRm=0
// registers as 0, and an ID register as its user-visible fields plus the "safe" values of the
// hidden ones. glibc reads MIDR_EL1 this way at start-up to pick its string functions.
import { type FeatureSet, idAa64isar0, idAa64isar1, idAa64pfr0Fp } from '../../emulator/arm64/features.ts';

/** The CPU a user-mode process runs on, as the kernel describes it. */
export interface UserCpu {
  midr: number;
  features: FeatureSet;
}

/**
 * The value an EL0 `MRS Xt, <reg>` of the ID space reads under Linux, or null when the word is
 * not such an MRS (then it stays UNDEFINED: SIGILL).
 */
export function emulateMrs(word: number, cpu: UserCpu): { rt: number; value: bigint } | null {
  // MRS: 1101010100 1 1 o0 op1 CRn CRm op2 Rt with op0 = 3 (o0 = 1), op1 = 0, CRn = 0.
  if ((word & 0xfffff000) >>> 0 !== 0xd5380000) return null;
  const crm = (word >>> 8) & 15;
  const op2 = (word >>> 5) & 7;
  const rt = word & 31;
  if (crm === 1) return null;
  let value = 0n;
  if (crm === 0) {
    if (op2 === 0) value = BigInt(cpu.midr >>> 0);
    else if (op2 === 5) value = 0x80000000n;
  } else if (crm === 4 && op2 === 0) {
    // ID_AA64PFR0_EL1: FP and AdvSIMD visible; EL0 and EL1 hidden with safe value 1 (AArch64 only).
    value = 0x11n | idAa64pfr0Fp(cpu.features);
  } else if (crm === 6 && op2 === 0) value = idAa64isar0(cpu.features); // all its fields are visible
  else if (crm === 6 && op2 === 1) value = idAa64isar1(cpu.features); // DPB, LRCPC visible
  return { rt, value };
}
