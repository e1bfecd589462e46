// The Unicorn differential suite (differential.test.ts) again with the WebAssembly translator
// forced on: every page is translated at its first entry, so each case's instruction runs as
// generated code (or, for encodings without an emitter, through the helper from generated code).
// ORACLE_PER_ENCODING defaults to 60 here: each case translates a fresh page.
import { afterAll, expect } from 'vitest';
import { jitSettings, jitStats } from '../../emulator/arm64/jit/settings.ts';

jitSettings.enabled = true;
jitSettings.threshold = 0;
process.env.ORACLE_PER_ENCODING ??= '60';
const before = jitStats.pages;
await import('./differential.test.ts');

afterAll(() => {
  // The variant means nothing unless the cases did run translated.
  console.log(`jit: ${jitStats.pages - before} pages translated, ${jitStats.translated} instructions emitted, ${jitStats.calls} helper calls`);
  expect(jitStats.pages).toBeGreaterThan(before);
});
