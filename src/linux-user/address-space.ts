// A Linux process's address space for user-mode emulation: virtual pages mapped onto pages of
// one flat physical memory, with R/W/X permissions, mmap placement and brk. Translation faults
// raise the architectural data/instruction abort, which the syscall layer turns into SIGSEGV.
//
// Every operation on a range costs at most the number of pages mapped (or to be mapped) in it,
// never the length asked for: a guest may pass any 64-bit length (munmap of 2^47 bytes is legal).
// Physical memory is finite (1 GiB by default): map() refuses with `false` before touching
// anything when the pages it needs are not free, and the syscalls answer ENOMEM.
import { Cpu } from '../../emulator/arm64/cpu.ts';
import { EC } from '../../emulator/arm64/ec.ts';
import { FlatMemory } from '../../emulator/arm64/flat-memory.ts';
import { Access, type AddressTranslator } from '../../emulator/arm64/memory.ts';

export const PAGE = 4096;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
/** User virtual addresses are [0, 2^48) (arm64 Linux with 48-bit VA, TASK_SIZE). */
export const TASK_SIZE = 2 ** 48;
const TASK_PAGES = TASK_SIZE / PAGE;

/**
 * Sorted, disjoint, merged page-number intervals [start, end): which virtual pages are mapped,
 * kept beside the page map so that range questions cost the number of intervals, not pages.
 */
export class PageRanges {
  private starts: number[] = [];
  private ends: number[] = [];

  /** Index of the first interval whose end is > p. */
  private first(p: number): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ends[mid]! <= p) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(s: number, e: number): void {
    if (s >= e) return;
    const i = this.first(s - 1);
    // Merge every interval that overlaps or touches [s, e).
    let j = i;
    while (j < this.starts.length && this.starts[j]! <= e) {
      s = Math.min(s, this.starts[j]!);
      e = Math.max(e, this.ends[j]!);
      j++;
    }
    this.starts.splice(i, j - i, s);
    this.ends.splice(i, j - i, e);
  }

  remove(s: number, e: number): void {
    if (s >= e) return;
    const i = this.first(s);
    let j = i;
    const keepS: number[] = [];
    const keepE: number[] = [];
    while (j < this.starts.length && this.starts[j]! < e) {
      if (this.starts[j]! < s) {
        keepS.push(this.starts[j]!);
        keepE.push(s);
      }
      if (this.ends[j]! > e) {
        keepS.push(e);
        keepE.push(this.ends[j]!);
      }
      j++;
    }
    this.starts.splice(i, j - i, ...keepS);
    this.ends.splice(i, j - i, ...keepE);
  }

  /** The mapped parts of [s, e), as intervals. */
  overlaps(s: number, e: number): [number, number][] {
    const out: [number, number][] = [];
    for (let i = this.first(s); i < this.starts.length && this.starts[i]! < e; i++) {
      out.push([Math.max(s, this.starts[i]!), Math.min(e, this.ends[i]!)]);
    }
    return out;
  }

  count(s: number, e: number): number {
    let n = 0;
    for (const [a, b] of this.overlaps(s, e)) n += b - a;
    return n;
  }

  /** Lowest start >= from of `n` free pages below `limit`, or -1. */
  gap(from: number, n: number, limit: number): number {
    let s = from;
    for (let i = this.first(from); i < this.starts.length; i++) {
      if (this.starts[i]! >= s + n) break;
      s = Math.max(s, this.ends[i]!);
    }
    return s + n <= limit ? s : -1;
  }
}

export class AddressSpace implements AddressTranslator {
  readonly pageCacheable = true;
  readonly mem: FlatMemory;
  /** Virtual page number → physical page number * 8 + prot. */
  private readonly pages = new Map<number, number>();
  private readonly ranges = new PageRanges();
  private nextPhys = 1; // physical page 0 stays unused
  private readonly freePhys: number[] = [];
  cpu: Cpu | null = null;
  brkStart = 0;
  brk = 0;
  mmapBase = 0x7f0000000000;

  constructor(physBytes = 1 << 30) {
    this.mem = new FlatMemory(physBytes);
  }

  /** Physical pages still available to map(). */
  get freePages(): number {
    return this.mem.size / PAGE - this.nextPhys + this.freePhys.length;
  }

  /** Pages currently mapped. */
  get mappedPages(): number {
    return this.pages.size;
  }

  translate(va: number, access: Access): number {
    const vpn = Math.floor(va / PAGE);
    const e = this.pages.get(vpn);
    const need = access === Access.Write ? PROT_WRITE : access === Access.Exec ? PROT_EXEC : PROT_READ;
    if (e === undefined || (e & need) === 0) {
      const cpu = this.cpu!;
      // DFSC/IFSC: translation fault (level 3) when unmapped, permission fault (level 3) otherwise.
      const fsc = e === undefined ? 0x07 : 0x0f;
      if (access === Access.Exec) return cpu.raise(EC.IABT_LOWER, fsc, va, cpu.pc);
      return cpu.raise(EC.DABT_LOWER, fsc | (access === Access.Write ? 1 << 6 : 0), va, cpu.pc);
    }
    return Math.floor(e / 8) * PAGE + (va - vpn * PAGE);
  }

  /** Page-number interval of [va, va+len), clipped to what a user address can be. */
  private span(va: number, len: number): [number, number] {
    const s = Math.max(0, Math.floor(va / PAGE));
    const e = Math.min(TASK_PAGES, Math.ceil((va + len) / PAGE));
    return [s, Math.max(s, e)];
  }

  /** True when every page of [va, va+len) is mapped. */
  isMapped(va: number, len: number): boolean {
    if (va < 0 || va + len > TASK_SIZE) return false;
    const [s, e] = this.span(va, len);
    return this.ranges.count(s, e) === e - s;
  }

  /** How many pages of [va, va+len) are mapped. */
  mappedPagesIn(va: number, len: number): number {
    const [s, e] = this.span(va, len);
    return this.ranges.count(s, e);
  }

  /** True when no page of [va, va+len) is mapped. */
  isFree(va: number, len: number): boolean {
    const [s, e] = this.span(va, len);
    return this.ranges.count(s, e) === 0;
  }

  /**
   * Map [va, va+len) with fresh zeroed pages (existing pages keep their contents, get `prot`).
   * False, with nothing changed, when the range leaves user space or physical memory runs out.
   */
  map(va: number, len: number, prot: number): boolean {
    if (!(va >= 0 && len >= 0 && va + len <= TASK_SIZE)) return false;
    const [s, e] = this.span(va, len);
    if (e - s - this.ranges.count(s, e) > this.freePages) return false;
    for (let p = s; p < e; p++) {
      const old = this.pages.get(p);
      if (old !== undefined) {
        this.pages.set(p, (old & ~7) | prot);
        continue;
      }
      const phys = this.freePhys.pop() ?? this.nextPhys++;
      this.mem.ramBytes.fill(0, phys * PAGE, (phys + 1) * PAGE);
      this.pages.set(p, phys * 8 + prot);
    }
    this.ranges.add(s, e);
    this.cpu?.flushTlb();
    return true;
  }

  unmap(va: number, len: number): void {
    const [s, e] = this.span(va, len);
    for (const [a, b] of this.ranges.overlaps(s, e)) {
      for (let p = a; p < b; p++) {
        const old = this.pages.get(p)!;
        this.mem.codeCache.invalidate(Math.floor(old / 8) * PAGE, PAGE);
        this.freePhys.push(Math.floor(old / 8));
        this.pages.delete(p);
      }
    }
    this.ranges.remove(s, e);
    this.cpu?.flushTlb();
  }

  /** Change the protection of [va, va+len); false (nothing changed) if any page is unmapped. */
  protect(va: number, len: number, prot: number): boolean {
    if (!this.isMapped(va, len)) return false;
    const [s, e] = this.span(va, len);
    for (let p = s; p < e; p++) this.pages.set(p, (this.pages.get(p)! & ~7) | prot);
    this.cpu?.flushTlb();
    return true;
  }

  /** Move the pages of [from, from+len) to `to` (no copy: the page table entries move). */
  move(from: number, len: number, to: number): void {
    const [s, e] = this.span(from, len);
    const t = Math.floor(to / PAGE);
    const moved: [number, number][] = [];
    for (let p = s; p < e; p++) {
      const v = this.pages.get(p);
      if (v !== undefined) moved.push([p - s + t, v]);
      this.pages.delete(p);
    }
    this.ranges.remove(s, e);
    for (const [p, v] of moved) this.pages.set(p, v);
    this.ranges.add(t, t + (e - s));
    this.cpu?.flushTlb();
  }

  /** Protection of the page holding va, or -1 when unmapped. */
  protOf(va: number): number {
    const e = this.pages.get(Math.floor(va / PAGE));
    return e === undefined ? -1 : e & 7;
  }

  /** First free range of `len` bytes at or above `hint` (default: the mmap base), or -1. */
  findFree(len: number, hint = 0): number {
    const pages = Math.ceil(len / PAGE);
    if (!(pages > 0 && pages <= TASK_PAGES)) return -1;
    const from = hint > 0 && hint < TASK_SIZE ? Math.floor(hint / PAGE) : Math.floor(this.mmapBase / PAGE);
    let s = this.ranges.gap(from, pages, TASK_PAGES);
    if (s < 0 && from > 1) s = this.ranges.gap(16, pages, TASK_PAGES); // wrap around, above page 16
    return s < 0 ? -1 : s * PAGE;
  }

  // ---- host-side copies (syscalls) ----

  write(va: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; ) {
      const pa = this.translateHost(va + i, PROT_WRITE);
      const n = Math.min(PAGE - ((va + i) % PAGE), data.length - i);
      this.mem.ramBytes.set(data.subarray(i, i + n), pa);
      this.mem.codeCache.invalidate(pa, n);
      i += n;
    }
  }

  /** Copy in without permission checks (loader). */
  poke(va: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; ) {
      const e = this.pages.get(Math.floor((va + i) / PAGE))!;
      const pa = Math.floor(e / 8) * PAGE + ((va + i) % PAGE);
      const n = Math.min(PAGE - ((va + i) % PAGE), data.length - i);
      this.mem.ramBytes.set(data.subarray(i, i + n), pa);
      i += n;
    }
  }

  /** Guest bytes [va, va+len): EfaultError if any is unreadable. Callers bound `len`. */
  read(va: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; ) {
      const pa = this.translateHost(va + i, PROT_READ);
      const n = Math.min(PAGE - ((va + i) % PAGE), len - i);
      out.set(this.mem.ramBytes.subarray(pa, pa + n), i);
      i += n;
    }
    return out;
  }

  /** The 32-bit word at va if its page is mapped (for fault reports), else undefined. */
  peekWord(va: number): number | undefined {
    if (va % 4 !== 0) return undefined;
    const e = this.pages.get(Math.floor(va / PAGE));
    if (e === undefined) return undefined;
    return this.mem.ram.getUint32(Math.floor(e / 8) * PAGE + (va % PAGE), true);
  }

  /** A NUL-terminated string; ENAMETOOLONG-style callers pass `max` (Linux PATH_MAX 4096). */
  readCString(va: number, max = 4096): string {
    const bytes: number[] = [];
    for (let i = 0; i < max; i++) {
      const b = this.mem.ramBytes[this.translateHost(va + i, PROT_READ)]!;
      if (b === 0) break;
      bytes.push(b);
    }
    return Buffer.from(bytes).toString('utf8');
  }

  /** Host access check: throws EfaultError for a bad user pointer. */
  private translateHost(va: number, need: number): number {
    if (!(va >= 0 && va < TASK_SIZE)) throw new EfaultError();
    const vpn = Math.floor(va / PAGE);
    const e = this.pages.get(vpn);
    if (e === undefined || (e & need) === 0) throw new EfaultError();
    return Math.floor(e / 8) * PAGE + (va - vpn * PAGE);
  }
}

export class EfaultError extends Error {}
