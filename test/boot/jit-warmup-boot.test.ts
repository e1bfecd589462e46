// The kit boot as a user runs it, with the translator's default warm-up (settings.ts
// DEFAULT_WARMUP: the suite itself runs with SHYPER_JIT_WARMUP=0, vitest.config.ts): its 66 M
// instructions all run on the wasm interpreter, and no translation worker is started. With the
// warm-up at 0 the same boot translates its hot pages on a worker, and prints the same. A
// translation cache that holds the kit's pages waits for the warm-up too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';
import { cacheRecords, jitFigure as stat } from './jit-figures.ts';

const kit = ['--board', 'qemu-virt', '--native', '--smp', '1', '--kernel', 'guests/Image.gz', '--initrd', 'guests/initramfs.cpio.gz', '--append', 'shyper.test=1', '--timeout', '500', '--stats'];

/** The kit boot at this warm-up (undefined: the default), with this translation cache file or none. */
async function boot(warmup: string | undefined, cache?: string) {
  const saved = { warmup: process.env.SHYPER_JIT_WARMUP, cache: process.env.SHYPER_JIT_CACHE };
  if (warmup === undefined) delete process.env.SHYPER_JIT_WARMUP;
  else process.env.SHYPER_JIT_WARMUP = warmup;
  if (cache !== undefined) process.env.SHYPER_JIT_CACHE = cache;
  try {
    return await runCli(cache === undefined ? [...kit, '--no-jit-cache'] : kit, { timeoutMs: 600_000 });
  } finally {
    if (saved.warmup === undefined) delete process.env.SHYPER_JIT_WARMUP;
    else process.env.SHYPER_JIT_WARMUP = saved.warmup;
    if (saved.cache === undefined) delete process.env.SHYPER_JIT_CACHE;
    else process.env.SHYPER_JIT_CACHE = saved.cache;
  }
}

describe('kit boot and the translator warm-up', { timeout: 1_200_000 }, () => {
  it('by default translates nothing and starts no worker; at warm-up 0 it does both; same output', async () => {
    const dflt = await boot(undefined);
    expect(dflt.code).toBe(0);
    expect(dflt.stdout).toContain('shyper-guest: test done');
    const instructions = Number(/stats: instructions=(\d+)/.exec(dflt.stderr)?.[1]);
    expect(instructions).toBeGreaterThan(50_000_000);
    expect(instructions).toBeLessThan(100_000_000); // shorter than the warm-up: the point of this test
    expect(stat(dflt.stderr, 'hot')).toBe(0);
    expect(stat(dflt.stderr, 'pages')).toBe(0);
    expect(stat(dflt.stderr, 'worker')).toBe(0);
    expect(stat(dflt.stderr, 'wasm-interpreted')).toBeGreaterThan(0.99 * instructions);

    const dir = mkdtempSync(join(tmpdir(), 'shyper-warmup-cache-'));
    try {
      // The eager boot leaves the pages it translated in a translation cache ...
      const cache = join(dir, 'cache.bin');
      const eager = await boot('0', cache);
      expect(eager.code).toBe(0);
      expect(eager.stdout).toBe(dflt.stdout);
      expect(Number(/stats: instructions=(\d+)/.exec(eager.stderr)?.[1])).toBe(instructions);
      expect(stat(eager.stderr, 'hot')).toBeGreaterThan(0);
      expect(stat(eager.stderr, 'worker')).toBe(1);
      const records = cacheRecords(cache); // what the worker finished before the end: host timing
      expect(records).toBeGreaterThan(0);

      // ... which a default boot meets but does not start the worker for: the warm-up holds the
      // cache's records as it holds translation (started for them, the worker cost the kit ~70 ms).
      const warm = await boot(undefined, cache);
      expect(warm.code).toBe(0);
      expect(warm.stdout).toBe(dflt.stdout);
      expect(Number(/stats: instructions=(\d+)/.exec(warm.stderr)?.[1])).toBe(instructions);
      expect(stat(warm.stderr, 'cache-hits')).toBeGreaterThanOrEqual(records);
      expect(stat(warm.stderr, 'cached')).toBe(0);
      expect(stat(warm.stderr, 'worker')).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
