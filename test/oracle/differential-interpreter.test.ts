// The Unicorn differential suite (differential.test.ts) on the JavaScript interpreter alone: no
// translator, no wasm interpreter (jit/winterp.ts). Its handlers are what every other way of
// running falls back to (helper calls, soft-TLB misses), so they are checked on their own too.
import { afterAll, expect } from 'vitest';
import { jitSettings, jitStats } from '../../emulator/arm64/jit/settings.ts';

jitSettings.enabled = false;
process.env.ORACLE_PER_ENCODING ??= '200';
const before = jitStats.wran + jitStats.ran;
await import('./differential.test.ts');

afterAll(() => {
  expect(jitStats.wran + jitStats.ran).toBe(before);
});
