// Reading the user's input files (kernel, initrd, DTB, ELF, config): every input has a size limit
// checked before it is read whole, so `/dev/zero`, a FIFO or a huge file is one clear line (exit 2)
// instead of host memory growing without bound.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UsageError } from './errors.ts';

const MiB = 2 ** 20;

/** Largest accepted size of each kind of input file (bytes). */
export const INPUT_LIMITS = {
  kernel: 128 * MiB,
  initrd: 512 * MiB,
  dtb: 2 * MiB,
  elf: 256 * MiB,
  config: 1 * MiB,
} as const;

export function formatSize(bytes: number): string {
  return bytes % MiB === 0 ? `${bytes / MiB} MiB` : bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

/**
 * The whole of `path`, at most `limit` bytes. `what` names the input in the message ("kernel",
 * "run-elf"). Regular files are checked by size first; anything else (devices, FIFOs) is read up
 * to the limit and refused past it.
 */
export function readInput(path: string, what: string, limit: number): Uint8Array {
  const fail = (why: string): never => {
    throw new UsageError(`${what} '${path}': ${why}`);
  };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) fail('is a directory');
    // A character device (/dev/zero, a terminal) is never an image; FIFOs and pipes are read up to the limit.
    if (st.isCharacterDevice() || st.isSocket()) fail('is a device, not a file');
    if (st.isFile() && st.size > limit) fail(`${formatSize(st.size)} is larger than the ${formatSize(limit)} accepted`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(MiB, limit + 1 - total));
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          continue;
        }
        if (code === 'EOF') break;
        return fail(code === 'EISDIR' ? 'is a directory' : (e as Error).message);
      }
      if (n === 0) break;
      total += n;
      if (total > limit) fail(`larger than the ${formatSize(limit)} accepted (a pipe that never ends?)`);
      chunks.push(buf.subarray(0, n));
    }
    const out = new Uint8Array(total);
    let o = 0;
    for (const c of chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}
