// Architecture features per core: which optional instructions a CPU decodes, and the ID register
// fields and Linux HWCAPs that follow from them. One feature set per core type; the decoder of a
// CPU is built for its set (cpu.ts decoderFor), so an instruction of a feature the core does not
// have is UNDEFINED there, and the ID registers (sysregs-el1.ts) report exactly that set.
//
// Names are the ARM ARM's FEAT_* names without the prefix (ARM ARM A2 "Armv8.x extensions").
// Only features this emulator implements appear; a core's other features (A76: RAS, UAO, LOR,
// VHE, HPDS, CnP, SSBS...) are left out of its set and its ID registers.

export type Feature =
  | 'CRC32' // CRC32/CRC32C (ID_AA64ISAR0.CRC32)
  | 'AES' // AESE/AESD/AESMC/AESIMC (ISAR0.AES >= 1)
  | 'PMULL' // PMULL/PMULL2 .1Q (ISAR0.AES = 2)
  | 'SHA1' // SHA1C/P/M/H/SU0/SU1 (ISAR0.SHA1)
  | 'SHA256' // SHA256H/H2/SU0/SU1 (ISAR0.SHA2 = 1)
  | 'LSE' // Armv8.1 atomics: LD<op>, SWP, CAS, CASP (ISAR0.Atomic = 2)
  | 'RDM' // Armv8.1 SQRDMLAH/SQRDMLSH (ISAR0.RDM)
  | 'PAN' // Armv8.1 PSTATE.PAN (ID_AA64MMFR1.PAN = 1)
  | 'FP16' // Armv8.2 half-precision arithmetic (ID_AA64PFR0.FP/AdvSIMD = 1)
  | 'DotProd' // Armv8.2 SDOT/UDOT (ISAR0.DP)
  | 'DPB' // Armv8.2 DC CVAP (ID_AA64ISAR1.DPB = 1)
  | 'LRCPC'; // Armv8.3 LDAPR, optional from 8.2 (ISAR1.LRCPC = 1)

export type FeatureSet = ReadonlySet<Feature>;

/** Armv8.0 with the optional Cryptographic Extension and CRC32 (Cortex-A57/A72, Denver2). */
const V8_0_CRYPTO: Feature[] = ['CRC32', 'AES', 'PMULL', 'SHA1', 'SHA256'];
/** Armv8.2 cores as Rockchip ships them: Cortex-A76 and A55 with crypto, dot product and RCpc. */
const V8_2: Feature[] = [...V8_0_CRYPTO, 'LSE', 'RDM', 'PAN', 'FP16', 'DotProd', 'DPB', 'LRCPC'];

/** Every feature the emulator implements: the instruction oracle's CPU and the default. */
export const ALL_FEATURES: FeatureSet = new Set<Feature>(V8_2);

/**
 * The feature set of a core. `crypto: false` is a part built without the optional Cryptographic
 * Extension (AES, PMULL, SHA1, SHA256), as Broadcom's BCM2711 Cortex-A72 (Raspberry Pi 4) is;
 * CRC32 is not part of that option. Unknown cores get the Armv8.0 set.
 */
export function coreFeatures(core: string, opts: { crypto?: boolean } = {}): FeatureSet {
  const base = core === 'cortex-a76' || core === 'cortex-a55' ? V8_2 : V8_0_CRYPTO;
  const crypto = opts.crypto ?? true;
  return new Set(base.filter((f) => crypto || !(f === 'AES' || f === 'PMULL' || f === 'SHA1' || f === 'SHA256')));
}

/** A stable name of a set (the decoder cache key, diagnostics). */
export function featureKey(f: FeatureSet): string {
  return [...f].sort().join('+');
}

// ---- ID registers (ARM ARM D17.2: ID_AA64ISAR0_EL1, ID_AA64ISAR1_EL1, ID_AA64PFR0_EL1, ID_AA64MMFR1_EL1) ----

/** ID_AA64ISAR0_EL1. Cortex-A76/A55 TRMs: 0x0000100010211120. */
export function idAa64isar0(f: FeatureSet): bigint {
  let v = 0n;
  if (f.has('AES')) v |= (f.has('PMULL') ? 2n : 1n) << 4n;
  if (f.has('SHA1')) v |= 1n << 8n;
  if (f.has('SHA256')) v |= 1n << 12n;
  if (f.has('CRC32')) v |= 1n << 16n;
  if (f.has('LSE')) v |= 2n << 20n;
  if (f.has('RDM')) v |= 1n << 28n;
  if (f.has('DotProd')) v |= 1n << 44n;
  return v;
}

/** ID_AA64ISAR1_EL1. Cortex-A76/A55 TRMs: 0x0000000000100001 (DPB, LRCPC). */
export function idAa64isar1(f: FeatureSet): bigint {
  let v = 0n;
  if (f.has('DPB')) v |= 1n;
  if (f.has('LRCPC')) v |= 1n << 20n;
  return v;
}

/** ID_AA64PFR0_EL1.FP [19:16] and AdvSIMD [23:20]: 1 with half precision, 0 without. */
export function idAa64pfr0Fp(f: FeatureSet): bigint {
  return f.has('FP16') ? (1n << 16n) | (1n << 20n) : 0n;
}

/** ID_AA64MMFR1_EL1: PAN [23:20] = 1 (PSTATE.PAN; not the AT S1E1xP form of PAN = 2). */
export function idAa64mmfr1(f: FeatureSet): bigint {
  return f.has('PAN') ? 1n << 20n : 0n;
}

// ---- Linux's view (arch/arm64/include/uapi/asm/hwcap.h) ----

export const HWCAP = {
  FP: 1 << 0, ASIMD: 1 << 1, EVTSTRM: 1 << 2, AES: 1 << 3, PMULL: 1 << 4, SHA1: 1 << 5, SHA2: 1 << 6,
  CRC32: 1 << 7, ATOMICS: 1 << 8, FPHP: 1 << 9, ASIMDHP: 1 << 10, CPUID: 1 << 11, ASIMDRDM: 1 << 12,
  LRCPC: 1 << 15, DCPOP: 1 << 16, ASIMDDP: 1 << 20,
} as const;

/**
 * AT_HWCAP as Linux computes it from the ID registers (arm64_elf_hwcaps): FP, ASIMD, EVTSTRM
 * (the timer event stream is on) and CPUID (EL0 reads of ID registers are emulated) always.
 */
export function linuxHwcaps(f: FeatureSet): number {
  let h = HWCAP.FP | HWCAP.ASIMD | HWCAP.EVTSTRM | HWCAP.CPUID;
  if (f.has('AES')) h |= HWCAP.AES;
  if (f.has('PMULL')) h |= HWCAP.PMULL;
  if (f.has('SHA1')) h |= HWCAP.SHA1;
  if (f.has('SHA256')) h |= HWCAP.SHA2;
  if (f.has('CRC32')) h |= HWCAP.CRC32;
  if (f.has('LSE')) h |= HWCAP.ATOMICS;
  if (f.has('FP16')) h |= HWCAP.FPHP | HWCAP.ASIMDHP;
  if (f.has('RDM')) h |= HWCAP.ASIMDRDM;
  if (f.has('LRCPC')) h |= HWCAP.LRCPC;
  if (f.has('DPB')) h |= HWCAP.DCPOP;
  if (f.has('DotProd')) h |= HWCAP.ASIMDDP;
  return h >>> 0;
}
