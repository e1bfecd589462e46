// Boot regressions: the kit's unmodified Linux boots natively on the emulated boards to the
// initramfs's "boot ok", reports its CPUs, and powers off through PSCI SYSTEM_OFF (exit 0).
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';

// The images shipped in guests/ (the loader takes .gz).
const KIT = 'guests';

/** The CLI as a user runs it (test/cli/run-cli.ts), its output as `out`/`err`. */
async function boot(args: string[], timeoutMs = 240_000): Promise<{ code: number | null; out: string; err: string }> {
  const r = await runCli(args, { timeoutMs });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

const kit = ['--kernel', `${KIT}/Image.gz`, '--initrd', `${KIT}/initramfs.cpio.gz`, '--append', 'shyper.test=1', '--timeout', '200', '--native'];

describe('native Linux boot', { timeout: 300_000 }, () => {
  for (const [name, args, cpus] of [
    ['qemu-virt, 4 CPUs, GICv3, PL011', ['--board', 'qemu-virt', '--smp', '4'], 4],
    ['qemu-virt, 4 CPUs, GICv2', ['--board', 'qemu-virt', '--smp', '4', '--gic', '2'], 4],
    ['rk3588, 8 CPUs, GIC-600, DW 8250 UART2', ['--board', 'rk3588'], 8],
    ['pi4, 4 CPUs, GIC-400, PL011 with a 512-byte window', ['--board', 'pi4'], 4],
    ['tx2, 6 CPUs (A57 + Denver2), GIC-400, 16550 UART', ['--board', 'tx2'], 6],
  ] as const) {
    it(`${name}: boot ok, cpus ${cpus}, test done, power off (exit 0)`, async () => {
      const r = await boot([...args, ...kit, '--stats']);
      expect(r.out).toContain('shyper-guest: boot ok');
      expect(r.out).toContain(`shyper-guest: cpus ${cpus}`);
      // The CRNG was seeded from the generated tree's /chosen/rng-seed (test/boot/entropy.test.ts).
      expect(r.out).toMatch(/random: crng init done[\s\S]*shyper-guest: init started[\s\S]*shyper-guest: getrandom ok/);
      expect(r.out).toContain('shyper-guest: test done');
      expect(r.out).toContain('reboot: Power down');
      expect(r.err).toMatch(/^stats: instructions=\d+ seconds=[\d.]+ mips=[\d.]+/m);
      // Linux at EL1 never hit an UNDEFINED instruction or an unknown system register.
      expect(r.err).not.toMatch(/UNDEFINED/);
      expect(r.code).toBe(0);
    });
  }

  it('is deterministic: two identical runs print byte-identical output, printk timestamps included', async () => {
    const a = await boot(['--board', 'qemu-virt', '--smp', '2', ...kit]);
    const b = await boot(['--board', 'qemu-virt', '--smp', '2', ...kit]);
    expect(a.code).toBe(0);
    expect(a.out).toMatch(/\[\s+\d+\.\d{6}\]/);
    expect(b.out).toBe(a.out);
  });

  it('--expect stops at the first match of every pattern with exit 0; an unmet one times out with exit 1', async () => {
    const ok = await boot(['--board', 'qemu-virt', '--smp', '1', '--native', '--kernel', `${KIT}/Image.gz`, '--initrd', `${KIT}/initramfs.cpio.gz`, '--expect', 'Run /init', '--expect', 'boot ok']);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('shyper-guest: boot ok');
    expect(ok.out).not.toContain('test done');
    const bad = await boot(['--board', 'qemu-virt', '--smp', '1', '--native', '--kernel', `${KIT}/Image.gz`, '--initrd', `${KIT}/initramfs.cpio.gz`, '--expect', 'never printed', '--timeout', '8']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/timeout after 8 s waiting for \/never printed\//);
  });

  it('a guest kernel panic ends the run with a clear final line and exit 1', async () => {
    const r = await boot(['--board', 'qemu-virt', '--native', '--smp', '1', '--kernel', `${KIT}/Image.gz`, '--initrd', `${KIT}/initramfs.cpio.gz`, '--append', 'rdinit=/nonexistent init=/nonexistent', '--timeout', '100']);
    expect(r.out).toContain('Kernel panic - not syncing');
    expect(r.err.trim().split('\n').at(-1)).toBe('shyper-emu: guest kernel panic');
    expect(r.code).toBe(1);
  });

  it('a file that is not an arm64 Image, or a missing one: one clear line, exit 2', async () => {
    const notImage = await boot(['--board', 'qemu-virt', '--native', '--kernel', `${KIT}/initramfs.cpio.gz`]);
    expect(notImage.code).toBe(2);
    expect(notImage.err.trim()).toMatch(/^shyper-emu: not an arm64 Linux Image/);
    expect(notImage.err.trim().split('\n')).toHaveLength(1);
    const missing = await boot(['--board', 'qemu-virt', '--native', '--kernel', '/nonexistent/Image']);
    expect(missing.code).toBe(2);
    expect(missing.err.trim()).toBe("shyper-emu: kernel '/nonexistent/Image': no such file");
    const flag = await boot(['--bogus']);
    expect(flag.code).toBe(2);
    expect(flag.err.trim()).toBe("shyper-emu: unknown option '--bogus' (try --help)");
  });
});
