// The kernel the launcher started to decompress before the bundle loaded (bin/prefetch.js): taken
// by a --native boot when it is the file the boot read (same path, same size), else ignored.
import { resolve } from 'node:path';
import { gzipError, MAX_KERNEL_BYTES, maybeGunzipAsync } from '../emulator/boot/linux-image.ts';

const KEY = Symbol.for('shyper-emu.kernel-prefetch');

interface Prefetch {
  path: string;
  promise: Promise<{ size: number; out: Buffer | null }>;
}

/**
 * The decompressed kernel for `path`, whose bytes the boot read (`data`): the launcher's when it
 * prefetched this file, else decompressed now on zlib's threads (linux-image.ts maybeGunzipAsync),
 * with the same result and the same errors either way.
 */
export function unpackKernel(path: string, data: Uint8Array): Promise<Uint8Array> {
  const registry = globalThis as unknown as Record<symbol, Prefetch | undefined>;
  const p = registry[KEY];
  if (p === undefined || p.path !== resolve(path)) return maybeGunzipAsync(data);
  registry[KEY] = undefined;
  return p.promise.then(
    (r) => {
      // The file changed between the two reads: decompress what the boot read.
      if (r.size !== data.length) return maybeGunzipAsync(data);
      return r.out === null ? data : new Uint8Array(r.out.buffer, r.out.byteOffset, r.out.byteLength);
    },
    (e: NodeJS.ErrnoException) => {
      // The launcher could not read it (the boot could: it got here): decompress what the boot read.
      if (e.syscall !== undefined) return maybeGunzipAsync(data);
      throw gzipError(e, MAX_KERNEL_BYTES);
    },
  );
}
