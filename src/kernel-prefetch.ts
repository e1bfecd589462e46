// The kernel the launcher started to decompress before the bundle loaded (bin/prefetch.js): taken
// by a --native boot when it is the file the boot read (same path, same size), else ignored.
import { resolve } from 'node:path';
import { gzipError, MAX_KERNEL_BYTES, maybeGunzipAsync } from '../emulator/boot/linux-image.ts';

const KEY = Symbol.for('shyper-emu.kernel-prefetch');

interface Prefetch {
  path: string;
  /** The file's size when read, and its bytes decompressed (or as read, when not gzip). */
  promise: Promise<{ size: number; out: Uint8Array }>;
}

/**
 * The decompressed kernel at `path`, a file of `size` bytes (-1: not a regular file): the
 * launcher's when it prefetched this file, else read (`read`, with its size limit and errors) and
 * decompressed now on zlib's threads (linux-image.ts maybeGunzipAsync), with the same result and
 * the same errors either way. The file is read here only when the launcher's bytes cannot be used
 * (reading it again cost ~10 ms of a kit boot's start).
 */
export function unpackKernel(path: string, size: number, read: () => Uint8Array): Promise<Uint8Array> {
  const registry = globalThis as unknown as Record<symbol, Prefetch | undefined>;
  const p = registry[KEY];
  if (p === undefined || p.path !== resolve(path) || size < 0) return maybeGunzipAsync(read());
  registry[KEY] = undefined;
  return p.promise.then(
    (r) => {
      // The file changed since the launcher read it: decompress what is there now.
      if (r.size !== size) return maybeGunzipAsync(read());
      return new Uint8Array(r.out.buffer, r.out.byteOffset, r.out.byteLength);
    },
    (e: NodeJS.ErrnoException) => {
      // The launcher could not read it (the checks here could open it): read and decompress here.
      if (e.syscall !== undefined) return maybeGunzipAsync(read());
      throw gzipError(e, MAX_KERNEL_BYTES);
    },
  );
}
