// Minimal static AArch64 ELF executables for tests: code at 0x400000 (R+X, the ELF header and
// program headers in front of it, like ld's layout) and a zero-filled R+W data segment.
export const CODE_BASE = 0x400000;
export const DATA_BASE = 0x600000;

export function makeElf(code: Uint32Array, data: Uint8Array = new Uint8Array(8192)): Uint8Array {
  const hdr = 64 + 2 * 56;
  const codeOff = 0x1000;
  const dataOff = codeOff + Math.ceil((code.length * 4) / 0x1000) * 0x1000;
  const out = new Uint8Array(dataOff + data.length);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 183, true); // EM_AARCH64
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, BigInt(CODE_BASE + codeOff), true); // e_entry
  dv.setBigUint64(32, 64n, true); // e_phoff
  dv.setUint16(52, 64, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, 2, true);
  const ph = (i: number, flags: number, off: number, vaddr: number, filesz: number, memsz: number): void => {
    const o = 64 + i * 56;
    dv.setUint32(o, 1, true); // PT_LOAD
    dv.setUint32(o + 4, flags, true);
    dv.setBigUint64(o + 8, BigInt(off), true);
    dv.setBigUint64(o + 16, BigInt(vaddr), true);
    dv.setBigUint64(o + 24, BigInt(vaddr), true);
    dv.setBigUint64(o + 32, BigInt(filesz), true);
    dv.setBigUint64(o + 40, BigInt(memsz), true);
    dv.setBigUint64(o + 48, 0x1000n, true);
  };
  ph(0, 5, 0, CODE_BASE, codeOff + code.length * 4, codeOff + code.length * 4);
  ph(1, 6, dataOff, DATA_BASE, data.length, data.length);
  if (hdr > codeOff) throw new Error('headers overflow');
  new Uint8Array(out.buffer, codeOff, code.length * 4).set(new Uint8Array(code.buffer, code.byteOffset, code.length * 4));
  out.set(data, dataOff);
  return out;
}

/** MOVZ/MOVK sequence loading the 64-bit `v` into X`rd`. */
export function movImm(rd: number, v: bigint): number[] {
  const u = BigInt.asUintN(64, v);
  const out: number[] = [];
  for (let hw = 0; hw < 4; hw++) {
    const imm = Number((u >> BigInt(hw * 16)) & 0xffffn);
    out.push(((hw === 0 ? 0xd2800000 : 0xf2800000) | (hw << 21) | (imm << 5) | rd) >>> 0);
  }
  return out;
}

export const SVC0 = 0xd4000001;

/** exit(code) */
export function exitCall(code: number): number[] {
  return [...movImm(0, BigInt(code)), ...movImm(8, 93n), SVC0];
}
