// Boot entropy: the generated device tree carries /chosen/rng-seed (32 bytes from --seed) and the
// kit's kernel trusts it (CONFIG_RANDOM_TRUST_BOOTLOADER=y), so Linux prints "random: crng init
// done" before it runs /init and the first getrandom() of userspace returns at once. The control
// boots the same kernel on the same tree minus the seeds and the virtio-rng: then the CRNG is not
// ready when /init starts (the kit before this change never got there before power-off at all).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';
import { boards } from '../../boards/index.ts';
import { boardTree } from '../../emulator/fdt/board-tree.ts';

/** The CLI as a user runs it (test/cli/run-cli.ts), its output as `out`/`err`. */
async function boot(args: string[], timeoutMs = 240_000): Promise<{ code: number | null; out: string; err: string }> {
  const r = await runCli(args, { timeoutMs });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

const KIT = ['--kernel', 'guests/Image.gz', '--initrd', 'guests/initramfs.cpio.gz', '--native', '--timeout', '200'];
const VIRT = ['--board', 'qemu-virt', '--smp', '2'];

/** Index of the first line matching `re`, -1 if none. */
const lineOf = (out: string, re: RegExp): number => out.split('\n').findIndex((l) => re.test(l));

describe('boot entropy from the device tree', { timeout: 300_000 }, () => {
  it('crng init done before /init runs, and the first getrandom() of userspace does not wait', async () => {
    const r = await boot([...VIRT, ...KIT, '--append', 'shyper.test=1', '--seed', '12345']);
    expect(r.code).toBe(0);
    const crng = lineOf(r.out, /random: crng init done/);
    const init = lineOf(r.out, /shyper-guest: init started/);
    expect(crng).toBeGreaterThanOrEqual(0);
    expect(init).toBeGreaterThan(crng);
    const m = /shyper-guest: getrandom ok \((\d+) us\)/.exec(r.out);
    expect(m, 'getrandom line').not.toBeNull();
    expect(Number(m![1])).toBeLessThan(1000); // it returned at once, nothing to wait for
    expect(lineOf(r.out, /getrandom ok/)).toBeGreaterThan(lineOf(r.out, /shyper-guest: boot ok/));
    expect(r.out).toContain('shyper-guest: test done');
  });

  it('control: the same kernel on the same tree without rng-seed/kaslr-seed reaches /init with the CRNG not ready', async () => {
    const b = boards['qemu-virt']!;
    const fdt = boardTree(b, { smp: 2, memBytes: b.memory.defaultSize, gic: b.gic.version });
    const chosen = fdt.node('/chosen')!;
    expect(chosen.get('rng-seed')?.length).toBe(32);
    chosen.props.delete('rng-seed');
    chosen.props.delete('kaslr-seed');
    // Every boot also has a virtio-rng (the board's last virtio slot), whose hw_random driver
    // seeds the CRNG too: the control has no entropy source at all, so its slots go as well.
    for (const c of [...fdt.root.children]) if (c.name.startsWith('virtio_mmio@')) fdt.root.removeChild(c.name);
    const dtb = join(mkdtempSync(join(tmpdir(), 'entropy-')), 'noseed.dtb');
    writeFileSync(dtb, fdt.encode());
    // Stop once /init has printed "boot ok": without shyper.test=1 nothing calls getrandom().
    const r = await boot([...VIRT, ...KIT, '--dtb', dtb, '--expect', 'shyper-guest: boot ok']);
    expect(r.code).toBe(0);
    expect(lineOf(r.out, /shyper-guest: init started/)).toBeGreaterThanOrEqual(0);
    expect(r.out).not.toMatch(/crng init done/);
  });
});
