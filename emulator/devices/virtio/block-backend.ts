// Where a virtual disk's bytes live on the host: a raw image file written through on every
// request (fs.writeSync, so a run that ends by Ctrl-C or a kill loses nothing the guest was told
// is written; FLUSH adds an fsync for the host's own crash safety), or a buffer in memory (a
// gzip-compressed image, tests). virtio-blk and, later, the mediated disk serve requests from it.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';

export interface BlockBackend {
  /** Size in bytes. */
  readonly size: number;
  readonly readOnly: boolean;
  /** Fills buf from byte `offset` (past the end: zeros). Throws on a host I/O error. */
  read(offset: number, buf: Uint8Array): void;
  /** Writes data at byte `offset`. Throws on a host I/O error or when read-only. */
  write(offset: number, data: Uint8Array): void;
  /** Makes every completed write durable on the host. */
  flush(): void;
  /** Flushes and releases the host resources; the backend is unusable afterwards. */
  close(): void;
}

export class FileBackend implements BlockBackend {
  private dirty = false;
  private closed = false;

  private constructor(private readonly fd: number, readonly size: number, readonly readOnly: boolean) {}

  /** Opens a raw image (read-write unless readOnly). Throws Node's error (ENOENT, EACCES...). */
  static open(path: string, readOnly: boolean): FileBackend {
    const fd = openSync(path, readOnly ? 'r' : 'r+');
    try {
      const st = fstatSync(fd);
      if (!st.isFile() && !st.isBlockDevice()) throw new Error('not a regular file');
      return new FileBackend(fd, st.size, readOnly);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  read(offset: number, buf: Uint8Array): void {
    let done = 0;
    while (done < buf.length) {
      const n = readSync(this.fd, buf, done, buf.length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    buf.fill(0, done);
  }

  write(offset: number, data: Uint8Array): void {
    if (this.readOnly) throw new Error('read-only image');
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, offset + done);
    this.dirty = true;
  }

  flush(): void {
    if (!this.dirty) return;
    fsyncSync(this.fd);
    this.dirty = false;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    closeSync(this.fd);
    this.closed = true;
  }
}

export class MemoryBackend implements BlockBackend {
  constructor(readonly bytes: Uint8Array, readonly readOnly: boolean) {}

  get size(): number {
    return this.bytes.length;
  }

  read(offset: number, buf: Uint8Array): void {
    const part = offset < this.bytes.length ? this.bytes.subarray(offset, Math.min(offset + buf.length, this.bytes.length)) : new Uint8Array(0);
    buf.set(part);
    buf.fill(0, part.length);
  }

  write(offset: number, data: Uint8Array): void {
    if (this.readOnly) throw new Error('read-only image');
    if (offset + data.length > this.bytes.length) throw new Error('write past the end of the image');
    this.bytes.set(data, offset);
  }

  flush(): void {}
  close(): void {}
}

export class DiskImageError extends Error {}

/**
 * A disk image named on the command line. A gzip file (by its magic, e.g. guests/disk.ext2.gz)
 * is decompressed into memory and attached read-only whatever was asked: writes could not reach
 * the file, and silently dropping them would lose data (`note` then says so); gunzip it for a
 * writable disk. Missing or unopenable files throw DiskImageError with a one-line reason.
 */
export function openDiskImage(path: string, readOnly: boolean): { backend: BlockBackend; note?: string } {
  const open = (ro: boolean): FileBackend => {
    try {
      return FileBackend.open(path, ro);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') throw new DiskImageError(`disk '${path}': no such file`);
      if (err.code === 'EACCES' || err.code === 'EROFS' || err.code === 'EPERM') {
        throw new DiskImageError(ro ? `disk '${path}': not readable (${err.code})` : `disk '${path}': not writable (${err.code}); add ',ro' to attach it read-only`);
      }
      throw new DiskImageError(`disk '${path}': ${err.message}`);
    }
  };
  const probe = open(true);
  const magic = new Uint8Array(2);
  probe.read(0, magic);
  if (probe.size < 2 || magic[0] !== 0x1f || magic[1] !== 0x8b) {
    if (readOnly) return { backend: probe };
    probe.close();
    return { backend: open(false) };
  }
  const compressed = new Uint8Array(probe.size);
  probe.read(0, compressed);
  probe.close();
  let bytes: Uint8Array;
  try {
    // (node:zlib loaded here, when a disk is compressed: emulator/boot/linux-image.ts zlib.)
    bytes = new Uint8Array(process.getBuiltinModule('node:zlib').gunzipSync(compressed));
  } catch (e) {
    throw new DiskImageError(`disk '${path}': corrupt gzip data: ${(e as Error).message}`);
  }
  return {
    backend: new MemoryBackend(bytes, true),
    note: readOnly ? undefined : `disk '${path}' is gzip-compressed: attached read-only (gunzip it for a writable disk)`,
  };
}

/**
 * A window of another backend, [offset, offset + size): Rust-Shyper's virtio-blk cfg [start
 * sector, sectors], a part of a disk shared between VMs. Reads past the window's end give zeros,
 * writes past it throw; closing the window leaves the backend open (its owner closes it).
 */
export class WindowBackend implements BlockBackend {
  readonly readOnly: boolean;

  constructor(
    private readonly base: BlockBackend,
    private readonly offset: number,
    readonly size: number,
    readOnly = false,
  ) {
    if (offset < 0 || size < 0 || offset + size > base.size) throw new RangeError(`window ${offset}+${size} is outside the ${base.size}-byte image`);
    this.readOnly = readOnly || base.readOnly;
  }

  read(offset: number, buf: Uint8Array): void {
    const n = Math.max(0, Math.min(buf.length, this.size - offset));
    if (n > 0) this.base.read(this.offset + offset, buf.subarray(0, n));
    buf.fill(0, n);
  }

  write(offset: number, data: Uint8Array): void {
    if (this.readOnly) throw new Error('read-only image');
    if (offset < 0 || offset + data.length > this.size) throw new Error('write past the end of the disk window');
    this.base.write(this.offset + offset, data);
  }

  flush(): void {
    this.base.flush();
  }

  close(): void {}
}
