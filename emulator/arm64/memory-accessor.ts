// The CPU's memory side: the fast load/store paths that hit the soft TLBs (soft-tlb.ts), and the
// slow paths through the translator and the bus that fill them. Cpu (cpu.ts) extends this class;
// handlers call read*/write* on the Cpu.
//
// Memory from handlers: read8/16/32 return unsigned numbers; read64 returns the low word (int32)
// and leaves the high word in `hi`; read128 leaves four words in q0..q3; write64(va, lo, hi).
import { Access, type AddressTranslator, IdentityTranslator, type PhysicalMemory } from './memory.ts';
import { BusError } from '../bus/device.ts';
import { EC } from './ec.ts';
import { PAGE, SoftTlb, TLB_MASK } from './soft-tlb.ts';

/**
 * Pages the data TLBs may hold: virtual addresses within +-2^52 (every canonical one, and tagged
 * pointers whose tag is 0 or 0xff). Beyond, an address computed in JS numbers may have rounded;
 * keeping such pages out means a TLB hit proves the address exact, which is what lets translated
 * code add base and offset in i64 without checking the base's range (jit/emit-mem.ts).
 */
function tlbAddress(pn: number): boolean {
  return pn >= -(2 ** 40) && pn < 2 ** 40;
}

export abstract class MemoryAccessor extends SoftTlb {
  pc = 0;
  /** High word of the last read64. */
  hi = 0;
  /**
   * The virtual address of the load/store being made (exec/ls-access.ts): handed to the access
   * functions in this field because they are called through a function value, which V8 never
   * inlines, and a double argument to such a call is boxed on the heap.
   */
  va = 0;
  translator: AddressTranslator = new IdentityTranslator();
  /** The same RAM as bytes. */
  protected readonly ramBytes: Uint8Array;

  constructor(mem: PhysicalMemory) {
    super(mem);
    this.ramBytes = new Uint8Array(mem.ram.buffer, mem.ram.byteOffset, mem.ram.byteLength);
  }

  /** Raise a synchronous exception and unwind the instruction (implemented by Cpu). */
  abstract raise(ec: number, iss: number, far: number, preferredReturn: number): never;

  // ---- memory: fast paths ----

  read8(va: number): number {
    const off = va & 0xfff;
    const pn = (va - off) / PAGE;
    const i = (pn & TLB_MASK) + this.tlbCtx;
    if (this.rTag[i] === pn) return this.ram.getUint8(this.rOff[i << 1]! + off);
    return this.readSlow(va, 1);
  }
  read16(va: number): number {
    const off = va & 0xfff;
    const pn = (va - off) / PAGE;
    const i = (pn & TLB_MASK) + this.tlbCtx;
    if (this.rTag[i] === pn && off <= PAGE - 2) return this.ram.getUint16(this.rOff[i << 1]! + off, true);
    return this.readSlow(va, 2);
  }
  read32(va: number): number {
    const off = va & 0xfff;
    const pn = (va - off) / PAGE;
    const i = (pn & TLB_MASK) + this.tlbCtx;
    if (this.rTag[i] === pn && off <= PAGE - 4) return this.ram.getUint32(this.rOff[i << 1]! + off, true);
    return this.readSlow(va, 4);
  }
  /** Returns the low word (signed int32); the high word is left in this.hi. */
  read64(va: number): number {
    const off = va & 0xfff;
    const pn = (va - off) / PAGE;
    const i = (pn & TLB_MASK) + this.tlbCtx;
    if (this.rTag[i] === pn && off <= PAGE - 8) {
      const o = this.rOff[i << 1]! + off;
      this.hi = this.ram.getInt32(o + 4, true);
      return this.ram.getInt32(o, true);
    }
    // The first half enters the page in the TLB: the second then hits unless it is on the next page.
    const lo = this.readSlow(va, 4) | 0;
    const hi = this.read32(va + 4) | 0;
    this.hi = hi;
    return lo;
  }
  /** 16 bytes (a Q register, LDP of two X): words in q0..q3, one TLB lookup when in one page. */
  read128(va: number): void {
    const off = va & 0xfff;
    const pn = (va - off) / PAGE;
    const i = (pn & TLB_MASK) + this.tlbCtx;
    if (this.rTag[i] === pn && off <= PAGE - 16) {
      const o = this.rOff[i << 1]! + off;
      const ram = this.ram;
      this.q0 = ram.getInt32(o, true);
      this.q1 = ram.getInt32(o + 4, true);
      this.q2 = ram.getInt32(o + 8, true);
      this.q3 = ram.getInt32(o + 12, true);
      return;
    }
    this.read128Slow(va);
  }
  // (Apart, as write64Slow: read128 stays small enough to inline into the pair handlers.)
  private read128Slow(va: number): void {
    // Both halves are read before anything is written by the caller: a fault leaves state intact.
    const l0 = this.read64(va);
    const h0 = this.hi;
    this.q2 = this.read64(va + 8);
    this.q3 = this.hi;
    this.q0 = l0;
    this.q1 = h0;
  }
  q0 = 0;
  q1 = 0;
  q2 = 0;
  q3 = 0;

  write8(va: number, v: number): void {
    const off = va & 0xfff;
    const pn = (va - off) / PAGE;
    const i = (pn & TLB_MASK) + this.tlbCtx;
    if (this.wTag[i] === pn) this.ram.setUint8(this.wOff[i << 1]! + off, v);
    else this.writeSlow(va, 1, v);
  }
  write16(va: number, v: number): void {
    const off = va & 0xfff;
    const pn = (va - off) / PAGE;
    const i = (pn & TLB_MASK) + this.tlbCtx;
    if (this.wTag[i] === pn && off <= PAGE - 2) this.ram.setUint16(this.wOff[i << 1]! + off, v, true);
    else this.writeSlow(va, 2, v);
  }
  write32(va: number, v: number): void {
    const off = va & 0xfff;
    const pn = (va - off) / PAGE;
    const i = (pn & TLB_MASK) + this.tlbCtx;
    if (this.wTag[i] === pn && off <= PAGE - 4) this.ram.setInt32(this.wOff[i << 1]! + off, v, true);
    else this.writeSlow(va, 4, v);
  }
  write64(va: number, lo: number, hi: number): void {
    const off = va & 0xfff;
    const pn = (va - off) / PAGE;
    const i = (pn & TLB_MASK) + this.tlbCtx;
    if (this.wTag[i] === pn && off <= PAGE - 8) {
      const o = this.wOff[i << 1]! + off;
      this.ram.setInt32(o, lo, true);
      this.ram.setInt32(o + 4, hi, true);
      return;
    }
    this.write64Slow(va, lo, hi);
  }
  // (Apart from write64 so that it stays small enough for V8 to inline into the store handlers:
  // called, it took the address as a boxed double, ~1.2 M allocations in a kit boot.)
  private write64Slow(va: number, lo: number, hi: number): void {
    const off = va & 0xfff;
    if (off <= PAGE - 8) {
      // One page: translating the first half checks the whole access, and enters the page in
      // the TLB for the second.
      this.writeSlow(va, 4, lo);
      this.write32(va + 4, hi);
      return;
    }
    // Check the whole access first so a fault on the second half leaves memory untouched.
    this.probeWrite(va, 8);
    this.writeSlow(va, 4, lo);
    this.writeSlow(va + 4, 4, hi);
  }

  /**
   * 16 bytes as four words, low first (STP of two X or D registers, STR of a Q register): one TLB
   * lookup when in one page. A pair crossing a page is checked whole first, so a fault on its
   * second page leaves memory untouched.
   */
  write128(va: number, w0: number, w1: number, w2: number, w3: number): void {
    const off = va & 0xfff;
    const pn = (va - off) / PAGE;
    const i = (pn & TLB_MASK) + this.tlbCtx;
    if (this.wTag[i] === pn && off <= PAGE - 16) {
      const o = this.wOff[i << 1]! + off;
      const ram = this.ram;
      ram.setInt32(o, w0, true);
      ram.setInt32(o + 4, w1, true);
      ram.setInt32(o + 8, w2, true);
      ram.setInt32(o + 12, w3, true);
      return;
    }
    this.write128Slow(va, w0, w1, w2, w3);
  }
  private write128Slow(va: number, w0: number, w1: number, w2: number, w3: number): void {
    if ((va & 0xfff) > PAGE - 16) this.probeWrite(va, 16);
    this.write64(va, w0, w1);
    this.write64(va + 8, w2, w3);
  }

  /**
   * RAM byte offset of a naturally aligned read-modify-write of up to 16 bytes (LSE atomics, CAS,
   * CASP): one translation checked for write and read permission, so every fault (translation,
   * permission, stage 2) is taken before anything is written, and the handler then reads and
   * writes RAM directly — single-copy atomic, as only one PE runs at a time. An atomic on a
   * device takes a synchronous external abort without touching it (Device memory has no atomic
   * transactions here), leaving the device unchanged.
   */
  rmwOffset(va: number): number {
    const off = va & 0xfff;
    const pn = (va - off) / PAGE;
    const i = (pn & TLB_MASK) + this.tlbCtx;
    if (this.wTag[i] === pn && this.rTag[i] === pn) return this.wOff[i << 1]! + off;
    return this.rmwSlow(va);
  }

  private rmwSlow(va: number): number {
    const off = va & 0xfff;
    // Write first: a read-only page reports the write permission fault (WnR = 1), as for stores.
    const pa = this.translator.translate(va, Access.Write);
    this.translator.translate(va, Access.Read);
    const ro = this.mem.ramOffset(pa);
    if (ro < 0) return this.externalAbort(va, true);
    const i = this.writablePage(va, ro - off);
    if (i >= 0) {
      this.setTag(this.rTag, this.rTagI, i, this.wTag[i]!);
      this.rOff[i << 1] = ro - off;
    }
    return ro;
  }

  /**
   * A RAM page about to be written through `va`: drop its decoded code, and enter it in the write
   * TLB when the translation may be cached. Returns the TLB index used, or -1.
   */
  private writablePage(va: number, pageRo: number): number {
    if (this.codeCache.isCode(pageRo / PAGE)) {
      this.codeCache.invalidate(pageRo, PAGE);
      // The block being run may be on that page (self-modifying code): end it after this store,
      // so the next instruction is fetched anew, the same way for the interpreter and for
      // translated code (whose eager decodes of the page would otherwise run on).
      this.exitRequest = 1;
    }
    const pn = (va - (va & 0xfff)) / PAGE;
    if (!this.translator.pageCacheable || !tlbAddress(pn)) return -1;
    const i = (pn & TLB_MASK) + this.tlbCtx;
    this.setTag(this.wTag, this.wTagI, i, pn);
    this.wOff[i << 1] = pageRo;
    this.wHint[(pageRo / PAGE) & 0xffff] = this.wEpoch;
    return i;
  }

  // ---- memory: slow paths ----

  /**
   * Zero `size` bytes at va, which lie in one page (DC ZVA's block): one probe, then the RAM
   * directly when the write TLB has the page; else 64-bit stores through the usual path.
   */
  zeroBlock(va: number, size: number): void {
    this.probeWrite(va, size);
    const off = va & 0xfff;
    const pn = (va - off) / PAGE;
    const i = (pn & TLB_MASK) + this.tlbCtx;
    if (this.wTag[i] === pn) {
      const ro = this.wOff[i << 1]! + off;
      this.ramBytes.fill(0, ro, ro + size);
      return;
    }
    for (let k = 0; k < size; k += 8) this.write64(va + k, 0, 0);
  }

  /**
   * Translate for a write and raise any fault, without writing (multi-part stores, DC ZVA). A
   * page in the write TLB needs no walk: its translation is known to allow the write.
   */
  probeWrite(va: number, size: number): void {
    this.probePage(va, true);
    const last = va + size - 1;
    if ((last & ~0xfff) !== (va & ~0xfff)) this.probePage(last, true);
  }

  /** Translate for a read and raise any fault (multi-part loads, DC by VA, etc.). */
  probeRead(va: number, size: number): void {
    this.probePage(va, false);
    const last = va + size - 1;
    if ((last & ~0xfff) !== (va & ~0xfff)) this.probePage(last, false);
  }

  /**
   * The probe of one page: a TLB hit needs no walk; a miss walks and enters a RAM page as a load
   * or store would, so the access or probe that follows hits (a page of decoded code stays out
   * of the write TLB: it is entered by the store that drops its code, not by a probe).
   */
  private probePage(va: number, write: boolean): void {
    const off = va & 0xfff;
    const pn = (va - off) / PAGE;
    const i = (pn & TLB_MASK) + this.tlbCtx;
    const tags = write ? this.wTag : this.rTag;
    if (tags[i] === pn) return;
    const ro = this.mem.ramOffset(this.translator.translate(va, write ? Access.Write : Access.Read));
    if (ro < 0 || !this.translator.pageCacheable || !tlbAddress(pn)) return;
    if (write && this.codeCache.isCode((ro - off) / PAGE)) return;
    this.setTag(tags, write ? this.wTagI : this.rTagI, i, pn);
    (write ? this.wOff : this.rOff)[i << 1] = ro - off;
  }

  readSlow(va: number, size: 1 | 2 | 4): number {
    const off = va & 0xfff;
    if (off + size > PAGE) {
      // Crosses a page: byte by byte (each byte translated on its own, as the architecture allows).
      let v = 0;
      for (let k = 0; k < size; k++) v += this.read8(va + k) * 2 ** (8 * k);
      return v;
    }
    const pn = (va - off) / PAGE;
    const ii = this.ioIndex(pn);
    let pa: number;
    if (this.ioRTag[ii] === pn) pa = this.ioRPa[ii]! + off;
    else {
      pa = this.translator.translate(va, Access.Read);
      const ro = this.mem.ramOffset(pa);
      if (ro >= 0) {
        if (this.translator.pageCacheable && tlbAddress(pn)) {
          const i = (pn & TLB_MASK) + this.tlbCtx;
          this.setTag(this.rTag, this.rTagI, i, pn);
          this.rOff[i << 1] = ro - off;
        }
        return size === 1 ? this.ram.getUint8(ro) : size === 2 ? this.ram.getUint16(ro, true) : this.ram.getUint32(ro, true);
      }
      if (this.translator.pageCacheable && tlbAddress(pn)) {
        this.setIoPage(false, ii, pn, pa - off);
      }
    }
    try {
      return this.mem.read(pa, size) >>> 0;
    } catch (e) {
      if (e instanceof BusError) this.externalAbort(va, false);
      throw e;
    }
  }

  writeSlow(va: number, size: 1 | 2 | 4, v: number): void {
    const off = va & 0xfff;
    if (off + size > PAGE) {
      this.probeWrite(va, size);
      for (let k = 0; k < size; k++) this.write8(va + k, (v >>> (8 * k)) & 0xff);
      return;
    }
    const pn = (va - off) / PAGE;
    const ii = this.ioIndex(pn);
    let pa: number;
    if (this.ioWTag[ii] === pn) pa = this.ioWPa[ii]! + off;
    else {
      pa = this.translator.translate(va, Access.Write);
      const ro = this.mem.ramOffset(pa);
      if (ro >= 0) {
        this.writablePage(va, ro - off);
        if (size === 1) this.ram.setUint8(ro, v);
        else if (size === 2) this.ram.setUint16(ro, v, true);
        else this.ram.setInt32(ro, v, true);
        return;
      }
      if (this.translator.pageCacheable && tlbAddress(pn)) {
        this.setIoPage(true, ii, pn, pa - off);
      }
    }
    try {
      this.mem.write(pa, size, size === 4 ? v >>> 0 : v & (size === 1 ? 0xff : 0xffff));
    } catch (e) {
      if (e instanceof BusError) this.externalAbort(va, true);
      throw e;
    }
  }

  /** Synchronous external abort on a data access (ESR ISS: DFSC 0b010000, WnR). */
  externalAbort(va: number, write: boolean): never {
    const iss = 0x10 | (write ? 1 << 6 : 0);
    return this.raise(this.el === 0 ? EC.DABT_LOWER : EC.DABT_SAME, iss, va, this.pc);
  }
}
