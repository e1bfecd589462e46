// The kernel the launcher started to decompress before the bundle loaded (bin/prefetch.js): taken
// by a --native boot when it is the file the boot read (same path, same size), else ignored. The
// launcher may instead name the kernel cache's decompressed copy of it, read like an Image.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { gzipError, ImageError, type ImageFile, isGzip, MAX_KERNEL_BYTES, maybeGunzipAsync } from '../emulator/boot/linux-image.ts';

const KEY = Symbol.for('shyper-emu.kernel-prefetch');

interface Prefetch {
  path: string;
  /**
   * The file's size when read, and its bytes decompressed (or as read, when not gzip; null: not
   * gzip, not read, or in `file`, the kernel cache's copy of them).
   */
  promise: Promise<{ size: number; out: Uint8Array | null; file?: string }>;
}

/**
 * The kernel cache's copy at `path` as an image file, open from now until its last byte is read
 * (another run dropping the copy meanwhile cannot take it away); null if it cannot be opened.
 */
function cachedImage(path: string): ImageFile | null {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const head = new Uint8Array(Math.min(size, 4096));
    if (readSync(fd, head, 0, head.length, 0) !== head.length) throw new Error('short');
    const f = fd;
    return {
      size,
      head,
      // (Called for each piece of RAM the image lands in, in order.)
      read(into: Uint8Array, offset: number): void {
        for (let got = 0; got < into.length; ) {
          const n = readSync(f, into, got, into.length - got, offset + got);
          if (n === 0) throw new ImageError(`the kernel cache's ${path} is shorter than it was`);
          got += n;
        }
        if (offset + into.length >= size) closeSync(f);
      },
    };
  } catch {
    if (fd >= 0) closeSync(fd);
    return null;
  }
}

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
      if (r.size !== size) return own();
      if (r.file !== undefined) return cachedImage(r.file) ?? own();
      if (r.out === null) return own();
      return new Uint8Array(r.out.buffer, r.out.byteOffset, r.out.byteLength);
    },
    (e: NodeJS.ErrnoException) => {
      // The launcher could not read it (the checks here could open it): read and decompress here.
      if (e.syscall !== undefined) return own();
      throw gzipError(e, MAX_KERNEL_BYTES);
    },
  );
}
