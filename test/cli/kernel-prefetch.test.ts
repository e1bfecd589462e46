// The launcher's early decompression of a --native boot's kernel (bin/prefetch.js) and the boot's
// use of it (src/kernel-prefetch.ts): the same bytes and the same errors as decompressing in the
// boot, used only for the file the boot read, started only for a --native boot.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { gunzipOptions, prefetchKernel, PREFETCH_KEY } from '../../bin/prefetch.js';
import { gzipOptions, ImageError, MAX_KERNEL_BYTES, maybeGunzip } from '../../emulator/boot/linux-image.ts';
import { unpackKernel } from '../../src/kernel-prefetch.ts';

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
    expect(Buffer.from(await unpackKernel(file, data.length, read)).equals(raw)).toBe(true);
    expect(registry[PREFETCH_KEY]).toBeUndefined(); // taken once
    expect(reads).toBe(0); // the launcher's bytes: the boot does not read the file again
    // Without a prefetch the boot reads and decompresses it.
    expect(Buffer.from(await unpackKernel(file, data.length, read)).equals(raw)).toBe(true);
    expect(reads).toBe(1);

    // A prefetch of another file, or of other bytes, is not used.
    const fake = { size: data.length, out: Buffer.from('not the kernel') };
    registry[PREFETCH_KEY] = { path: resolve(join(dir, 'other')), promise: Promise.resolve(fake) };
    expect(Buffer.from(await unpackKernel(file, data.length, read)).equals(raw)).toBe(true);
    registry[PREFETCH_KEY] = { path: resolve(file), promise: Promise.resolve({ ...fake, size: data.length + 1 }) };
    expect(Buffer.from(await unpackKernel(file, data.length, read)).equals(raw)).toBe(true);
    // Nor for what is not a regular file (a FIFO: the launcher's read took its bytes, or some).
    registry[PREFETCH_KEY] = { path: resolve(file), promise: Promise.resolve(fake) };
    expect(Buffer.from(await unpackKernel(file, -1, read)).equals(raw)).toBe(true);
    expect(reads).toBe(4);
    // ...and a matching one is (this is how the boot sees it).
    registry[PREFETCH_KEY] = { path: resolve(file), promise: Promise.resolve(fake) };
    expect(Buffer.from(await unpackKernel(file, data.length, read)).toString()).toBe('not the kernel');
    expect(reads).toBe(4);
  });

  it('passes an uncompressed kernel through as the launcher read it', async () => {
    const raw = Buffer.from('an uncompressed arm64 Image'.repeat(50));
    const file = join(dir, 'Image');
    writeFileSync(file, raw);
    prefetchKernel(['--native', '--kernel', file], '/nowhere');
    const got = await unpackKernel(file, raw.length, () => {
      throw new Error('read again');
    });
    expect(Buffer.from(got).equals(raw)).toBe(true);
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
