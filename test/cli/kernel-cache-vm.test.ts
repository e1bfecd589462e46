// The kernel cache (bin/prefetch.js offerKernelCache) under the hypervisor: VM 0's gzip kernel,
// which a hypervisor boot reads and decompresses itself (src/vm-setup.ts), is kept decompressed
// by the first boot and read from that copy by the next, with the same bytes.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { KERNEL_CACHE_KEY, kernelCacheFile, offerKernelCache } from '../../bin/prefetch.js';
import { BufferConsole } from '../../emulator/devices/console.ts';
import { maybeGunzip } from '../../emulator/boot/linux-image.ts';
import { mvmVmSet } from '../../hypervisor/config.ts';
import { getBoard } from '../../src/options.ts';
import { vmSetup } from '../../src/vm-setup.ts';

const dir = mkdtempSync(join(tmpdir(), 'kernel-cache-vm-'));
const registry = globalThis as unknown as Record<symbol, { read(p: string): Uint8Array | null; keep(p: string, out: Uint8Array): void } | undefined>;
afterAll(() => {
  registry[KERNEL_CACHE_KEY] = undefined;
  rmSync(dir, { recursive: true, force: true });
});

it('VM 0 keeps its gzip kernel decompressed and boots later from the copy, the same bytes', async () => {
  const cache = join(dir, 'cache');
  mkdirSync(cache);
  const kernel = join(dir, 'Image.gz');
  copyFileSync('guests/Image.gz', kernel);
  const raw = maybeGunzip(new Uint8Array(readFileSync(kernel)));
  offerKernelCache(cache);
  const offered = registry[KERNEL_CACHE_KEY]!;
  const hits: boolean[] = [];
  registry[KERNEL_CACHE_KEY] = {
    read: (p) => {
      const r = offered.read(p);
      hits.push(r !== null);
      return r;
    },
    keep: offered.keep,
  };

  const board = getBoard('qemu-virt');
  const setup = () => {
    const cfg = mvmVmSet(board)[0]!;
    cfg.image.kernelFile = kernel;
    return vmSetup(cfg, { board, gicVersion: 3, consoleOf: () => new BufferConsole(), seed: 0n });
  };
  const first = setup();
  expect(Buffer.from(first.kernel.data).equals(Buffer.from(raw))).toBe(true);
  const copy = kernelCacheFile(cache, resolve(kernel), statSync(kernel));
  for (let i = 0; i < 500 && !existsSync(copy); i++) await new Promise((r) => setTimeout(r, 10));
  expect(statSync(copy).size).toBe(raw.length);

  const second = setup();
  expect(hits).toEqual([false, true]);
  expect(Buffer.from(second.kernel.data).equals(Buffer.from(raw))).toBe(true);
});
