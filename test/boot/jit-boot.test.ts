// The kit's Linux boot with the WebAssembly translator on and off (issue #12): the same console
// output byte for byte, printk timestamps included, and the same instruction count -- blocks end
// where the interpreter's do, so time and interrupts land on the same instructions.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';
import { cacheRecords, jitFigure as stat } from './jit-figures.ts';

const kit = ['--board', 'qemu-virt', '--native', '--smp', '1', '--kernel', 'guests/Image.gz', '--initrd', 'guests/initramfs.cpio.gz', '--append', 'shyper.test=1', '--timeout', '500', '--stats'];

/** Run the kit boot (or `base`) with these SHYPER_JIT_* settings (restored after). */
async function boot(env: Record<string, string>, extra: string[] = [], base = kit) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await runCli([...extra, ...base], { timeoutMs: 600_000 });
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
    // (Without the translation cache: what the worker translates in this run is what is counted.)
    // The worker translates every hot page here (SHYPER_JIT_DEFER=0: none is left to the wasm
    // interpreter for having no inner loop); the default, which declines some, is the third.
    const settings: Record<string, string>[] = [
      { SHYPER_JIT_THRESHOLD: '200', SHYPER_JIT_BACKGROUND: '0', SHYPER_JIT_CACHE: '0' },
      { SHYPER_JIT_THRESHOLD: '1000', SHYPER_JIT_CACHE: '0', SHYPER_JIT_DEFER: '0' },
      { SHYPER_JIT_THRESHOLD: '1000', SHYPER_JIT_CACHE: '0' },
    ];
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
      const declined = stat(jit.stderr, 'deferred');
      // The pages that got hot, whether or not the worker's translation came back before the
      // boot ended (how many do depends on the host's load: 17 to 77 of ~275 at a threshold of
      // 1000 on the 2-core machine). Hot pages hardly depend on it: the guest runs the same.
      expect(stat(jit.stderr, 'hot'), what).toBeGreaterThan(env.SHYPER_JIT_BACKGROUND === '0' ? 400 : 200);
      // Each was translated or declined, or was still with the worker at the end: at least one is back.
      expect(pages + declined, what).toBeGreaterThan(0);
      expect(background, what).toBe(env.SHYPER_JIT_BACKGROUND === '0' ? 0 : pages);
      if (env.SHYPER_JIT_DEFER === undefined && env.SHYPER_JIT_BACKGROUND === undefined) {
        // Pages with no inner loop declined, and on the wasm interpreter instead. How many depends
        // on how many of the worker's replies came back before the boot ended (a quarter to a third
        // of them: 11-18 of ~55 idle, 3 of 12 with three CPU hogs beside it, 4 in a CI run where a
        // bound of 5 failed); which pages are declined, and what then, is jit-background.test.ts's.
        expect(declined, what).toBeGreaterThan(0);
      } else expect(declined, what).toBe(0);
      // On the guest's thread, what runs translated is fixed: most of it. On the worker it depends
      // on when pages arrive: 29-63% of the instructions in runs of one build on the 2-core
      // machine (session 14: a 50% bound here failed a clean-clone CI run at 48%, under load).
      expect(ran / Number(count(jit.stderr)), what).toBeGreaterThan(env.SHYPER_JIT_BACKGROUND === '0' ? 0.5 : 0.1);
    }
  });

  it('boots again from the translation cache the first boot left: same output, same instructions', async () => {
    // The cache (jit/persist.ts) holds the pages the first run translated; the second installs
    // them when it first fetches from them, long before they would be hot, and must not differ.
    const dir = mkdtempSync(join(tmpdir(), 'shyper-jit-cache-'));
    try {
      // (At the threshold of session 10: enough pages translated to make the cache worth testing;
      // every hot page translated, none left to the wasm interpreter for having no inner loop.)
      const env = { SHYPER_JIT_CACHE: join(dir, 'cache.bin'), SHYPER_JIT_THRESHOLD: '20000', SHYPER_JIT_DEFER: '0' };
      const cold = await boot(env);
      expect(cold.code, cold.stderr).toBe(0);
      expect(cold.stderr).toMatch(/ cached=0 cache-hits=0\b/);
      expect(statSync(env.SHYPER_JIT_CACHE).size).toBeGreaterThan(100_000);
      // What the worker translated before the boot ended (host timing: 17-42 pages), one record a page.
      const records = cacheRecords(env.SHYPER_JIT_CACHE);
      expect(records).toBeGreaterThan(3);
      const warm = await boot(env);
      expect(warm.code, warm.stderr).toBe(0);
      expect(warm.stdout).toBe(cold.stdout);
      expect(count(warm.stderr)).toBe(count(cold.stderr));
      // The warm boot runs the same and so meets every record's words at a page's first fetch;
      // those whose module the worker compiled before the page was hot are installed from it.
      expect(stat(warm.stderr, 'cache-hits'), warm.stderr).toBeGreaterThanOrEqual(records);
      expect(stat(warm.stderr, 'cached'), warm.stderr).toBeGreaterThan(0);
      // (Not compared: how much ran translated in each. The warm run's pages wait for the worker
      // to compile their records, the cold run's for it to translate them: which comes first is
      // the host's timing. "More ran translated warm" failed 2 runs in 4 under the suite's load,
      // from this session's code and from session 17's alike: 20 M warm against 33 M cold.)
      // --no-jit-cache leaves it alone.
      const off = await boot(env, ['--no-jit-cache']);
      expect(off.stdout).toBe(cold.stdout);
      expect(off.stderr).toMatch(/ cached=0 cache-hits=0\b/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the default rk3588 run under the hypervisor, translator on vs --interpreter', { timeout: 1_200_000 }, () => {
  const hv = ['--board', 'rk3588', '--append', 'shyper.test=1', '--timeout', '500', '--stats'];
  it('four VMs print the same, in the same order, and retire the same instructions: cold, and warm from the translation cache', async () => {
    // Regression: after an ERET from EL2 that queued a virtual interrupt, translated code ran on
    // to its next helper call where the interpreter stopped after one instruction, so vIRQs
    // landed elsewhere (11 more instructions in this run, and different ones whenever what ran
    // translated changed: the cache, worker timing).
    const interp = await boot({}, ['--interpreter'], hv);
    expect(interp.code, interp.stderr).toBe(0);
    expect(interp.stdout).toContain('[vm0] shyper-mvm: test done');
    const dir = mkdtempSync(join(tmpdir(), 'shyper-jit-cache-'));
    try {
      const env = { SHYPER_JIT_THRESHOLD: '1000', SHYPER_JIT_CACHE: join(dir, 'cache.bin') };
      let records = 0;
      for (const run of ['cold', 'warm']) {
        const jit = await boot(env, [], hv);
        expect(jit.code, run).toBe(0);
        expect(jit.stdout, run).toBe(interp.stdout);
        expect(count(jit.stderr), run).toBe(count(interp.stderr));
        if (run === 'cold') {
          records = cacheRecords(env.SHYPER_JIT_CACHE);
          expect(records).toBeGreaterThan(100);
        } else {
          // Every page the cold run translated is met again (the VMs run the same kernel, so cold
          // runs take pages from the cache too), and those compiled in time are installed.
          expect(stat(jit.stderr, 'cache-hits')).toBeGreaterThanOrEqual(records);
          expect(stat(jit.stderr, 'cached')).toBeGreaterThan(100);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
