// A Linux process's address space for user-mode emulation: virtual pages mapped onto pages of
// one flat physical memory, with R/W/X permissions, mmap placement and brk. Translation faults
// raise the architectural data/instruction abort, which the syscall layer turns into SIGSEGV.
import { Cpu } from '../../emulator/arm64/cpu.ts';
import { EC } from '../../emulator/arm64/ec.ts';
import { FlatMemory } from '../../emulator/arm64/flat-memory.ts';
import { Access, type AddressTranslator } from '../../emulator/arm64/memory.ts';

export const PAGE = 4096;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

export class AddressSpace implements AddressTranslator {
  readonly pageCacheable = true;
  readonly mem: FlatMemory;
  /** Virtual page number → physical page number * 8 + prot. */
  private readonly pages = new Map<number, number>();
  private nextPhys = 1; // physical page 0 stays unused
  private readonly freePhys: number[] = [];
  cpu: Cpu | null = null;
  brkStart = 0;
  brk = 0;
  mmapBase = 0x7f0000000000;

  constructor(physBytes = 1 << 30) {
    this.mem = new FlatMemory(physBytes);
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

  isMapped(va: number, len: number): boolean {
    for (let p = Math.floor(va / PAGE); p * PAGE < va + len; p++) if (!this.pages.has(p)) return false;
    return true;
  }

  /** Map [va, va+len) with fresh zeroed pages (existing pages keep their contents, get `prot`). */
  map(va: number, len: number, prot: number): void {
    for (let p = Math.floor(va / PAGE); p * PAGE < va + len; p++) {
      const e = this.pages.get(p);
      if (e !== undefined) {
        this.pages.set(p, (e & ~7) | prot);
        continue;
      }
      const phys = this.freePhys.pop() ?? this.nextPhys++;
      if ((phys + 1) * PAGE > this.mem.size) throw new Error('out of emulated memory');
      this.mem.ramBytes.fill(0, phys * PAGE, (phys + 1) * PAGE);
      this.pages.set(p, phys * 8 + prot);
    }
    this.cpu?.flushTlb();
  }

  unmap(va: number, len: number): void {
    for (let p = Math.floor(va / PAGE); p * PAGE < va + len; p++) {
      const e = this.pages.get(p);
      if (e === undefined) continue;
      this.mem.codeCache.invalidate(Math.floor(e / 8) * PAGE, PAGE);
      this.freePhys.push(Math.floor(e / 8));
      this.pages.delete(p);
    }
    this.cpu?.flushTlb();
  }

  protect(va: number, len: number, prot: number): boolean {
    for (let p = Math.floor(va / PAGE); p * PAGE < va + len; p++) if (!this.pages.has(p)) return false;
    for (let p = Math.floor(va / PAGE); p * PAGE < va + len; p++) this.pages.set(p, (this.pages.get(p)! & ~7) | prot);
    this.cpu?.flushTlb();
    return true;
  }

  /** First free range of `len` bytes at or above the mmap base (top-down like Linux is not needed). */
  findFree(len: number, hint = 0): number {
    const pages = Math.ceil(len / PAGE);
    let start = hint ? Math.floor(hint / PAGE) : Math.floor(this.mmapBase / PAGE);
    for (;;) {
      let ok = true;
      for (let k = 0; k < pages; k++) {
        if (this.pages.has(start + k)) {
          start = start + k + 1;
          ok = false;
          break;
        }
      }
      if (ok) return start * PAGE;
    }
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
      this.mem.codeCache.invalidate(pa, n);
      i += n;
    }
  }

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

  readCString(va: number, max = 4096): string {
    const bytes: number[] = [];
    for (let i = 0; i < max; i++) {
      const b = this.mem.ramBytes[this.translateHost(va + i, PROT_READ)]!;
      if (b === 0) break;
      bytes.push(b);
    }
    return Buffer.from(bytes).toString('utf8');
  }

  /** Host access check: throws EFAULT (as a number) for a bad user pointer. */
  private translateHost(va: number, need: number): number {
    const vpn = Math.floor(va / PAGE);
    const e = this.pages.get(vpn);
    if (e === undefined || (e & need) === 0) throw new EfaultError();
    return Math.floor(e / 8) * PAGE + (va - vpn * PAGE);
  }
}

export class EfaultError extends Error {}
