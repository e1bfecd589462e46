// Translation on the worker thread (emulator/arm64/jit/background.ts): pages come back while the
// guest runs on, and are put in at the next CPU run. The guest must see nothing of it: the same
// registers, memory and instruction counts as the interpreter at every run; and a page written
// while its translation is on the worker must never run that translation.
import { expect, it } from 'vitest';
import { describeOracle } from '../oracles.ts';
import { expectSame } from './jit-pair.ts';
import { TestCpu } from './harness.ts';
import { assemble } from './ls-oracle.ts';
import { DEFER_HEAT, jitStats } from '../../emulator/arm64/jit/settings.ts';
import { backgroundCompiler, MAX_IN_FLIGHT } from '../../emulator/arm64/jit/background.ts';
import { EC } from '../../emulator/arm64/cpu.ts';

// Sum of x0 * i over i = 1..0x3000, with a load and a store each round, then BRK.
const LOOP = ['mov x0, #3', 'mov x1, #0x3000', 'mov x2, #0', 'mov x3, #0x8000', '1: ldr x4, [x3]', 'madd x2, x0, x1, x2', 'add x4, x4, x2', 'str x4, [x3]', 'subs x1, x1, #1', 'b.ne 1b', 'brk #0'];

function load(t: TestCpu, words: number[]): void {
  for (let i = 0; i < words.length; i++) t.mem.ram.setUint32(TestCpu.CODE + 4 * i, words[i]! >>> 0, true);
  t.cpu.invalidateCodeRam(TestCpu.CODE, words.length * 4);
  t.cpu.pc = TestCpu.CODE;
}

/** Wait (the worker starts through tsx here: seconds) until `done` or 60 s have passed. */
async function until(done: () => boolean): Promise<void> {
  const t0 = Date.now();
  while (!done() && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 20));
}

describeOracle('translation on the worker thread', ['cross-as'], () => {
  it('installs pages while the guest runs, and the guest sees the same as on the interpreter', async () => {
    const words = assemble(LOOP);
    const jit = new TestCpu();
    const interp = new TestCpu();
    interp.cpu.jit = null;
    jit.cpu.jitThreshold = 5; // > 0: the background compiler translates (0 would translate here)
    for (const t of [jit, interp]) load(t, words);
    const installed0 = jitStats.background;
    let runs = 0;
    // Small runs, pausing between them so the worker can answer: pages arrive mid-loop.
    while (jit.traps.length === 0 && runs < 20_000) {
      const a = jit.cpu.run(97);
      const b = interp.cpu.run(97);
      expect(a).toBe(b);
      expectSame(jit, interp, `run ${++runs}`);
      if (jitStats.background === installed0) await until(() => (jit.cpu.jit!.poll(), jit.cpu.jit!.pending === 0));
    }
    expect(jit.traps[0]).toMatchObject({ ec: EC.BRK64 }); // the end of the program (run on, it traps again)
    expect(backgroundCompiler(), 'the worker started').not.toBeNull();
    expect(jitStats.background - installed0, 'the loop page was translated on the worker').toBeGreaterThan(0);
    expect(jit.x(2)).toBe(3n * ((0x3000n * 0x3001n) / 2n));
    // Nothing of this test left on the worker for the next one to count.
    await until(() => (jit.cpu.jit!.poll(), jit.cpu.jit!.pending === 0));
  }, 120_000);

  it('with MAX_IN_FLIGHT pages on the worker, more hot pages wait and go as it answers: each once, none written meanwhile', async () => {
    const t = new TestCpu();
    t.cpu.jitThreshold = 5;
    const jit = t.cpu.jit!;
    await until(() => (jit.poll(), jit.pending === 0)); // nothing of an earlier test in flight
    // Six pages of the loop, one after another in RAM.
    const words = assemble(LOOP);
    const pages = [0, 1, 2, 3, 4, 5].map((k) => {
      const base = TestCpu.CODE + k * 4096;
      for (let i = 0; i < words.length; i++) t.mem.ram.setUint32(base + 4 * i, words[i]! >>> 0, true);
      t.cpu.invalidateCodeRam(base, words.length * 4);
      const page = t.mem.codeCache.page(base, t.cpu.decoder);
      page.entries[0] = 1;
      page.heat = 100 + k;
      return page;
    });
    const installed0 = jitStats.background;
    for (const page of pages) jit.translateHot(page, t.cpu);
    expect(backgroundCompiler()!.inFlight).toBe(MAX_IN_FLIGHT);
    expect(pages.every((p) => p.pending)).toBe(true);
    expect(jit.pending).toBe(6);
    // Asked again while waiting (the run loop would not: they are pending): no second request.
    for (const page of pages) jit.translateHot(page, t.cpu);
    expect(jit.pending).toBe(6);
    // The guest writes the last page while it waits: its translation is never made.
    t.mem.ram.setUint32(TestCpu.CODE + 5 * 4096, words[0]! >>> 0, true);
    t.cpu.invalidateCodeRam(TestCpu.CODE + 5 * 4096, 4);
    expect(pages[5]!.valid).toBe(false);
    await until(() => (jit.poll(), jit.pending === 0));
    expect(pages.slice(0, 5).map((p) => p.code !== null)).toEqual([true, true, true, true, true]);
    expect(pages[5]!.code).toBeNull();
    expect(pages.map((p) => p.pending)).toEqual([false, false, false, false, false, false]);
    expect(jitStats.background - installed0).toBe(5);
  }, 120_000);

  it('declines a page with no inner loop at first (wasm interpreter), translates it optimized once DEFER_HEAT thresholds hotter; the guest sees the same', async () => {
    // Page 0: a loop calling f on page 1 (straight-line code entered at every call) 3000 times.
    const main = assemble(['mov x1, #3000', 'mov x2, #0', 'mov x3, #1', '1: bl 2f', 'subs x1, x1, #1', 'b.ne 1b', 'brk #0', '.balign 4096', '2: add x2, x2, x1', 'eor x3, x3, x2, lsl #3', 'add x2, x2, x3, lsr #7', 'ret']);
    const jit = new TestCpu();
    const interp = new TestCpu();
    interp.cpu.jit = null;
    jit.cpu.jitThreshold = 5;
    for (const t of [jit, interp]) load(t, main);
    const tr = jit.cpu.jit!;
    await until(() => (tr.poll(), tr.pending === 0)); // nothing of an earlier test in flight
    const f = jit.mem.codeCache.page(TestCpu.CODE + 4096, jit.cpu.decoder);
    const [deferred0, optimized0] = [jitStats.deferred, jitStats.optimized];
    let sawDeclined = false;
    let callsBefore = -1; // calls of f made when its translation came in
    let runs = 0;
    while (jit.traps.length === 0 && runs < 20_000) {
      expect(jit.cpu.run(53)).toBe(interp.cpu.run(53));
      expectSame(jit, interp, `run ${++runs}`);
      if (f.deferred && f.code === null) sawDeclined = true;
      if (f.code !== null && callsBefore < 0) callsBefore = 3000 - Number(jit.x(1));
      await until(() => (tr.poll(), tr.pending === 0));
    }
    expect(jit.traps[0]).toMatchObject({ ec: EC.BRK64 });
    expect(jitStats.deferred - deferred0, 'f declined once').toBe(1);
    const loop = jit.mem.codeCache.page(TestCpu.CODE, jit.cpu.decoder);
    expect([loop.deferred, loop.code !== null], 'the calling loop translated at once').toEqual([false, true]);
    expect(sawDeclined, 'f ran on the wasm interpreter meanwhile').toBe(true);
    expect(f.code, 'f translated in the end').not.toBeNull();
    expect(f.optimized).toBe(true);
    expect(jitStats.optimized - optimized0, 'by the optimizing compiler').toBeGreaterThanOrEqual(1);
    // Not before DEFER_HEAT thresholds of heat (each call enters f once; 60 calls here).
    expect(callsBefore).toBeGreaterThanOrEqual(DEFER_HEAT * jit.cpu.jitThreshold);
  }, 120_000);

  it('drops a translation whose page was written while it was on the worker', async () => {
    const t = new TestCpu();
    t.cpu.jitThreshold = 5;
    load(t, assemble(LOOP));
    const page = t.mem.codeCache.page(TestCpu.CODE, t.cpu.decoder);
    page.entries[0] = 1;
    const jit = t.cpu.jit!;
    jit.translateHot(page, t.cpu); // sent to the worker
    expect(page.pending).toBe(true);
    // The guest rewrites its code: `mov x0, #3` becomes `mov x0, #5` (a new page object).
    load(t, assemble(['mov x0, #5', ...LOOP.slice(1)]));
    const installed0 = jitStats.background;
    await until(() => (jit.poll(), jit.pending === 0));
    expect(page.valid).toBe(false);
    expect(page.code, 'the stale translation was not installed').toBeNull();
    expect(jitStats.background).toBe(installed0);
    t.cpu.run(1_000_000);
    expect(t.x(2)).toBe(5n * ((0x3000n * 0x3001n) / 2n));
  }, 120_000);
});
