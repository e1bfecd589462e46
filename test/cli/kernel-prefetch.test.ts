// The launcher's early decompression of a --native boot's kernel (bin/prefetch.js) and the boot's
// use of it (src/kernel-prefetch.ts): the same bytes and the same errors as decompressing in the
// boot, used only for the file the boot read, started only for a --native boot.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { gunzipOptions, KERNEL_CACHE_FILES, kernelCacheFile, prefetchKernel, PREFETCH_KEY } from '../../bin/prefetch.js';
import { gzipOptions, ImageError, MAX_KERNEL_BYTES, maybeGunzip } from '../../emulator/boot/linux-image.ts';
import { unpackKernel } from '../../src/kernel-prefetch.ts';
import { INPUT_LIMITS, openInputImage } from '../../src/input.ts';

interface ImageFileLike {
  size: number;
  head: Uint8Array;
  read(into: Uint8Array, offset: number): void;
}

/** unpackKernel's answer for a gzip file: the bytes. */
const bytes = (x: Uint8Array | object): Buffer => {
  expect(x).toBeInstanceOf(Uint8Array);
  return Buffer.from(x as Uint8Array);
};

const dir = mkdtempSync(join(tmpdir(), 'prefetch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const registry = globalThis as unknown as Record<symbol, unknown>;

describe('kernel prefetch', () => {
  it('decompresses with the boot\'s options: one chunk of the gzip trailer\'s size, capped', () => {
    const kit = readFileSync('guests/Image.gz');
    const samples = [kit, gzipSync(Buffer.alloc(10)), Buffer.from([0x1f, 0x8b, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(2)];
    for (const s of samples) expect(gunzipOptions(s)).toEqual(gzipOptions(s, MAX_KERNEL_BYTES));
    expect(gzipOptions(kit, MAX_KERNEL_BYTES).chunkSize).toBe(maybeGunzip(kit).length + 64);
  });

  it('gives the boot the launcher\'s result for the same file, the boot\'s own otherwise', async () => {
    const raw = Buffer.from('an arm64 kernel, as far as this test goes'.repeat(100));
    const file = join(dir, 'Image.gz');
    writeFileSync(file, gzipSync(raw));
    const data = new Uint8Array(readFileSync(file));
    let reads = 0;
    const read = (): Uint8Array => (reads++, data);
    prefetchKernel(['--native', '--kernel', file], '/nowhere');
    const p = registry[PREFETCH_KEY] as { path: string } | undefined;
    expect(p?.path).toBe(resolve(file));
    expect(bytes(await unpackKernel(file, data.length, read)).equals(raw)).toBe(true);
    expect(registry[PREFETCH_KEY]).toBeUndefined(); // taken once
    expect(reads).toBe(0); // the launcher's bytes: the boot does not read the file again
    // Without a prefetch the boot reads and decompresses it.
    expect(bytes(await unpackKernel(file, data.length, read)).equals(raw)).toBe(true);
    expect(reads).toBe(1);

    // A prefetch of another file, or of other bytes, is not used.
    const fake = { size: data.length, out: Buffer.from('not the kernel') };
    registry[PREFETCH_KEY] = { path: resolve(join(dir, 'other')), promise: Promise.resolve(fake) };
    expect(bytes(await unpackKernel(file, data.length, read)).equals(raw)).toBe(true);
    registry[PREFETCH_KEY] = { path: resolve(file), promise: Promise.resolve({ ...fake, size: data.length + 1 }) };
    expect(bytes(await unpackKernel(file, data.length, read)).equals(raw)).toBe(true);
    // Nor for what is not a regular file (a FIFO: the launcher's read took its bytes, or some).
    registry[PREFETCH_KEY] = { path: resolve(file), promise: Promise.resolve(fake) };
    expect(bytes(await unpackKernel(file, -1, read)).equals(raw)).toBe(true);
    expect(reads).toBe(4);
    // ...and a matching one is (this is how the boot sees it).
    registry[PREFETCH_KEY] = { path: resolve(file), promise: Promise.resolve(fake) };
    expect(bytes(await unpackKernel(file, data.length, read)).toString()).toBe('not the kernel');
    expect(reads).toBe(4);
  });

  it('leaves an uncompressed kernel in its file: the launcher reads its magic only, the boot reads it into place', async () => {
    const raw = Buffer.from(Array.from({ length: 9000 }, (_, i) => (i * 7) & 0xff));
    const file = join(dir, 'Image');
    writeFileSync(file, raw);
    prefetchKernel(['--native', '--kernel', file], '/nowhere');
    const p = registry[PREFETCH_KEY] as { promise: Promise<{ size: number; out: Uint8Array | null }> };
    expect(await p.promise).toEqual({ size: raw.length, out: null });
    const got = await unpackKernel(
      file,
      raw.length,
      () => {
        throw new Error('read whole');
      },
      () => openInputImage(file, 'kernel', INPUT_LIMITS.kernel),
    );
    expect(got).not.toBeInstanceOf(Uint8Array);
    const f = got as { size: number; head: Uint8Array; read: (into: Uint8Array, offset: number) => void };
    expect(f.size).toBe(raw.length);
    expect(Buffer.from(f.head).equals(raw.subarray(0, 4096))).toBe(true);
    const into = new Uint8Array(5000);
    f.read(into, 3000);
    expect(Buffer.from(into).equals(raw.subarray(3000, 8000))).toBe(true);
    // Past the file's end (it shrank): what is there, the rest left as it was.
    const tail = new Uint8Array(100).fill(0xaa);
    f.read(tail, raw.length - 10);
    expect([...tail.subarray(0, 10)]).toEqual([...raw.subarray(raw.length - 10)]);
    expect(tail[10]).toBe(0xaa);
    // Without a prefetch, the same.
    const own = await unpackKernel(file, raw.length, () => new Uint8Array(raw), () => openInputImage(file, 'kernel', INPUT_LIMITS.kernel));
    expect((own as { size: number }).size).toBe(raw.length);
  });

  it('keeps a gzip kernel decompressed in the kernel cache, and boots later from that copy', async () => {
    const cache = join(dir, 'cache');
    mkdirSync(cache);
    const raw = Buffer.from(Array.from({ length: 20000 }, (_, i) => (i * 13 + (i >> 8)) & 0xff));
    const file = join(dir, 'cached.gz');
    writeFileSync(file, gzipSync(raw));
    const size = statSync(file).size;
    const copy = kernelCacheFile(cache, resolve(file), statSync(file));
    const never = (): Uint8Array => {
      throw new Error('read whole');
    };
    const boot = async (): Promise<Uint8Array | ImageFileLike> => {
      prefetchKernel(['--native', '--kernel', file], '/nowhere', cache);
      return unpackKernel(file, size, () => new Uint8Array(readFileSync(file)));
    };
    const wrote = async (): Promise<void> => {
      for (let i = 0; i < 500 && !existsSync(copy); i++) await new Promise((r) => setTimeout(r, 10));
    };
    // The first boot decompresses (its bytes, as before) and leaves the copy.
    expect(bytes(await boot()).equals(raw)).toBe(true);
    await wrote();
    expect(readFileSync(copy).equals(raw)).toBe(true);
    // The next is given the copy, to read in place: the same bytes, the file not read whole.
    prefetchKernel(['--native', '--kernel', file], '/nowhere', cache);
    const f = (await unpackKernel(file, size, never)) as ImageFileLike;
    expect(f).not.toBeInstanceOf(Uint8Array);
    expect(f.size).toBe(raw.length);
    expect(Buffer.from(f.head).equals(raw.subarray(0, 4096))).toBe(true);
    const all = new Uint8Array(raw.length);
    f.read(all.subarray(0, 7000), 0);
    f.read(all.subarray(7000), 7000);
    expect(Buffer.from(all).equals(raw)).toBe(true);
    // A copy cut short (not the gzip trailer's size) is not booted: decompressed again, rewritten.
    truncateSync(copy, 100);
    expect(bytes(await boot()).equals(raw)).toBe(true);
    for (let i = 0; i < 500 && statSync(copy).size !== raw.length; i++) await new Promise((r) => setTimeout(r, 10));
    expect(readFileSync(copy).equals(raw)).toBe(true);
    // The kernel rewritten (another kernel at the same path, of the same size): another copy.
    writeFileSync(file, gzipSync(raw.map((b) => b ^ 1)));
    expect(kernelCacheFile(cache, resolve(file), statSync(file))).not.toBe(copy);
    const other = await boot();
    expect(bytes(other).equals(Buffer.from(raw.map((b) => b ^ 1)))).toBe(true);
    // Only the newest KERNEL_CACHE_FILES copies stay.
    for (let k = 0; k < KERNEL_CACHE_FILES + 2; k++) {
      writeFileSync(file, gzipSync(Buffer.from(`kernel ${k}`.repeat(50))));
      const next = kernelCacheFile(cache, resolve(file), statSync(file));
      await boot();
      for (let i = 0; i < 500 && !existsSync(next); i++) await new Promise((r) => setTimeout(r, 10));
      // (the eviction runs right after the rename, in the same callback)
      expect(readdirSync(cache).filter((n) => n.endsWith('.img')).length).toBeLessThanOrEqual(KERNEL_CACHE_FILES);
    }
    expect(readdirSync(cache).filter((n) => n.endsWith('.img')).length).toBe(KERNEL_CACHE_FILES);
  });

  it('reports corrupt gzip data as the boot does', async () => {
    const file = join(dir, 'bad.gz');
    const bad = Buffer.concat([gzipSync(Buffer.alloc(1000)).subarray(0, 12), Buffer.alloc(20, 0xee)]);
    writeFileSync(file, bad);
    prefetchKernel(['--native', `--kernel=${file}`], '/nowhere');
    const got = unpackKernel(file, bad.length, () => new Uint8Array(bad));
    await expect(got).rejects.toBeInstanceOf(ImageError);
    await expect(got).rejects.toThrow(/corrupt gzip data/);
  });

  it('starts only for a --native boot (the default command)', () => {
    registry[PREFETCH_KEY] = undefined;
    prefetchKernel(['--board', 'rk3588'], '/nowhere');
    prefetchKernel(['bench', '--native'], '/nowhere');
    expect(registry[PREFETCH_KEY]).toBeUndefined();
    prefetchKernel(['--native'], resolve('.'));
    expect((registry[PREFETCH_KEY] as { path: string }).path).toBe(resolve('guests/Image.gz'));
    registry[PREFETCH_KEY] = undefined;
  });
});
