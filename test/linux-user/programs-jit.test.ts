// The qemu-aarch64 program suites (programs.test.ts) again with the WebAssembly translator forced
// on in every run-elf they start (SHYPER_JIT_THRESHOLD=0: each page translated at its first entry),
// plus a check that translation did happen in such a run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { describeOracle } from '../oracles.ts';

process.env.SHYPER_JIT = '1';
process.env.SHYPER_JIT_THRESHOLD = '0';
await import('./programs.test.ts');

describeOracle('run-elf with the translator forced on', ['cross-gcc'], () => {
  it('translates: --stats reports pages translated and instructions emitted', () => {
    const prog = 'test/programs/build/integer-O2';
    expect(existsSync(prog)).toBe(true); // built by the suites above
    const o = spawnSync('node', ['bin/shyper-emu.js', 'run-elf', '--stats', prog], { encoding: 'utf8' });
    const m = /jit: pages=(\d+) translate-ms=\d+ emitted=(\d+)/.exec(o.stderr);
    expect(m, o.stderr).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(Number(m![2])).toBeGreaterThan(0);
  });
});
