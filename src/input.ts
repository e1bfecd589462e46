// Reading the user's input files (kernel, initrd, DTB, ELF, config): every input has a size limit
// checked before it is read whole, so `/dev/zero`, a FIFO or a huge file is one clear line (exit 2)
// instead of host memory growing without bound.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UsageError } from './errors.ts';
import type { ImageFile } from '../emulator/boot/linux-image.ts';

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

/** The checks before reading an input: open it, refuse directories, devices and regular files past the limit. */
function openInput(path: string, what: string, limit: number): { fd: number; size: number } {
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
    return { fd, size: st.isFile() ? st.size : -1 };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * The size of regular file `path` after the checks readInput makes (the same one-line errors),
 * without reading it; -1 for a FIFO or pipe, whose size is known only by reading it.
 */
export function inputSize(path: string, what: string, limit: number): number {
  const { fd, size } = openInput(path, what, limit);
  closeSync(fd);
  return size;
}

/**
 * The whole of `path`, at most `limit` bytes. `what` names the input in the message ("kernel",
 * "run-elf"). Regular files are checked by size first and read in one piece (no chunks to copy:
 * each fresh page of a buffer is a host page fault); anything else (devices, FIFOs) is read up to
 * the limit and refused past it.
 */
export function readInput(path: string, what: string, limit: number): Uint8Array {
  const fail = (why: string): never => {
    throw new UsageError(`${what} '${path}': ${why}`);
  };
  const { fd, size } = openInput(path, what, limit);
  const readInto = (buf: Uint8Array, at: number): number => {
    for (;;) {
      try {
        return readSync(fd, buf, at, buf.length - at, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          continue;
        }
        if (code === 'EOF') return 0;
        return fail(code === 'EISDIR' ? 'is a directory' : (e as Error).message);
      }
    }
  };
  try {
    if (size >= 0) {
      // A regular file: its size is known and within the limit (a file shrinking meanwhile gives
      // what is there; one growing, the size it had when checked).
      const out = new Uint8Array(size);
      let total = 0;
      while (total < size) {
        const n = readInto(out, total);
        if (n === 0) break;
        total += n;
      }
      return total === size ? out : out.subarray(0, total);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const buf = new Uint8Array(Math.min(MiB, limit + 1 - total));
      const n = readInto(buf, 0);
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

/** How much of an image file openInputImage reads at once: its header and then some. */
const IMAGE_HEAD = 4096;

/**
 * Regular file `path` as an image read later, straight into its destination (emulator/boot/
 * linux-image.ts ImageFile), after the checks readInput makes (the same one-line errors); null for
 * anything else (a FIFO: read it with readInput). Read into a buffer of its own first, a 33 MB
 * kernel cost that buffer's fresh pages and a copy: ~100 ms of start-up on a 2-core machine.
 */
export function openInputImage(path: string, what: string, limit: number): ImageFile | null {
  const { fd, size } = openInput(path, what, limit);
  const fail = (e: unknown): never => {
    throw new UsageError(`${what} '${path}': ${(e as Error).message}`);
  };
  // Fill `into` from `offset` of the file (a file that shrank meanwhile gives what is there, as
  // readInput does).
  const readAt = (f: number, into: Uint8Array, offset: number): number => {
    let got = 0;
    while (got < into.length) {
      let n = 0;
      try {
        n = readSync(f, into, got, into.length - got, offset + got);
      } catch (e) {
        fail(e);
      }
      if (n === 0) break;
      got += n;
    }
    return got;
  };
  try {
    if (size < 0) return null;
    const head = new Uint8Array(Math.min(size, IMAGE_HEAD));
    const n = readAt(fd, head, 0);
    return {
      size,
      head: head.subarray(0, n),
      read(into: Uint8Array, offset: number): void {
        let f: number;
        try {
          f = openSync(path, 'r');
        } catch (e) {
          return fail(e);
        }
        try {
          readAt(f, into, offset);
        } finally {
          closeSync(f);
        }
      },
    };
  } finally {
    closeSync(fd);
  }
}
