// The kernel the launcher started to decompress before the bundle loaded (bin/prefetch.js): taken
// by a --native boot when it is the file the boot read (same path, same size), else ignored.
import { resolve } from 'node:path';
import { gzipError, type ImageFile, isGzip, MAX_KERNEL_BYTES, maybeGunzipAsync } from '../emulator/boot/linux-image.ts';

const KEY = Symbol.for('shyper-emu.kernel-prefetch');

interface Prefetch {
  path: string;
  /** The file's size when read, and its bytes decompressed (or as read, when not gzip; null: not gzip, not read). */
  promise: Promise<{ size: number; out: Uint8Array | null }>;
}

/**
 * The kernel at `path`, a file of `size` bytes (-1: not a regular file): decompressed, the
 * launcher's bytes when it prefetched this file, else read (`read`, with its size limit and errors)
 * and decompressed now on zlib's threads (linux-image.ts maybeGunzipAsync), with the same result
 * and the same errors either way; or, when it is not gzip, the file itself (`open`: read straight
 * into guest RAM by Machine.loadLinux; null for what is not a regular file). The file is read here
 * only when the launcher's bytes cannot be used (reading it again cost ~10 ms of a kit boot's start).
 */
export function unpackKernel(path: string, size: number, read: () => Uint8Array, open: () => ImageFile | null = () => null): Promise<Uint8Array | ImageFile> {
  const registry = globalThis as unknown as Record<symbol, Prefetch | undefined>;
  const p = registry[KEY];
  // An uncompressed regular file is left in the file; anything else is read and decompressed.
  const own = (): Promise<Uint8Array | ImageFile> => {
    const file = size < 0 ? null : open();
    return file !== null && !isGzip(file.head) ? Promise.resolve(file) : maybeGunzipAsync(read());
  };
  if (p === undefined || p.path !== resolve(path) || size < 0) return own();
  registry[KEY] = undefined;
  return p.promise.then(
    (r) => {
      // The file changed since the launcher read it (or was not read there): decide here.
      if (r.size !== size || r.out === null) return own();
      return new Uint8Array(r.out.buffer, r.out.byteOffset, r.out.byteLength);
    },
    (e: NodeJS.ErrnoException) => {
      // The launcher could not read it (the checks here could open it): read and decompress here.
      if (e.syscall !== undefined) return own();
      throw gzipError(e, MAX_KERNEL_BYTES);
    },
  );
}
