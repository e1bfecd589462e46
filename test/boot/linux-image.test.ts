import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ImageError, type ImageFile, maybeGunzip, maybeGunzipAsync, parseImageHeader, planLayout } from '../../emulator/boot/linux-image.ts';
import { Machine } from '../../emulator/machine.ts';
import { HostConsole } from '../../emulator/devices/console.ts';
import { getBoard } from '../../src/options.ts';

const KIT = new URL('../../guests/', import.meta.url);

describe('arm64 Image loader', () => {
  const image = new Uint8Array(gunzipSync(readFileSync(new URL('Image.gz', KIT))));
  it("reads the kit kernel's header (booting.rst: text_offset, image_size, flags)", () => {
    const h = parseImageHeader(image);
    // Values read independently with: zcat guests/Image.gz | od -A d -t x8 -j 8 -N 24
    const dv = new DataView(image.buffer, image.byteOffset);
    expect(h.textOffset).toBe(Number(dv.getBigUint64(8, true)));
    expect(h.imageSize).toBe(Number(dv.getBigUint64(16, true)));
    expect(h.imageSize).toBeGreaterThan(image.length); // image_size covers BSS
    expect(h.flags & 1).toBe(0); // little-endian
  });
  it('decompresses gzip by magic and rejects non-Images with a clear message', () => {
    const gz = gzipSync(image.subarray(0, 4096));
    expect(maybeGunzip(new Uint8Array(gz)).subarray(0, 64)).toEqual(image.subarray(0, 64));
    expect(() => parseImageHeader(new Uint8Array(4096))).toThrow(/not an arm64 Linux Image/);
    expect(() => parseImageHeader(new Uint8Array(10))).toThrow(ImageError);
  });
  it('decompresses on the thread pool exactly as in line, with the same errors', async () => {
    const gz = new Uint8Array(gzipSync(image.subarray(0, 1 << 20)));
    expect(Buffer.from(await maybeGunzipAsync(gz)).equals(Buffer.from(maybeGunzip(gz)))).toBe(true);
    expect(await maybeGunzipAsync(image)).toBe(image); // not gzip: as is
    const bad = new Uint8Array([0x1f, 0x8b, 1, 2, 3, 4, 5]);
    expect(() => maybeGunzip(bad)).toThrow(/corrupt gzip data/);
    await expect(maybeGunzipAsync(bad)).rejects.toThrow(/corrupt gzip data/);
    await expect(maybeGunzipAsync(gz, 1000)).rejects.toThrow(ImageError);
    await expect(maybeGunzipAsync(gz, 1000)).rejects.toThrow(/decompresses to more than/);
  });
  it('places kernel 2 MiB-aligned, initrd after image_size, DTB after the initrd', () => {
    const h = parseImageHeader(image);
    const l = planLayout(0x40000000, 512 << 20, h, 1_000_000, 0x10000);
    expect(l.kernelAddr % (2 << 20)).toBe(h.textOffset % (2 << 20));
    expect(l.initrdAddr).toBeGreaterThanOrEqual(l.kernelAddr + h.imageSize);
    expect(l.dtbAddr % 8).toBe(0);
    expect(l.dtbAddr).toBeGreaterThanOrEqual(l.initrdEnd);
    expect(() => planLayout(0x40000000, 8 << 20, h, 1_000_000, 0x10000)).toThrow(/do not fit/);
  });
});

describe('loading images straight from their files (ImageFile)', () => {
  it('puts kernel and initrd in guest RAM as their bytes would be, and the initrd in /chosen', () => {
    const image = new Uint8Array(gunzipSync(readFileSync(new URL('Image.gz', KIT))));
    const initrd = new Uint8Array(readFileSync(new URL('initramfs.cpio.gz', KIT)));
    // An ImageFile over bytes in memory, reading in the pieces it is asked for.
    const asFile = (b: Uint8Array): ImageFile & { reads: number } => ({
      size: b.length,
      head: b.subarray(0, 4096),
      reads: 0,
      read(into: Uint8Array, offset: number) {
        this.reads++;
        into.set(b.subarray(offset, offset + into.length));
      },
    });
    const boot = (k: Uint8Array | ImageFile, i: Uint8Array | ImageFile): Machine => {
      const m = new Machine({ board: getBoard('qemu-virt'), smp: 1, console: new HostConsole() });
      m.loadLinux({ kernel: k, initrd: i, cmdline: 'x' });
      return m;
    };
    const a = boot(image, initrd);
    const kf = asFile(image);
    const inf = asFile(initrd);
    const b = boot(kf, inf);
    expect(kf.reads).toBeGreaterThan(0);
    expect(inf.reads).toBeGreaterThan(0);
    const base = getBoard('qemu-virt').memory.base;
    const span = 64 * 2 ** 20; // kernel, initrd and DTB all lie in the first 64 MiB
    expect(Buffer.from(b.bus.readBytes(base, span)).equals(Buffer.from(a.bus.readBytes(base, span)))).toBe(true);
  });
});
