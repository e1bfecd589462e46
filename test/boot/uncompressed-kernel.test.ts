// A kernel Image that is not gzip is read from its file straight into guest RAM (src/input.ts
// openInputImage, Machine.loadLinux): the kit's kernel decompressed to a file boots exactly as
// its Image.gz does, to the instruction.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'shyper-image-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const args = (kernel: string): string[] => ['--board', 'qemu-virt', '--native', '--smp', '1', '--kernel', kernel, '--initrd', 'guests/initramfs.cpio.gz', '--append', 'shyper.test=1', '--timeout', '300', '--stats', '--no-jit-cache'];
const instructions = (stderr: string): number => Number(/stats: instructions=(\d+)/.exec(stderr)?.[1]);

describe('an uncompressed kernel Image', { timeout: 600_000 }, () => {
  it('boots as its Image.gz does: same output, same instructions', async () => {
    const image = join(dir, 'Image');
    writeFileSync(image, gunzipSync(readFileSync('guests/Image.gz')));
    const raw = await runCli(args(image), { timeoutMs: 400_000 });
    const gz = await runCli(args('guests/Image.gz'), { timeoutMs: 400_000 });
    expect(raw.code, raw.stderr).toBe(0);
    expect(gz.code, gz.stderr).toBe(0);
    expect(raw.stdout).toContain('shyper-guest: test done');
    expect(raw.stdout).toBe(gz.stdout);
    expect(instructions(raw.stderr)).toBeGreaterThan(50_000_000);
    expect(instructions(raw.stderr)).toBe(instructions(gz.stderr));
  });

  it('boots a kernel given on a pipe (`--kernel <(zcat Image.gz)`): the launcher leaves it to the boot', () => {
    // (Read by the launcher's prefetch, the pipe's bytes were gone when the boot read it.)
    const cmd = `exec node bin/shyper-emu.js ${args('<(zcat guests/Image.gz)').join(' ')}`;
    const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', timeout: 400_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('shyper-guest: test done');
  });

  it('says in one line what is wrong with a file too short to be one', async () => {
    const short = join(dir, 'short');
    writeFileSync(short, Buffer.alloc(40, 1));
    const r = await runCli(['--board', 'qemu-virt', '--native', '--kernel', short], { timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/shorter than its 64-byte header/);
  });
});
