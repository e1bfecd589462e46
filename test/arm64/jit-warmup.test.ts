// The translator's warm-up (settings.ts DEFAULT_WARMUP): no page is translated before the CPUs have
// run that many instructions, however hot it is; then hot pages are, as before. (The rest of the
// suite runs with SHYPER_JIT_WARMUP=0, vitest.config.ts.)
import { afterEach, expect, it } from 'vitest';
import { describeOracle } from '../oracles.ts';
import { TestCpu } from './harness.ts';
import { assemble } from './ls-oracle.ts';
import { DEFAULT_WARM_HEAT, DEFAULT_WARMUP, jitSettings, jitStats } from '../../emulator/arm64/jit/settings.ts';

// Sum of x0 * i over i = 1..0x3000 (6 instructions a round, ~74 K in all), then BRK.
const LOOP = ['mov x0, #3', 'mov x1, #0x3000', 'mov x2, #0', 'mov x3, #0x8000', '1: ldr x4, [x3]', 'madd x2, x0, x1, x2', 'add x4, x4, x2', 'str x4, [x3]', 'subs x1, x1, #1', 'b.ne 1b', 'brk #0'];

/** A CPU at LOOP's first instruction, pages hot after 5 entries. */
function loopCpu(): TestCpu {
  const t = new TestCpu();
  t.cpu.jitThreshold = 5;
  const words = assemble(LOOP);
  for (let i = 0; i < words.length; i++) t.mem.ram.setUint32(TestCpu.CODE + 4 * i, words[i]! >>> 0, true);
  t.cpu.invalidateCodeRam(TestCpu.CODE, words.length * 4);
  t.cpu.pc = TestCpu.CODE;
  return t;
}

const saved = { warmup: jitSettings.warmup, background: jitSettings.background, warmHeat: jitSettings.warmHeat };
afterEach(() => Object.assign(jitSettings, saved));

describeOracle('the translator warm-up', ['cross-as'], () => {
  it('holds every page back until the CPUs have run the warm-up, then translates the hot one', () => {
    jitSettings.warmup = 30_000;
    jitSettings.background = false; // translated here, at once: what happens when is exact
    const t = loopCpu();
    const page = t.mem.codeCache.page(TestCpu.CODE, t.cpu.decoder);
    const hot0 = jitStats.hot;
    // The loop page passes the threshold thousands of times over before the warm-up is done.
    while (t.cpu.instret < 29_000) t.cpu.run(500);
    expect(page.code, 'translated during the warm-up').toBeNull();
    expect(jitStats.hot - hot0).toBe(0);
    while (t.cpu.instret < 40_000) t.cpu.run(500);
    expect(page.code, 'translated after the warm-up').not.toBeNull();
    expect(jitStats.hot - hot0).toBe(1);
    while (t.traps.length === 0) t.cpu.run(500);
    expect(t.x(2)).toBe(3n * ((0x3000n * 0x3001n) / 2n));
  });

  it('translates a page that gets very hot during the warm-up on the guest\'s thread, without a worker', () => {
    expect(DEFAULT_WARM_HEAT).toBe(4_000_000);
    jitSettings.warmup = 1e12; // never over in this test
    jitSettings.warmHeat = 3000;
    const t = loopCpu();
    const page = t.mem.codeCache.page(TestCpu.CODE, t.cpu.decoder);
    const workers0 = jitStats.workers;
    // Each loop round is a taken branch: ~3000 heat after ~3000 rounds (~18 K instructions).
    while (t.cpu.instret < 12_000) t.cpu.run(500);
    expect(page.code, 'translated below the warm heat').toBeNull();
    while (t.cpu.instret < 30_000) t.cpu.run(500);
    expect(page.code, 'translated once very hot').not.toBeNull();
    expect(page.pending).toBe(false);
    expect(jitStats.workers - workers0, 'a worker started').toBe(0);
    while (t.traps.length === 0) t.cpu.run(500);
    expect(t.x(2)).toBe(3n * ((0x3000n * 0x3001n) / 2n));
  });

  it('optimizes nothing during the warm-up: a page that asked then is optimized after it', () => {
    jitSettings.warmup = 45_000;
    jitSettings.warmHeat = 3000;
    jitSettings.background = false;
    const t = loopCpu();
    t.cpu.jitOptimizeAfter = 2000; // translated work before the page asks to be optimized
    const optimized0 = jitStats.optimized;
    let firstOptimized = -1;
    let checkedWarm = false;
    while (t.traps.length === 0) {
      t.cpu.run(100);
      if (firstOptimized < 0 && jitStats.optimized > optimized0) firstOptimized = t.cpu.instret;
      if (!checkedWarm && t.cpu.instret >= 40_000) {
        expect(t.mem.codeCache.page(TestCpu.CODE, t.cpu.decoder).code, 'translated during the warm-up (very hot)').not.toBeNull();
        checkedWarm = true;
      }
    }
    expect(checkedWarm).toBe(true);
    // Not before the warm-up's end, and soon after it: the page asked again after another
    // OPTIMIZE_AFTER of translated work (its request during the warm-up was not kept pending).
    expect(firstOptimized).toBeGreaterThanOrEqual(45_000);
    expect(firstOptimized).toBeLessThanOrEqual(45_000 + 2 * 2000 + 500);
    expect(t.x(2)).toBe(3n * ((0x3000n * 0x3001n) / 2n));
  });

  it('is 100 M instructions by default, and 0 translates from the start', () => {
    expect(DEFAULT_WARMUP).toBe(100_000_000);
    jitSettings.warmup = 0;
    jitSettings.background = false;
    const t = loopCpu();
    t.cpu.run(500);
    expect(t.mem.codeCache.page(TestCpu.CODE, t.cpu.decoder).code).not.toBeNull();
  });
});
