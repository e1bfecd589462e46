// A distribution kernel, not the kit's small one (issue #12's determinism check): Debian's generic
// arm64 kernel (scripts/get-debian-kernel.sh; ~900 M instructions to power-off, most of them in
// translated code, several hundred pages translated on the worker thread) boots the kit's
// initramfs to `test done` twice with the translator on, and the two runs print the same bytes
// and retire the same instructions, whenever the worker's pages happened to arrive. The second run
// starts from the translation cache the first left (jit/persist.ts): that must not show either.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { DEBIAN_KERNEL, describeOracle } from '../oracles.ts';
import { runCli } from '../cli/run-cli.ts';
import { cacheRecords, jitFigure } from './jit-figures.ts';

const args = ['--board', 'qemu-virt', '--native', '--smp', '1', '--kernel', DEBIAN_KERNEL, '--initrd', 'guests/initramfs.cpio.gz', '--append', 'shyper.test=1', '--timeout', '500', '--stats'];

describeOracle("Debian's generic kernel, translator on", ['debian-kernel'], () => {
  it('boots to test done, byte-identical across two runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shyper-jit-cache-'));
    const saved = process.env.SHYPER_JIT_CACHE;
    const savedThreshold = process.env.SHYPER_JIT_THRESHOLD;
    const savedDefer = process.env.SHYPER_JIT_DEFER;
    process.env.SHYPER_JIT_CACHE = join(dir, 'cache.bin');
    // (At the threshold of session 10, where several hundred pages are translated: what this
    // checks is that the worker's timing and the cache do not show, with much translated; every
    // hot page, none left to the wasm interpreter for having no inner loop: settings.ts DEFER_HEAT.)
    process.env.SHYPER_JIT_THRESHOLD = '20000';
    process.env.SHYPER_JIT_DEFER = '0';
    let a, b, records;
    try {
      a = await runCli(args, { timeoutMs: 900_000 });
      records = cacheRecords(process.env.SHYPER_JIT_CACHE);
      b = await runCli(args, { timeoutMs: 900_000 });
    } finally {
      if (saved === undefined) delete process.env.SHYPER_JIT_CACHE;
      else process.env.SHYPER_JIT_CACHE = saved;
      if (savedThreshold === undefined) delete process.env.SHYPER_JIT_THRESHOLD;
      else process.env.SHYPER_JIT_THRESHOLD = savedThreshold;
      if (savedDefer === undefined) delete process.env.SHYPER_JIT_DEFER;
      else process.env.SHYPER_JIT_DEFER = savedDefer;
      rmSync(dir, { recursive: true, force: true });
    }
    // The second run meets every page the first translated (it runs the same), and installs
    // those the worker compiled from the cache before they got hot.
    expect(records).toBeGreaterThan(100);
    expect(jitFigure(b.stderr, 'cache-hits'), b.stderr).toBeGreaterThanOrEqual(records);
    expect(jitFigure(b.stderr, 'cached'), b.stderr).toBeGreaterThan(100);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain('SMP Debian');
    expect(a.stdout).toContain('shyper-guest: test done');
    expect(b.stdout).toBe(a.stdout);
    expect(b.code).toBe(0);
    const count = (err: string) => /stats: instructions=(\d+)/.exec(err)?.[1];
    expect(count(a.stderr)).toBeDefined();
    expect(count(b.stderr)).toBe(count(a.stderr));
    const m = /jit: pages=(\d+) .* ran=(\d+) background=(\d+)/.exec(a.stderr);
    expect(m, a.stderr).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(100);
    // The pages that got hot (171-172 in runs of session 17). How much of the boot then ran
    // translated depends on when the worker's pages arrived (77-86 % alone on the 2-core machine,
    // 77 % once under the suite's load against the 80 % this asserted until then): not asserted.
    expect(jitFigure(a.stderr, 'hot'), a.stderr).toBeGreaterThan(150);
  }, 1_800_000);
});
