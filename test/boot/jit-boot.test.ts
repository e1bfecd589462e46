// The kit's Linux boot with the WebAssembly translator on and off (issue #12): the same console
// output byte for byte, printk timestamps included, and the same instruction count -- blocks end
// where the interpreter's do, so time and interrupts land on the same instructions.
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';

const kit = ['--board', 'qemu-virt', '--native', '--smp', '1', '--kernel', 'guests/Image.gz', '--initrd', 'guests/initramfs.cpio.gz', '--append', 'shyper.test=1', '--timeout', '500', '--stats'];

/** Run the kit boot with these SHYPER_JIT_* settings (restored after). */
async function boot(env: Record<string, string>, extra: string[] = []) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await runCli([...extra, ...kit], { timeoutMs: 600_000 });
  } finally {
    for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
}

const count = (err: string) => /stats: instructions=(\d+)/.exec(err)?.[1];
const jitLine = (err: string) => /jit: pages=(\d+) translate-ms=\d+ emitted=(\d+).* ran=(\d+) background=(\d+)/.exec(err);

describe('kit boot, translator on vs --interpreter', { timeout: 1_200_000 }, () => {
  it('prints the same output and retires the same instructions', async () => {
    const interp = await boot({}, ['--interpreter']);
    expect(interp.code).toBe(0);
    expect(interp.stdout).toContain('shyper-guest: test done');
    expect(count(interp.stderr)).toBeDefined();
    expect(interp.stderr).toContain('jit: off (interpreter)');
    // Translated on the guest's thread with a low threshold, so most of the kernel's hot code runs
    // translated; then as a user runs it, translated on the worker thread (jit/background.ts),
    // where when a page arrives depends on the host: the guest must not see any of it.
    const settings: Record<string, string>[] = [{ SHYPER_JIT_THRESHOLD: '200', SHYPER_JIT_BACKGROUND: '0' }, { SHYPER_JIT_THRESHOLD: '1000' }];
    for (const env of settings) {
      const jit = await boot(env);
      const what = JSON.stringify(env);
      expect(jit.stdout, what).toBe(interp.stdout);
      expect(jit.code, what).toBe(0);
      expect(count(jit.stderr), what).toBe(count(interp.stderr));
      // The translator did run: pages were translated, and most instructions ran translated.
      const m = jitLine(jit.stderr);
      expect(m, jit.stderr).not.toBeNull();
      const [pages, ran, background] = [Number(m![1]), Number(m![3]), Number(m![4])];
      expect(pages, what).toBeGreaterThan(env.SHYPER_JIT_BACKGROUND === '0' ? 500 : 50);
      expect(background, what).toBe(env.SHYPER_JIT_BACKGROUND === '0' ? 0 : pages);
      expect(ran / Number(count(jit.stderr)), what).toBeGreaterThan(0.5);
    }
  });
});
