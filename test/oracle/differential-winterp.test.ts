// The Unicorn differential suite (differential.test.ts) with the translator out of the way (a
// threshold no page reaches): every case's instruction runs on the wasm interpreter
// (jit/winterp.ts), or through its helper for operations it leaves to the handlers.
import { afterAll, expect } from 'vitest';
import { jitSettings, jitStats } from '../../emulator/arm64/jit/settings.ts';

jitSettings.enabled = true;
jitSettings.wasmInterpreter = true;
jitSettings.threshold = 2 ** 30;
process.env.ORACLE_PER_ENCODING ??= '100';
const before = jitStats.wran;
await import('./differential.test.ts');

afterAll(() => {
  // The variant means nothing unless the cases did run on the wasm interpreter.
  console.log(`wasm interpreter: ${jitStats.wran - before} instructions`);
  expect(jitStats.wran).toBeGreaterThan(before + 1000);
});
