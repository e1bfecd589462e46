// The kit boot as a user runs it, with the translator's default warm-up (settings.ts
// DEFAULT_WARMUP: the suite itself runs with SHYPER_JIT_WARMUP=0, vitest.config.ts): its 66 M
// instructions all run on the wasm interpreter, and no translation worker is started. With the
// warm-up at 0 the same boot translates its hot pages on a worker, and prints the same.
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';
import { jitFigure as stat } from './jit-figures.ts';

const kit = ['--board', 'qemu-virt', '--native', '--smp', '1', '--kernel', 'guests/Image.gz', '--initrd', 'guests/initramfs.cpio.gz', '--append', 'shyper.test=1', '--timeout', '500', '--stats', '--no-jit-cache'];

async function boot(warmup: string | undefined) {
  const saved = process.env.SHYPER_JIT_WARMUP;
  if (warmup === undefined) delete process.env.SHYPER_JIT_WARMUP;
  else process.env.SHYPER_JIT_WARMUP = warmup;
  try {
    return await runCli(kit, { timeoutMs: 600_000 });
  } finally {
    if (saved === undefined) delete process.env.SHYPER_JIT_WARMUP;
    else process.env.SHYPER_JIT_WARMUP = saved;
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

    const eager = await boot('0');
    expect(eager.code).toBe(0);
    expect(eager.stdout).toBe(dflt.stdout);
    expect(Number(/stats: instructions=(\d+)/.exec(eager.stderr)?.[1])).toBe(instructions);
    expect(stat(eager.stderr, 'hot')).toBeGreaterThan(0);
    expect(stat(eager.stderr, 'worker')).toBe(1);
  });
});
