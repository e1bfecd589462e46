// The physical address space: RAM regions backed by one ArrayBuffer, and MMIO regions that
// dispatch to devices by offset.
//
// Lifecycle: describe the map with addRam/addMmio, then the first use of ram, ramBytes or any
// access allocates the single RAM buffer (freeze()). addRam after that throws; addMmio stays
// allowed (devices may be hot-plugged, e.g. virtio-mmio slots). RAM regions are 4 KiB aligned so
// ramOffset() is linear within every page; the CPU's TLB caches ramOffset(page) and touches
// bus.ram directly.
//
// Code coherence: the bus owns the decoded-instruction cache (codeCache) every CPU on it shares.
// Every RAM write API here (write, write64, writeBytes, loadBytes) drops decoded code of the
// pages written, so a device doing DMA, a loader or the hypervisor writing guest memory through
// the bus never leaves a CPU running stale instructions. Writing `ram`/`ramBytes` directly does
// not: such code must call codeCache.invalidate(ramOffset, len) itself.
import { BusError, type MmioDevice } from './device.ts';
import { CodeCache } from '../arm64/code-cache.ts';
import { GuestMemory } from '../arm64/jit/guest-memory.ts';

/** zeroBytes: compared and, if not zero, cleared in chunks of this size. */
const ZERO_CHUNK = 64 << 10;
const ZEROS = new Uint8Array(ZERO_CHUNK);

export const PAGE_SIZE = 4096;
/** Physical addresses are below 2^48 (FEAT_LPA not implemented). */
export const PA_LIMIT = 2 ** 48;

export interface RamRegion {
  readonly base: number;
  readonly size: number;
  /** Byte offset of `base` inside bus.ram. */
  readonly offset: number;
}

export interface MmioRegion {
  readonly base: number;
  readonly size: number;
  readonly dev: MmioDevice;
}

export class Bus {
  private readonly ramRegions: RamRegion[] = [];
  private ramTotal = 0;
  // Parallel arrays for ramOffset(): boards have one to three RAM regions, a linear scan wins.
  private ramBase: number[] = [];
  private ramEnd: number[] = [];
  private ramOff: number[] = [];
  private view: DataView | null = null;
  private bytes: Uint8Array | null = null;
  private guestMemory: GuestMemory | null = null;

  // MMIO regions sorted by base, for binary search; `lastHit` short-cuts repeated accesses.
  private mmio: MmioRegion[] = [];
  private mmioBase: number[] = [];
  private lastHit = -1;

  /** Decoded instructions by RAM page, shared by every CPU on this bus (arm64/code-cache.ts). */
  readonly codeCache = new CodeCache();

  /** Adds a RAM region; base and size must be 4 KiB aligned and must not overlap anything. */
  addRam(base: number, size: number): RamRegion {
    if (this.view) throw new Error('Bus.addRam after the RAM buffer was allocated');
    checkRange(base, size, 'RAM');
    if (base % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0) {
      throw new Error(`RAM region 0x${base.toString(16)}+0x${size.toString(16)} is not 4 KiB aligned`);
    }
    this.checkFree(base, size);
    const region: RamRegion = { base, size, offset: this.ramTotal };
    this.ramTotal += size;
    this.ramRegions.push(region);
    this.ramRegions.sort((a, b) => a.base - b.base);
    this.ramBase = this.ramRegions.map((r) => r.base);
    this.ramEnd = this.ramRegions.map((r) => r.base + r.size);
    this.ramOff = this.ramRegions.map((r) => r.offset);
    return region;
  }

  /** Maps a device at [base, base+size). Accesses reach dev with offset = pa - base. */
  addMmio(base: number, size: number, dev: MmioDevice): void {
    checkRange(base, size, `MMIO region "${dev.name}"`);
    this.checkFree(base, size);
    const region: MmioRegion = { base, size, dev };
    let i = 0;
    while (i < this.mmio.length && this.mmio[i].base < base) i++;
    this.mmio.splice(i, 0, region);
    this.mmioBase = this.mmio.map((r) => r.base);
    this.lastHit = -1;
  }

  /** Allocates the RAM buffer. Called implicitly by the first access. */
  freeze(): void {
    if (this.view) return;
    // RAM at offset 0 of the wasm memory the CPUs' state shares (arm64/jit/guest-memory.ts).
    this.guestMemory = new GuestMemory(this.ramTotal);
    const buffer = this.guestMemory.buffer;
    this.view = new DataView(buffer, 0, this.ramTotal);
    this.bytes = new Uint8Array(buffer, 0, this.ramTotal);
  }

  /** The memory RAM and the CPUs' register files live in (allocates RAM on first use). */
  get guest(): GuestMemory {
    if (!this.view) this.freeze();
    return this.guestMemory!;
  }

  get ram(): DataView {
    if (!this.view) this.freeze();
    return this.view!;
  }

  get ramBytes(): Uint8Array {
    if (!this.bytes) this.freeze();
    return this.bytes!;
  }

  get ramSize(): number {
    return this.ramTotal;
  }

  regions(): { ram: readonly RamRegion[]; mmio: readonly MmioRegion[] } {
    return { ram: this.ramRegions, mmio: this.mmio };
  }

  /** Byte offset of pa inside bus.ram, or -1 when pa is not RAM. */
  ramOffset(pa: number): number {
    const bases = this.ramBase;
    for (let i = 0; i < bases.length; i++) {
      if (pa >= bases[i] && pa < this.ramEnd[i]) return this.ramOff[i] + (pa - bases[i]);
    }
    return -1;
  }

  /** Offset of [pa, pa+len) in bus.ram when the whole range is inside one RAM region, else -1. */
  private ramSpan(pa: number, len: number): number {
    const bases = this.ramBase;
    for (let i = 0; i < bases.length; i++) {
      if (pa >= bases[i] && pa + len <= this.ramEnd[i]) return this.ramOff[i] + (pa - bases[i]);
    }
    return -1;
  }

  /** The MMIO region containing pa, or -1. */
  private findMmio(pa: number): number {
    const hit = this.lastHit;
    if (hit >= 0) {
      const r = this.mmio[hit];
      if (pa >= r.base && pa < r.base + r.size) return hit;
    }
    const bases = this.mmioBase;
    let lo = 0;
    let hi = bases.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (bases[mid] <= pa) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return -1;
    const r = this.mmio[found];
    if (pa >= r.base + r.size) return -1;
    this.lastHit = found;
    return found;
  }

  /** The device mapped at pa (for traces and the debugger), or undefined. */
  deviceAt(pa: number): MmioRegion | undefined {
    const i = this.findMmio(pa);
    return i < 0 ? undefined : this.mmio[i];
  }

  read(pa: number, size: 1 | 2 | 4): number {
    const ro = this.ramSpan(pa, size);
    if (ro >= 0) {
      const v = this.ram;
      return size === 4 ? v.getUint32(ro, true) : size === 1 ? v.getUint8(ro) : v.getUint16(ro, true);
    }
    const i = this.findMmio(pa);
    if (i < 0) throw new BusError(pa, false, size);
    const r = this.mmio[i];
    const off = pa - r.base;
    if (off + size > r.size) throw new BusError(pa, false, size);
    return r.dev.read(off, size);
  }

  write(pa: number, size: 1 | 2 | 4, value: number): void {
    const ro = this.ramSpan(pa, size);
    if (ro >= 0) {
      this.codeCache.invalidate(ro, size);
      const v = this.ram;
      if (size === 4) v.setUint32(ro, value >>> 0, true);
      else if (size === 1) v.setUint8(ro, value);
      else v.setUint16(ro, value, true);
      return;
    }
    const i = this.findMmio(pa);
    if (i < 0) throw new BusError(pa, true, size);
    const r = this.mmio[i];
    const off = pa - r.base;
    if (off + size > r.size) throw new BusError(pa, true, size);
    r.dev.write(off, size, size === 4 ? value >>> 0 : value);
  }

  read64(pa: number): bigint {
    const ro = this.ramSpan(pa, 8);
    if (ro >= 0) return this.ram.getBigUint64(ro, true);
    const i = this.findMmio(pa);
    if (i < 0) throw new BusError(pa, false, 8);
    const r = this.mmio[i];
    const off = pa - r.base;
    if (off + 8 > r.size) throw new BusError(pa, false, 8);
    if (r.dev.read64) return r.dev.read64(off);
    const lo = r.dev.read(off, 4);
    const hi = r.dev.read(off + 4, 4);
    return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  }

  write64(pa: number, value: bigint): void {
    const ro = this.ramSpan(pa, 8);
    if (ro >= 0) {
      this.codeCache.invalidate(ro, 8);
      this.ram.setBigUint64(ro, value, true);
      return;
    }
    const i = this.findMmio(pa);
    if (i < 0) throw new BusError(pa, true, 8);
    const r = this.mmio[i];
    const off = pa - r.base;
    if (off + 8 > r.size) throw new BusError(pa, true, 8);
    if (r.dev.write64) {
      r.dev.write64(off, BigInt.asUintN(64, value));
      return;
    }
    r.dev.write(off, 4, Number(BigInt.asUintN(32, value)));
    r.dev.write(off + 4, 4, Number(BigInt.asUintN(32, value >> 32n)));
  }

  /**
   * Copies data into RAM at pa (may span adjacent RAM regions), dropping decoded code there: the
   * write path for DMA by devices and for the hypervisor writing guest memory. Throws BusError
   * when part of the range is not RAM (nothing is written then).
   */
  writeBytes(pa: number, data: Uint8Array): void {
    const ro = this.ramSpan(pa, data.length);
    if (ro >= 0) {
      this.ramBytes.set(data, ro);
      this.codeCache.invalidate(ro, data.length);
      return;
    }
    try {
      this.walkRam(pa, data.length, () => {});
    } catch {
      throw new BusError(pa, true, data.length);
    }
    this.loadBytes(pa, data);
  }

  /**
   * Zeroes RAM [pa, pa+len) as writeBytes of zeros would (decoded code there dropped; BusError
   * when part of it is not RAM), giving its pages back to the host where it can (GuestMemory
   * discard): a VM's memory is zeroed before reuse and most of it was never touched. Elsewhere a
   * chunk that already reads as zero is left unwritten, so its host pages stay uncommitted (the
   * rk3588 run zeroed 2 x 256 MiB: writing, ~220 ms and ~500 MB of RSS; comparing, ~0.5 s, the
   * untouched pages faulted in to be read; given back, a few ms).
   */
  zeroBytes(pa: number, len: number): void {
    const ro = this.ramSpan(pa, len);
    if (ro < 0) {
      for (let o = 0; o < len; o += ZERO_CHUNK) this.writeBytes(pa + o, ZEROS.subarray(0, Math.min(ZERO_CHUNK, len - o)));
      return;
    }
    if (this.guestMemory !== null && this.guestMemory.discard(ro, len)) {
      this.codeCache.invalidate(ro, len);
      return;
    }
    const bytes = this.ramBytes;
    for (let o = 0; o < len; o += ZERO_CHUNK) {
      const n = Math.min(ZERO_CHUNK, len - o);
      const chunk = bytes.subarray(ro + o, ro + o + n);
      if (Buffer.compare(chunk, n === ZERO_CHUNK ? ZEROS : ZEROS.subarray(0, n)) !== 0) chunk.fill(0);
    }
    this.codeCache.invalidate(ro, len);
  }

  /** Copies data into RAM at pa (may span adjacent RAM regions), dropping decoded code there. Loader helper: throws Error. */
  loadBytes(pa: number, data: Uint8Array): void {
    this.fillBytes(pa, data.length, (into, done) => into.set(data.subarray(done, done + into.length)));
  }

  /**
   * Fill RAM [pa, pa+len) in place, as loadBytes does: `fill` gets each piece of RAM (a view of it)
   * with the offset in [0, len) it starts at (an image read straight from its file).
   */
  fillBytes(pa: number, len: number, fill: (into: Uint8Array, done: number) => void): void {
    const bytes = this.ramBytes;
    this.walkRam(pa, len, (ro, done, n) => {
      fill(bytes.subarray(ro, ro + n), done);
      this.codeCache.invalidate(ro, n);
    });
  }

  /** True when [pa, pa+len) is entirely RAM (it may span adjacent regions). */
  isRam(pa: number, len: number): boolean {
    if (!Number.isSafeInteger(pa) || !Number.isSafeInteger(len) || pa < 0 || len < 0) return false;
    let cur = pa;
    const end = pa + len;
    while (cur < end) {
      const k = this.ramBase.findIndex((b, i) => cur >= b && cur < this.ramEnd[i]);
      if (k < 0) return false;
      cur = this.ramEnd[k];
    }
    return true;
  }

  /** A copy of len bytes of RAM at pa. Loader/debugger helper: throws Error. */
  readBytes(pa: number, len: number): Uint8Array {
    return this.readInto(pa, new Uint8Array(len));
  }

  /** Device DMA from RAM: fills out with the bytes at pa and returns it. Throws Error when not RAM. */
  readInto(pa: number, out: Uint8Array): Uint8Array {
    const bytes = this.ramBytes;
    this.walkRam(pa, out.length, (ro, done, n) => out.set(bytes.subarray(ro, ro + n), done));
    return out;
  }

  private walkRam(pa: number, len: number, fn: (ramOff: number, done: number, n: number) => void): void {
    if (!Number.isSafeInteger(pa) || !Number.isSafeInteger(len) || pa < 0 || len < 0) {
      throw new Error(`bad RAM range 0x${pa.toString(16)}+${len}`);
    }
    let done = 0;
    while (done < len) {
      const cur = pa + done;
      const ro = this.ramOffset(cur);
      if (ro < 0) {
        throw new Error(`range 0x${pa.toString(16)}..0x${(pa + len).toString(16)} is not RAM (at 0x${cur.toString(16)})`);
      }
      const k = this.ramRegions.findIndex((r) => cur >= r.base && cur < r.base + r.size);
      const end = this.ramRegions[k].base + this.ramRegions[k].size;
      const n = Math.min(len - done, end - cur);
      fn(ro, done, n);
      done += n;
    }
  }

  private checkFree(base: number, size: number): void {
    const end = base + size;
    for (const r of this.ramRegions) {
      if (base < r.base + r.size && r.base < end) {
        throw new Error(`region 0x${base.toString(16)}+0x${size.toString(16)} overlaps RAM at 0x${r.base.toString(16)}`);
      }
    }
    for (const r of this.mmio) {
      if (base < r.base + r.size && r.base < end) {
        throw new Error(`region 0x${base.toString(16)}+0x${size.toString(16)} overlaps device "${r.dev.name}"`);
      }
    }
  }
}

function checkRange(base: number, size: number, what: string): void {
  if (!Number.isSafeInteger(base) || !Number.isSafeInteger(size) || base < 0 || size <= 0 || base + size > PA_LIMIT) {
    throw new Error(`${what}: bad range base=${base} size=${size}`);
  }
}
