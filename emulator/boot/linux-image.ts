// The arm64 Linux boot protocol (Documentation/arch/arm64/booting.rst): Image header, load
// address, device tree and initrd placement, and the register state at entry.

/** ARM\x64 at offset 0x38 of the Image header. */
const ARM64_MAGIC = 0x644d5241;

export interface ImageHeader {
  textOffset: number;
  imageSize: number;
  flags: number;
}

export class ImageError extends Error {}

/** Largest decompressed kernel accepted (a gzip bomb must not exhaust host memory). */
export const MAX_KERNEL_BYTES = 256 * 2 ** 20;

/** A gzip stream (its magic), as an Image.gz is. */
export const isGzip = (data: Uint8Array): boolean => data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;
/**
 * One output chunk the size the gzip trailer gives (ISIZE, the size mod 2^32: a hint only, within
 * [64 KiB, max]) rather than zlib's 16 KiB: decompressing on zlib's threads is then one job, where
 * every chunk used to wait for a turn of the main thread's event loop (the kit's kernel took ~50
 * ms while the machine was set up beside it, ~20 ms alone); and the result is viewed, not copied.
 * bin/prefetch.js decompresses with the same options (a test checks).
 */
export function gzipOptions(data: Uint8Array, max: number): { maxOutputLength: number; chunkSize: number } {
  const n = data.length;
  const isize = n >= 4 ? (data[n - 4]! | (data[n - 3]! << 8) | (data[n - 2]! << 16) | (data[n - 1]! << 24)) >>> 0 : 0;
  return { maxOutputLength: max, chunkSize: Math.min(Math.max(isize + 64, 1 << 16), max) };
}
const view = (out: Buffer): Uint8Array => new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
/**
 * node:zlib, loaded when something is decompressed: a boot from the kernel cache or an
 * uncompressed Image never needs it (~2 ms of a start on a 2-core machine).
 */
function zlib(): typeof import('node:zlib') {
  return process.getBuiltinModule('node:zlib');
}

/** The ImageError of a failed gunzip (of at most `max` bytes out). */
export function gzipError(e: unknown, max: number): ImageError {
  if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return new ImageError(`gzip data decompresses to more than ${max / 2 ** 20} MiB`);
  return new ImageError(`corrupt gzip data: ${(e as Error).message}`);
}

/** Decompress `.gz` (by magic, not by name) and return the raw bytes, at most `max` of them. */
export function maybeGunzip(data: Uint8Array, max = MAX_KERNEL_BYTES): Uint8Array {
  if (!isGzip(data)) return data;
  try {
    return view(zlib().gunzipSync(data, gzipOptions(data, max)));
  } catch (e) {
    throw gzipError(e, max);
  }
}

/**
 * maybeGunzip on zlib's thread pool, so the caller can build the machine meanwhile (the kit's
 * kernel takes ~20 ms to decompress). Rejects with the same ImageError.
 */
export function maybeGunzipAsync(data: Uint8Array, max = MAX_KERNEL_BYTES): Promise<Uint8Array> {
  if (!isGzip(data)) return Promise.resolve(data);
  return new Promise((resolve, reject) => {
    zlib().gunzip(data, gzipOptions(data, max), (e, out) => (e ? reject(gzipError(e, max)) : resolve(view(out))));
  });
}

/**
 * An uncompressed kernel Image still in its file (src/input.ts openInputImage): its size, its first
 * bytes, and a reader of its bytes straight into guest RAM (Machine.loadLinux). Read into a
 * buffer first, a distribution kernel (33 MB) cost its buffer's fresh pages and a copy (~100 ms of
 * start-up on a 2-core machine); the emulator itself reads no files.
 */
export interface ImageFile {
  readonly size: number;
  /** The file's first bytes: its 64-byte header at least, or the whole of a shorter file. */
  readonly head: Uint8Array;
  /** Fill `into` with the file's bytes from `offset` on (ImageError if the file has no longer got them). */
  read(into: Uint8Array, offset: number): void;
}

/** The header of an Image whose first bytes are `img` and whose file is `fileSize` bytes long. */
export function parseImageHeader(img: Uint8Array, fileSize = img.length): ImageHeader {
  if (fileSize < 64 || img.length < 64) throw new ImageError('not an arm64 Linux Image (file shorter than its 64-byte header)');
  const dv = new DataView(img.buffer, img.byteOffset, img.byteLength);
  if (dv.getUint32(0x38, true) !== ARM64_MAGIC) throw new ImageError('not an arm64 Linux Image (no ARM\\x64 magic at offset 0x38)');
  const textOffset = Number(dv.getBigUint64(8, true));
  let imageSize = Number(dv.getBigUint64(16, true));
  const flags = Number(dv.getBigUint64(24, true));
  // image_size 0 means a pre-3.17 kernel: the loaded size is unknown, assume the file plus slack.
  if (imageSize === 0) imageSize = fileSize + (1 << 20);
  // The file is copied whole: the loaded size is at least the file's, whatever the header says.
  imageSize = Math.max(imageSize, fileSize);
  if ((flags & 1) !== 0) throw new ImageError('big-endian arm64 kernels are not supported');
  return { textOffset, imageSize, flags };
}

export interface BootLayout {
  kernelAddr: number;
  kernelEnd: number;
  dtbAddr: number;
  initrdAddr: number;
  initrdEnd: number;
}

const MiB = 1 << 20;
const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;

/**
 * Where things go in guest RAM: the kernel at a 2 MiB-aligned base + text_offset (booting.rst),
 * the initrd after the kernel's image_size (which covers its BSS), the DTB after the initrd.
 */
export function planLayout(ramBase: number, ramSize: number, hdr: ImageHeader, initrdSize: number, dtbMax: number): BootLayout {
  const kernelAddr = ramBase + 2 * MiB + hdr.textOffset;
  const kernelEnd = kernelAddr + hdr.imageSize;
  const initrdAddr = alignUp(kernelEnd, 2 * MiB) + 2 * MiB;
  const initrdEnd = initrdAddr + initrdSize;
  const dtbAddr = alignUp(initrdEnd, 2 * MiB);
  if (dtbAddr + dtbMax > ramBase + ramSize) {
    throw new ImageError(`kernel (${hdr.imageSize} bytes) and initrd (${initrdSize} bytes) do not fit in ${ramSize / MiB} MiB of RAM`);
  }
  return { kernelAddr, kernelEnd, dtbAddr, initrdAddr, initrdEnd };
}
