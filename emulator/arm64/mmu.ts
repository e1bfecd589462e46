// VMSAv8-64 address translation (ARM ARM D8): the EL1&0 stage 1 regime from TTBR0/1_EL1 and
// TCR_EL1, and stage 2 from VTTBR_EL2/VTCR_EL2 when HCR_EL2.VM is set. 4 KiB granule only (the
// kit's kernel and Linux on these boards use it); other granules fault as misconfigured tables.
// No hardware Access-flag/Dirty management (we report FEAT_HAFDBS absent), so AF=0 faults.
//
// The CPU's soft TLB caches the result per 4 KiB page; this walker runs on a TLB miss.

import type { Cpu } from './cpu.ts';
import { EC } from './ec.ts';
import { Access, type AddressTranslator } from './memory.ts';
import { HCR, SCTLR } from './sysstate.ts';

const TWO32 = 4294967296;
const S2_ENTRIES = 4096;
const S2_READ = 1;
const S2_WRITE = 2;
const S2_EXEC = 4;
const PA_LIMIT = 2 ** 48;
const BLOCK_2M = 2 ** 21;
/** Entries of the stage-1 block cache (Mmu.blkTag): 128 x 2 MiB, the kit's linear map and more. */
const BLK_ENTRIES = 128;

// Fault status codes (ESR_ELx.ISS.DFSC/IFSC, ARM ARM D17.2.40) for a given level.
export const FSC = {
  ADDRESS_SIZE: 0x00,
  TRANSLATION: 0x04,
  ACCESS_FLAG: 0x08,
  PERMISSION: 0x0c,
  EXTERNAL_WALK: 0x14,
} as const;

/** Result of a stage-2 walk kept between calls without allocating. */
export class Mmu implements AddressTranslator {
  readonly pageCacheable = true;
  /** Set for LDTR/STTR at EL1: check permissions as EL0 would. */
  unprivileged = false;

  constructor(private readonly cpu: Cpu) {}

  // Stage-2 results by IPA page (direct-mapped): the PA of the page and what stage 2 allows there
  // (S2_READ | S2_WRITE | S2_EXEC), from the last walk that did not fault. A soft-TLB miss under
  // stage 2 walks stage 1, whose every descriptor address is itself an IPA: 4-5 stage-2 walks of
  // 2-3 levels each (the rk3588 run: ~220 ms of them). Valid until the next full soft-TLB flush,
  // which every change of VTTBR_EL2, VTCR_EL2 or HCR_EL2's translation bits and every TLBI of
  // stage 2 by EL2 software makes; faults are never kept (as TLBs keep no faulting entries), so a
  // mapping added without a TLBI is seen at once.
  private readonly s2Tag = new Float64Array(S2_ENTRIES).fill(NaN);
  private readonly s2Pa = new Float64Array(S2_ENTRIES);
  private readonly s2Perm = new Uint8Array(S2_ENTRIES);
  private s2Flushes = -1;

  translate(va: number, access: Access): number {
    const cpu = this.cpu;
    const s = cpu.sys;
    let ipa: number;
    if ((s.sctlr & SCTLR.M) === 0) {
      // Stage 1 off: flat, but the address must fit the physical address space.
      if (va < 0 || va >= PA_LIMIT) this.stage1Fault(va, access, FSC.ADDRESS_SIZE, 0);
      ipa = va;
    } else {
      ipa = this.stage1(va, access);
    }
    if ((s.hcr & HCR.VM) !== 0 && cpu.el < 2) return this.stage2(ipa, access, va, false, access);
    return ipa;
  }

  private stage1(va: number, access: Access): number {
    const cached = this.cachedBlock(va, access);
    if (cached >= 0) return cached;
    const cpu = this.cpu;
    const s = cpu.sys;
    const tcr = s.tcr;
    let txsz: number, epd: number, tg: number, base: number;
    if (va >= 0) {
      txsz = tcr & 0x3f;
      epd = (tcr >>> 7) & 1;
      tg = (tcr >>> 14) & 3; // TG0: 0b00 = 4 KiB
      base = s.ttbr0;
      if (tg !== 0) epd = 1;
    } else {
      txsz = (tcr >>> 16) & 0x3f;
      epd = (tcr >>> 23) & 1;
      tg = (tcr >>> 30) & 3; // TG1: 0b10 = 4 KiB
      base = s.ttbr1;
      if (tg !== 2) epd = 1;
    }
    if (txsz < 16) txsz = 16; // without FEAT_LVA, a TxSZ below 16 behaves as 16
    if (txsz > 48) txsz = 48; // above the largest TxSZ of any 4 KiB-granule table: as the largest
    const inputBits = 64 - txsz;
    const span = 2 ** inputBits;
    if (va >= 0 ? va >= span : va < -span) this.stage1Fault(va, access, FSC.TRANSLATION, 0);
    if (epd) this.stage1Fault(va, access, FSC.TRANSLATION, 0);
    // Offset of the address inside its region: bits [inputBits-1:0], in two 32-bit halves so
    // that each level's index is a shift and a mask.
    const off = va >= 0 ? va : va + span;
    const offHi = Math.floor(off / TWO32);
    const offLo = off - offHi * TWO32;
    const levels = Math.ceil((inputBits - 12) / 9);
    const startLevel = 4 - levels;
    let level = startLevel;
    let table = base - (base % 2); // drop CnP
    let apTable0 = 0; // APTable[0]: no EL0 access below
    let apTable1 = 0; // APTable[1]: read-only below
    let uxnTable = 0;
    let pxnTable = 0;
    const hcrVm = (s.hcr & HCR.VM) !== 0 && cpu.el < 2;
    const mem = cpu.mem;
    const ram = mem.ram;
    for (;;) {
      const shift = 12 + 9 * (3 - level);
      const idx = tableIndex(offHi, offLo, shift, level === startLevel ? (1 << (inputBits - shift)) - 1 : 511);
      let descPa = table + idx * 8;
      if (hcrVm) descPa = this.stage2(descPa, Access.Read, va, true, access);
      const ro = mem.ramOffset(descPa);
      if (ro < 0) this.stage1Fault(va, access, FSC.EXTERNAL_WALK, level);
      const lo = ram.getInt32(ro, true);
      const hi = ram.getInt32(ro + 4, true);
      if ((lo & 1) === 0) this.stage1Fault(va, access, FSC.TRANSLATION, level);
      const isTable = (lo & 2) !== 0;
      if (level < 3 && isTable) {
        apTable0 |= (hi >>> 29) & 1;
        apTable1 |= (hi >>> 30) & 1;
        uxnTable |= (hi >>> 28) & 1;
        pxnTable |= (hi >>> 27) & 1;
        table = (hi & 0xffff) * TWO32 + ((lo & 0xfffff000) >>> 0);
        level++;
        continue;
      }
      // A block at level 0, or a "block" encoding at level 3, is invalid with a 4 KiB granule.
      if (level === 0 || (level === 3 && !isTable)) this.stage1Fault(va, access, FSC.TRANSLATION, level);
      if ((lo & (1 << 10)) === 0) this.stage1Fault(va, access, FSC.ACCESS_FLAG, level);
      const tableBits = apTable0 | (apTable1 << 1) | (uxnTable << 2) | (pxnTable << 3);
      if (level === 2) {
        // A 2 MiB block: kept for the block's other pages (below).
        if (this.blkFlushes !== cpu.tlbFlushes) {
          this.blkTag.fill(NaN);
          this.blkFlushes = cpu.tlbFlushes;
        }
        const bn = Math.floor(va / BLOCK_2M);
        const i = bn & (BLK_ENTRIES - 1);
        this.blkTag[i] = bn;
        this.blkRoot[i] = base;
        this.blkDesc[3 * i] = lo;
        this.blkDesc[3 * i + 1] = hi;
        this.blkDesc[3 * i + 2] = tableBits;
      }
      const pa = this.leaf(va, access, lo, hi, tableBits, level, offLo, shift);
      if (level < 3) cpu.noteBlock(va, shift);
      return pa;
    }
  }

  // Stage-1 2 MiB blocks by VA block (direct-mapped): the leaf descriptor's words and the table
  // bits above it (APTable, UXN/PXNTable), from the last walk that reached one. The soft TLB keeps
  // 4 KiB pages, so the kernel's linear map, which Linux maps in 2 MiB blocks, cost a walk per
  // page touched after every flush (~20 K of the kit boot's ~50 K walks). As a TLB entry of the
  // block, valid until the next full soft-TLB flush (every TLBI of an address in a block noted
  // since the last one makes one: soft-tlb.ts flushTlbPage; so does every change of the
  // translation regime but TTBR1_EL1's) and under the table base it was walked from; permissions
  // are checked at each use, as after a walk.
  private readonly blkTag = new Float64Array(BLK_ENTRIES).fill(NaN);
  private readonly blkDesc = new Int32Array(BLK_ENTRIES * 3);
  /** The table base (TTBR0_EL1 or TTBR1_EL1) each was walked from: KPTI changes TTBR1_EL1 without a flush (soft-tlb.ts switchTtbr1). */
  private readonly blkRoot = new Float64Array(BLK_ENTRIES);
  private blkFlushes = -1;

  /** The PA of `va` in a 2 MiB block of the cache, or -1 (a miss: walk). Faults as the walk's leaf would. */
  private cachedBlock(va: number, access: Access): number {
    if (this.blkFlushes !== this.cpu.tlbFlushes) return -1;
    const bn = Math.floor(va / BLOCK_2M);
    const i = bn & (BLK_ENTRIES - 1);
    if (this.blkTag[i] !== bn || this.blkRoot[i] !== (va >= 0 ? this.cpu.sys.ttbr0 : this.cpu.sys.ttbr1)) return -1;
    const d = this.blkDesc;
    const off = va - bn * BLOCK_2M;
    return this.leaf(va, access, d[3 * i]!, d[3 * i + 1]!, d[3 * i + 2]!, 2, off, 21);
  }

  /**
   * The permission checks of a leaf descriptor (lo, hi) at `level` for this access, with the
   * table bits above it (tableBits: APTable[0], APTable[1], UXNTable, PXNTable as bits 0-3); its
   * output address for the input address whose low word is offLo.
   */
  private leaf(va: number, access: Access, lo: number, hi: number, tableBits: number, level: number, offLo: number, shift: number): number {
    const cpu = this.cpu;
    const s = cpu.sys;
    const ap = (lo >>> 6) & 3;
    const el0Access = (ap & 1) !== 0 && (tableBits & 1) === 0;
    const readOnly = (ap & 2) !== 0 || (tableBits & 2) !== 0;
    const asEl0 = cpu.el === 0 || this.unprivileged;
    if (access === Access.Exec) {
      let xn: boolean;
      if (asEl0) xn = ((hi >>> 22) & 1) !== 0 || (tableBits & 4) !== 0 || !el0Access;
      else xn = ((hi >>> 21) & 1) !== 0 || (tableBits & 8) !== 0 || (el0Access && !readOnly);
      if (!xn && (s.sctlr & SCTLR.WXN) !== 0 && !readOnly && (!asEl0 || el0Access)) xn = true;
      if (xn) this.stage1Fault(va, access, FSC.PERMISSION, level);
    } else {
      if (asEl0 && !el0Access) this.stage1Fault(va, access, FSC.PERMISSION, level);
      if (access === Access.Write && readOnly) this.stage1Fault(va, access, FSC.PERMISSION, level);
      // PAN: privileged data accesses to EL0-accessible memory fault (FEAT_PAN).
      if (!asEl0 && s.pan !== 0 && el0Access) this.stage1Fault(va, access, FSC.PERMISSION, level);
    }
    return leafAddress(lo, hi, offLo, shift);
  }

  /** Stage 2 (ARM ARM D8.2.5): IPA → PA for the current VMID. Faults go to EL2. */
  stage2(ipa: number, access: Access, va: number, s1ptw: boolean, origin: Access): number {
    const ipn = Math.floor(ipa / 4096);
    const ci = ipn & (S2_ENTRIES - 1);
    const need = access === Access.Exec ? S2_EXEC : access === Access.Write ? S2_WRITE : S2_READ;
    if (this.s2Tag[ci] === ipn && this.s2Flushes === this.cpu.tlbFlushes && (this.s2Perm[ci]! & need) !== 0) {
      return this.s2Pa[ci]! + (ipa - ipn * 4096);
    }
    const pa = this.stage2Walk(ipa, access, va, s1ptw, origin);
    if (this.s2Flushes !== this.cpu.tlbFlushes) {
      this.s2Tag.fill(NaN);
      this.s2Flushes = this.cpu.tlbFlushes;
    }
    this.s2Tag[ci] = ipn;
    this.s2Pa[ci] = pa - (ipa - ipn * 4096);
    this.s2Perm[ci] = this.s2LastPerm;
    return pa;
  }
  /** What the last stage-2 walk's leaf allows (S2_* bits). */
  private s2LastPerm = 0;

  private stage2Walk(ipa: number, access: Access, va: number, s1ptw: boolean, origin: Access): number {
    const s = this.cpu.sys;
    const vtcr = s.vtcr;
    const t0sz = vtcr & 0x3f;
    const sl0 = (vtcr >>> 6) & 3;
    const tg0 = (vtcr >>> 14) & 3;
    const inputBits = 64 - t0sz;
    if (tg0 !== 0 || sl0 === 3 || ipa >= 2 ** inputBits) this.stage2Fault(ipa, va, origin, FSC.TRANSLATION, 0, s1ptw);
    const startLevel = 2 - sl0;
    let level = startLevel;
    let table = s.vttbr - (s.vttbr % 2);
    const ipaHi = Math.floor(ipa / TWO32);
    const ipaLo = ipa - ipaHi * TWO32;
    const mem = this.cpu.mem;
    const ram = mem.ram;
    for (;;) {
      const shift = 12 + 9 * (3 - level);
      // The start level may concatenate up to 16 tables (its index is wider than 9 bits).
      const entries = level === startLevel ? 2 ** (inputBits - shift) : 512;
      if (level === startLevel && entries > 512 * 16) this.stage2Fault(ipa, va, origin, FSC.TRANSLATION, level, s1ptw);
      // (Fewer than one entry: an IPA below 2^inputBits has index 0.)
      const idx = tableIndex(ipaHi, ipaLo, shift, entries >= 1 ? entries - 1 : 0);
      const ro = mem.ramOffset(table + idx * 8);
      if (ro < 0) this.stage2Fault(ipa, va, origin, FSC.EXTERNAL_WALK, level, s1ptw);
      const lo = ram.getInt32(ro, true);
      const hi = ram.getInt32(ro + 4, true);
      if ((lo & 1) === 0) this.stage2Fault(ipa, va, origin, FSC.TRANSLATION, level, s1ptw);
      const isTable = (lo & 2) !== 0;
      if (level < 3 && isTable) {
        table = (hi & 0xffff) * TWO32 + ((lo & 0xfffff000) >>> 0);
        level++;
        continue;
      }
      if (level === 0 || (level === 3 && !isTable)) this.stage2Fault(ipa, va, origin, FSC.TRANSLATION, level, s1ptw);
      if ((lo & (1 << 10)) === 0) this.stage2Fault(ipa, va, origin, FSC.ACCESS_FLAG, level, s1ptw);
      const s2ap = (lo >>> 6) & 3; // bit 0: read allowed, bit 1: write allowed
      const xn = ((hi >>> 22) & 1) !== 0;
      const ok =
        access === Access.Exec ? !xn && (s2ap & 1) !== 0 : access === Access.Write ? (s2ap & 2) !== 0 : (s2ap & 1) !== 0;
      // A stage-1 walk that stage 2 maps read-only is still fine: walks only read.
      if (!ok) this.stage2Fault(ipa, va, origin, FSC.PERMISSION, level, s1ptw);
      this.s2LastPerm = (s2ap & 1 ? S2_READ : 0) | (s2ap & 2 ? S2_WRITE : 0) | (!xn && (s2ap & 1) !== 0 ? S2_EXEC : 0);
      return leafAddress(lo, hi, ipaLo, shift);
    }
  }

  private stage1Fault(va: number, access: Access, fsc: number, level: number): never {
    const cpu = this.cpu;
    const lower = cpu.el === 0;
    if (access === Access.Exec) return cpu.raise(lower ? EC.IABT_LOWER : EC.IABT_SAME, fsc + level, va, cpu.pc);
    const iss = fsc + level + (access === Access.Write ? 1 << 6 : 0);
    return cpu.raise(lower ? EC.DABT_LOWER : EC.DABT_SAME, iss, va, cpu.pc);
  }

  private stage2Fault(ipa: number, va: number, access: Access, fsc: number, level: number, s1ptw: boolean): never {
    const cpu = this.cpu;
    let iss = fsc + level;
    if (s1ptw) iss |= 1 << 7;
    // HPFAR_EL2.FIPA (bits 43:4) holds IPA[51:12].
    const hpfar = Math.floor(ipa / 4096) * 16;
    if (access === Access.Exec && !s1ptw) return cpu.raiseToEl2(EC.IABT_LOWER, iss, va, hpfar, cpu.pc);
    if (access === Access.Write && !s1ptw) iss |= 1 << 6;
    if (!s1ptw) iss |= cpu.dataAbortInstructionSyndrome();
    return cpu.raiseToEl2(EC.DABT_LOWER, iss, va, hpfar, cpu.pc);
  }
}

/**
 * Index into a table whose entries each map 2^shift bytes, of the input address (hi:lo, 32-bit
 * halves); `mask` is the table's entry count minus one (at most 16 concatenated tables).
 */
function tableIndex(hi: number, lo: number, shift: number, mask: number): number {
  if (shift >= 32) return (hi >>> (shift - 32)) & mask;
  return ((lo >>> shift) | (hi << (32 - shift))) & mask;
}

/**
 * Output address of a page or block descriptor (lo:hi words) mapping 2^shift bytes (a 4 KiB page,
 * 2 MiB or 1 GiB block): OA[47:shift] from the descriptor, the rest from the input address.
 */
function leafAddress(lo: number, hi: number, inLo: number, shift: number): number {
  const blockMask = (1 << shift) - 1;
  return (hi & 0xffff) * TWO32 + (((lo & 0xfffff000 & ~blockMask) | (inLo & blockMask)) >>> 0);
}
