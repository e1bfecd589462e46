// The memory system calls of a user-mode process (mm/mmap.c, mm/mprotect.c, mm/mremap.c): brk,
// mmap, munmap, mprotect, mremap over the AddressSpace, validated as Linux validates them. Every
// operation costs the pages it touches, never the length asked for; refusals come before any change.
import { type AddressSpace, PAGE, PROT_READ, PROT_WRITE, TASK_SIZE } from './address-space.ts';
import { E, Errno } from './errno.ts';
import { readSome } from './host-io.ts';

/** Copies of file data go through a bounded buffer. */
const CHUNK = 1 << 20;

/** A regular file being mapped: its host descriptor and size. */
export interface MappedFile {
  host: number;
  size: number;
}

export function brk(as: AddressSpace, want: number): number {
  if (want < as.brkStart || want > TASK_SIZE) return as.brk;
  const top = Math.ceil(as.brk / PAGE) * PAGE;
  const need = Math.ceil(want / PAGE) * PAGE;
  if (need > top) {
    if (!as.isFree(top, need - top)) return as.brk;
    if (!as.map(top, need - top, PROT_READ | PROT_WRITE)) return as.brk;
  } else if (need < top) {
    as.unmap(need, top - need);
  }
  as.brk = want;
  return want;
}

function checkProt(prot: number): number {
  // PROT_READ|WRITE|EXEC, arm64's PROT_BTI (0x10); PROT_SEM (0x8) is accepted and meaningless.
  if (prot & ~0x1f) throw new Errno(E.INVAL);
  return (prot & 7) | (prot & 7 ? PROT_READ : 0);
}

export function mmap(as: AddressSpace, addr: number, len: number, protArg: number, flags: number, off: number, fileOf: () => MappedFile | number): number {
  const MAP_FIXED = 0x10;
  const MAP_ANON = 0x20;
  const MAP_FIXED_NOREPLACE = 0x100000;
  if (len === 0) return -E.INVAL;
  const type = flags & 0xf;
  if (type < 1 || type > 3) return -E.INVAL;
  const prot = checkProt(protArg);
  if (off < 0 || off % PAGE !== 0) return -E.INVAL;
  const size = Math.ceil(len / PAGE) * PAGE;
  if (size > TASK_SIZE) return -E.NOMEM;
  const fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0;
  const anon = (flags & MAP_ANON) !== 0;
  if (fixed && (addr % PAGE !== 0)) return -E.INVAL;
  if (fixed && addr + size > TASK_SIZE) return -E.NOMEM;
  let file: MappedFile | null = null;
  if (!anon) {
    const f = fileOf();
    if (typeof f === 'number') return f;
    if (type !== 2 && protArg & PROT_WRITE) return -E.ACCES; // shared writable needs O_RDWR
    file = f;
  }
  if (flags & MAP_FIXED_NOREPLACE && !(flags & MAP_FIXED) && !as.isFree(addr, size)) return -E.EXIST;
  let va: number;
  if (fixed) va = addr;
  else if (addr > 0 && addr % PAGE === 0 && addr + size <= TASK_SIZE && as.isFree(addr, size)) va = addr;
  else va = as.findFree(size);
  if (va < 0) return -E.NOMEM;
  // Pages that will be freed by replacing a fixed range count as available.
  const replaced = fixed ? as.mappedPagesIn(va, size) : 0;
  if (size / PAGE > as.freePages + replaced) return -E.NOMEM;
  if (fixed) as.unmap(va, size);
  if (!as.map(va, size, PROT_READ | PROT_WRITE)) return -E.NOMEM;
  if (file) {
    const fileSize = file.size;
    const end = Math.min(size, Math.max(0, fileSize - off));
    const tmp = Buffer.alloc(Math.min(CHUNK, end));
    for (let done = 0; done < end; ) {
      const n = readSome(file.host, tmp.subarray(0, Math.min(tmp.length, end - done)), off + done);
      if (n === 0) break;
      as.poke(va + done, tmp.subarray(0, n));
      done += n;
    }
  }
  as.protect(va, size, prot);
  return va;
}

export function munmap(as: AddressSpace, addr: number, len: number): number {
  if (addr % PAGE !== 0 || len === 0) return -E.INVAL;
  const size = Math.ceil(len / PAGE) * PAGE;
  if (addr + size > TASK_SIZE) return -E.INVAL;
  as.unmap(addr, size);
  return 0;
}

export function mprotect(as: AddressSpace, addr: number, len: number, protArg: number): number {
  if (addr % PAGE !== 0) return -E.INVAL;
  const prot = checkProt(protArg);
  if (len === 0) return 0;
  const size = Math.ceil(len / PAGE) * PAGE;
  if (addr + size > TASK_SIZE) return -E.NOMEM;
  return as.protect(addr, size, prot) ? 0 : -E.NOMEM;
}

export function mremap(as: AddressSpace, old: number, oldLen: number, newLen: number, flags: number, newAddr: number): number {
  const MAYMOVE = 1;
  const FIXED = 2;
  const DONTUNMAP = 4;
  if (old % PAGE !== 0) return -E.INVAL;
  if (flags & ~(MAYMOVE | FIXED | DONTUNMAP)) return -E.INVAL;
  if (flags & (FIXED | DONTUNMAP) && !(flags & MAYMOVE)) return -E.INVAL;
  if (flags & DONTUNMAP) return -E.INVAL; // private anonymous moves only; not emulated
  const oldSize = Math.ceil(oldLen / PAGE) * PAGE;
  const newSize = Math.ceil(newLen / PAGE) * PAGE;
  if (newSize === 0 || newSize > TASK_SIZE || oldSize > TASK_SIZE) return -E.INVAL;
  if (oldSize === 0) return -E.INVAL; // duplicating a private mapping
  if (!as.isMapped(old, oldSize)) return -E.FAULT;
  const prot = as.protOf(old + oldSize - PAGE);
  if (flags & FIXED) {
    if (newAddr % PAGE !== 0 || newAddr + newSize > TASK_SIZE) return -E.INVAL;
    if (newAddr < old + oldSize && old < newAddr + newSize) return -E.INVAL;
    const keep = Math.min(oldSize, newSize);
    if (newSize - keep > as.freePages + as.mappedPagesIn(newAddr, newSize)) return -E.NOMEM;
    as.unmap(newAddr, newSize);
    as.unmap(old + keep, oldSize - keep);
    as.move(old, keep, newAddr);
    if (newSize > keep && !as.map(newAddr + keep, newSize - keep, prot)) return -E.NOMEM;
    return newAddr;
  }
  if (newSize <= oldSize) {
    as.unmap(old + newSize, oldSize - newSize);
    return old;
  }
  const extra = newSize - oldSize;
  if (extra / PAGE > as.freePages) return -E.NOMEM;
  if (old + newSize <= TASK_SIZE && as.isFree(old + oldSize, extra)) {
    as.map(old + oldSize, extra, prot);
    return old;
  }
  if (!(flags & MAYMOVE)) return -E.NOMEM;
  const to = as.findFree(newSize);
  if (to < 0) return -E.NOMEM;
  as.move(old, oldSize, to);
  as.map(to + oldSize, extra, prot);
  return to;
}
