// The kit's Linux boot with the WebAssembly translator on and off (issue #12): the same console
// output byte for byte, printk timestamps included, and the same instruction count -- blocks end
// where the interpreter's do, so time and interrupts land on the same instructions.
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';

const kit = ['--board', 'qemu-virt', '--native', '--smp', '1', '--kernel', 'guests/Image.gz', '--initrd', 'guests/initramfs.cpio.gz', '--append', 'shyper.test=1', '--timeout', '500', '--stats'];

describe('kit boot, translator on vs --interpreter', { timeout: 1_200_000 }, () => {
  it('prints the same output and retires the same instructions', async () => {
    // A low threshold, so most of the kernel's hot code runs translated (the default is higher).
    process.env.SHYPER_JIT_THRESHOLD = '200';
    const jit = await runCli(kit, { timeoutMs: 600_000 });
    delete process.env.SHYPER_JIT_THRESHOLD;
    const interp = await runCli(['--interpreter', ...kit], { timeoutMs: 600_000 });
    expect(interp.code).toBe(0);
    expect(interp.stdout).toContain('shyper-guest: test done');
    expect(jit.stdout).toBe(interp.stdout);
    expect(jit.code).toBe(0);
    const count = (err: string) => /stats: instructions=(\d+)/.exec(err)?.[1];
    expect(count(jit.stderr)).toBeDefined();
    expect(count(jit.stderr)).toBe(count(interp.stderr));
    // The translator did run: pages were translated and instructions emitted.
    const m = /jit: pages=(\d+) translate-ms=\d+ emitted=(\d+)/.exec(jit.stderr);
    expect(m, jit.stderr).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(500);
    expect(interp.stderr).toContain('jit: off (interpreter)');
  });
});
