// ELF64 loading for static AArch64 Linux programs (System V gABI, AArch64 ELF ABI). Validates
// what Linux's binfmt_elf validates (and what this loader relies on): a program it cannot place
// is the user's error (exit 2), never an exception from deep inside the loader.
import { UsageError } from '../errors.ts';
import { type AddressSpace, PAGE, PROT_EXEC, PROT_READ, PROT_WRITE, TASK_SIZE } from './address-space.ts';

const EM_AARCH64 = 183;
const PT_LOAD = 1;
const PT_INTERP = 3;
const PT_PHDR = 6;
const PHDR_SIZE = 56;
/** Linux refuses more program headers than fit in 64 KiB (binfmt_elf.c load_elf_phdrs). */
const MAX_PHNUM = Math.floor(65536 / PHDR_SIZE);
/** Static PIE (ET_DYN) load base, like QEMU's and Linux's ELF_ET_DYN_BASE neighbourhood. */
const PIE_BASE = 0x5555550000;

export interface LoadedElf {
  entry: number;
  phdr: number;
  phent: number;
  phnum: number;
  brk: number;
}

const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

/** Load `data` into `as`; `reserved` is a range the program may not overlap (the stack). */
export function loadElf(as: AddressSpace, data: Uint8Array, name: string, reserved?: { start: number; end: number }): LoadedElf {
  const bad = (why: string): never => {
    throw new UsageError(`'${name}' is not a static AArch64 Linux program: ${why}`);
  };
  if (data.length < 64 || data[0] !== 0x7f || data[1] !== 0x45 || data[2] !== 0x4c || data[3] !== 0x46) bad('not an ELF file');
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data[4] !== 2) bad('not 64-bit ELF');
  if (data[5] !== 1) bad('not little-endian');
  const type = dv.getUint16(16, true);
  if (dv.getUint16(18, true) !== EM_AARCH64) bad(`machine ${dv.getUint16(18, true)} is not AArch64`);
  if (type !== 2 && type !== 3) bad('not an executable');
  const phoff = dv.getBigUint64(32, true);
  const phent = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phent !== PHDR_SIZE) bad(`program header entry size ${phent} (ELF64 needs ${PHDR_SIZE})`);
  if (phnum < 1 || phnum > MAX_PHNUM) bad(`${phnum} program headers (1 to ${MAX_PHNUM})`);
  if (phoff + BigInt(phent * phnum) > BigInt(data.length)) bad('truncated program headers');
  const ph = Number(phoff);
  // Static PIE (ET_DYN): load at a fixed base.
  const bias = type === 3 ? BigInt(PIE_BASE) : 0n;

  interface Seg { vaddr: number; off: number; filesz: number; memsz: number; prot: number }
  const segs: Seg[] = [];
  let phdr = 0;
  let firstLoad = -1;
  for (let i = 0; i < phnum; i++) {
    const o = ph + i * phent;
    const ptype = dv.getUint32(o, true);
    const flags = dv.getUint32(o + 4, true);
    const off = dv.getBigUint64(o + 8, true);
    const vaddr = dv.getBigUint64(o + 16, true) + bias;
    const filesz = dv.getBigUint64(o + 32, true);
    const memsz = dv.getBigUint64(o + 40, true);
    if (ptype === PT_INTERP) bad('dynamically linked (build with -static)');
    if (ptype === PT_PHDR && vaddr < BigInt(TASK_SIZE)) phdr = Number(vaddr);
    if (ptype !== PT_LOAD) continue;
    if (filesz > memsz) bad(`segment ${i} has p_filesz ${hex(filesz)} > p_memsz ${hex(memsz)}`);
    if (off + filesz > BigInt(data.length)) bad(`segment ${i} is truncated (file offset ${hex(off)} + ${hex(filesz)} bytes)`);
    if (vaddr + memsz > BigInt(TASK_SIZE)) bad(`segment ${i} at ${hex(vaddr)} + ${hex(memsz)} bytes lies outside the user address space (below ${hex(TASK_SIZE)})`);
    const seg: Seg = { vaddr: Number(vaddr), off: Number(off), filesz: Number(filesz), memsz: Number(memsz), prot: (flags & 4 ? PROT_READ : 0) | (flags & 2 ? PROT_WRITE : 0) | (flags & 1 ? PROT_EXEC : 0) };
    if (Math.ceil(((seg.vaddr % PAGE) + seg.memsz) / PAGE) > as.freePages) {
      bad(`segment ${i} needs ${Math.ceil(seg.memsz / 2 ** 20)} MiB, more than the ${Math.floor((as.freePages * PAGE) / 2 ** 20)} MiB of memory a process gets`);
    }
    if (reserved && seg.vaddr < reserved.end && seg.vaddr + seg.memsz > reserved.start) bad(`segment ${i} at ${hex(seg.vaddr)} overlaps the stack`);
    if (firstLoad < 0) firstLoad = seg.vaddr - seg.off;
    segs.push(seg);
  }
  if (segs.length === 0) bad('no loadable segments');
  // Pages needed (an upper bound: segments sharing a page count it twice) against what is free.
  const pages = segs.reduce((n, s) => n + Math.ceil(((s.vaddr % PAGE) + s.memsz) / PAGE), 0);
  if (pages > as.freePages) {
    bad(`its segments need ${Math.ceil((pages * PAGE) / 2 ** 20)} MiB, more than the ${Math.floor((as.freePages * PAGE) / 2 ** 20)} MiB of memory a process gets`);
  }
  let brk = 0;
  for (const s of segs) {
    const start = s.vaddr - (s.vaddr % PAGE);
    if (!as.map(start, s.vaddr + s.memsz - start, s.prot | PROT_READ)) bad(`its segments do not fit in the memory a process gets`);
    as.poke(s.vaddr, data.subarray(s.off, s.off + s.filesz));
    brk = Math.max(brk, s.vaddr + s.memsz);
  }
  if (!phdr) phdr = firstLoad + ph;
  const entry = dv.getBigUint64(24, true) + bias;
  return { entry: Number(BigInt.asUintN(64, entry)), phdr, phent, phnum, brk: Math.ceil(brk / PAGE) * PAGE };
}
