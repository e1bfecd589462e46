// ELF64 loading for static AArch64 Linux programs (System V gABI, AArch64 ELF ABI).
import { UsageError } from '../errors.ts';
import { type AddressSpace, PAGE, PROT_EXEC, PROT_READ, PROT_WRITE } from './address-space.ts';

const EM_AARCH64 = 183;
const PT_LOAD = 1;
const PT_INTERP = 3;
const PT_PHDR = 6;

export interface LoadedElf {
  entry: number;
  phdr: number;
  phent: number;
  phnum: number;
  brk: number;
}

export function loadElf(as: AddressSpace, data: Uint8Array, name: string): LoadedElf {
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
  const phoff = Number(dv.getBigUint64(32, true));
  const phent = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phoff + phent * phnum > data.length) bad('truncated program headers');
  // Static PIE (ET_DYN): load at a fixed base.
  const bias = type === 3 ? 0x5555550000 : 0;
  let brk = 0;
  let phdr = 0;
  let firstLoad = -1;
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phent;
    const ptype = dv.getUint32(o, true);
    const flags = dv.getUint32(o + 4, true);
    const off = Number(dv.getBigUint64(o + 8, true));
    const vaddr = Number(dv.getBigUint64(o + 16, true)) + bias;
    const filesz = Number(dv.getBigUint64(o + 32, true));
    const memsz = Number(dv.getBigUint64(o + 40, true));
    if (ptype === PT_INTERP) bad('dynamically linked (build with -static)');
    if (ptype === PT_PHDR) phdr = vaddr;
    if (ptype !== PT_LOAD) continue;
    if (off + filesz > data.length) bad('truncated segment');
    if (firstLoad < 0) firstLoad = vaddr - off;
    const prot = (flags & 4 ? PROT_READ : 0) | (flags & 2 ? PROT_WRITE : 0) | (flags & 1 ? PROT_EXEC : 0);
    const start = vaddr - (vaddr % PAGE);
    as.map(start, vaddr + memsz - start, prot | PROT_READ);
    as.poke(vaddr, data.subarray(off, off + filesz));
    brk = Math.max(brk, vaddr + memsz);
  }
  if (firstLoad < 0) bad('no loadable segments');
  if (!phdr) phdr = firstLoad + phoff;
  return { entry: Number(dv.getBigUint64(24, true)) + bias, phdr, phent, phnum, brk: Math.ceil(brk / PAGE) * PAGE };
}
