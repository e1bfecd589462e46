// The arm64 Linux structs system calls fill in (include/uapi/asm-generic/stat.h struct stat,
// linux_dirent64, struct new_utsname), encoded as the guest reads them: little-endian bytes.
import type { Stats } from 'node:fs';
import { hostname, version } from 'node:os';

/** struct stat (asm-generic, 128 bytes). */
export function statBytes(s: Stats): Uint8Array {
  const b = new Uint8Array(128);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(s.dev), true);
  dv.setBigUint64(8, BigInt(s.ino), true);
  dv.setUint32(16, s.mode, true);
  dv.setUint32(20, s.nlink, true);
  dv.setUint32(24, s.uid, true);
  dv.setUint32(28, s.gid, true);
  dv.setBigUint64(32, BigInt(s.rdev), true);
  dv.setBigInt64(48, BigInt(s.size), true);
  dv.setInt32(56, s.blksize, true);
  dv.setBigInt64(64, BigInt(s.blocks), true);
  const t = (o: number, ms: number): void => {
    dv.setBigInt64(o, BigInt(Math.floor(ms / 1000)), true);
    dv.setBigInt64(o + 8, BigInt(Math.floor((ms % 1000) * 1e6)), true);
  };
  t(72, s.atimeMs);
  t(88, s.mtimeMs);
  t(104, s.ctimeMs);
  return b;
}

/**
 * linux_dirent64 records for entries[pos..] that fit in `len` bytes, and the position after them;
 * null when not even one fits (getdents64 answers EINVAL).
 */
export function direntBytes(entries: readonly string[], pos: number, len: number): { bytes: Uint8Array; next: number } | null {
  const out: number[] = [];
  while (pos < entries.length) {
    const name = Buffer.from(entries[pos]! + '\0');
    const reclen = Math.ceil((19 + name.length) / 8) * 8;
    if (out.length + reclen > len) {
      if (out.length === 0) return null;
      break;
    }
    const rec = new Uint8Array(reclen);
    const dv = new DataView(rec.buffer);
    dv.setBigUint64(0, BigInt(pos + 1), true);
    dv.setBigUint64(8, BigInt(pos + 1), true);
    dv.setUint16(16, reclen, true);
    rec[18] = 0; // DT_UNKNOWN: callers stat
    rec.set(name, 19);
    for (const b of rec) out.push(b);
    pos++;
  }
  return { bytes: Uint8Array.from(out), next: pos };
}

/** struct new_utsname: six 65-byte fields. */
export function utsnameBytes(): Uint8Array {
  const fields = ['Linux', hostname(), '6.1.0', version(), 'aarch64', '(none)'];
  const b = new Uint8Array(65 * 6);
  fields.forEach((s, i) => b.set(Buffer.from(s).subarray(0, 64), i * 65));
  return b;
}
