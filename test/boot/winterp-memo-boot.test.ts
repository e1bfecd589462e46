// The kit boot as a user runs it (the launcher, its bundle), twice with the same memo of decoded
// words (emulator/arm64/jit/winterp-memo.ts, kept where SHYPER_WINTERP_MEMO says): the first
// decodes every word and leaves the memo, the second decodes almost none, and both print the
// same and retire the same instructions. With SHYPER_WINTERP_MEMO=0 nothing is kept.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';
import { jitFigure as stat } from './jit-figures.ts';

const kit = ['--board', 'qemu-virt', '--native', '--smp', '1', '--kernel', 'guests/Image.gz', '--initrd', 'guests/initramfs.cpio.gz', '--append', 'shyper.test=1', '--timeout', '500', '--stats', '--no-jit-cache'];
const dir = mkdtempSync(join(tmpdir(), 'shyper-memo-boot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function boot(memo: string) {
  const saved = process.env.SHYPER_WINTERP_MEMO;
  process.env.SHYPER_WINTERP_MEMO = memo;
  try {
    const r = await runCli(kit, { timeoutMs: 600_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('shyper-guest: test done');
    return { ...r, instructions: Number(/stats: instructions=(\d+)/.exec(r.stderr)?.[1]), packed: stat(r.stderr, 'wasm-packed') };
  } finally {
    if (saved === undefined) delete process.env.SHYPER_WINTERP_MEMO;
    else process.env.SHYPER_WINTERP_MEMO = saved;
  }
}

it('a second boot reads the memo the first left: ~1 K words decoded instead of ~56 K, the same boot', { timeout: 1_200_000 }, async () => {
  const first = await boot(join(dir, 'winterp'));
  expect(first.packed).toBeGreaterThan(50_000);
  expect(readdirSync(dir).filter((f) => /^winterp-memo-[0-9a-f]{8}\.bin$/.test(f))).toHaveLength(1);
  const second = await boot(join(dir, 'winterp'));
  expect(second.packed).toBeLessThan(first.packed / 20);
  expect(second.stdout).toBe(first.stdout);
  expect(second.instructions).toBe(first.instructions);

  // 0: none read or written (not a prefix "0": no 0-memo-*.bin where the boot ran)
  const off = await boot('0');
  expect(off.packed).toBeGreaterThan(50_000);
  expect(off.stdout).toBe(first.stdout);
  expect(readdirSync('.').filter((f) => f.startsWith('0-memo-'))).toEqual([]);
});
