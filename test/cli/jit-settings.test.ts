// The translator's settings come from the environment (emulator/arm64/jit/settings.ts): a malformed
// one is a usage error like a bad flag -- one line naming it, exit 2, no stack trace.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

it.each(['SHYPER_JIT_THRESHOLD', 'SHYPER_JIT_OPTIMIZE_AFTER', 'SHYPER_JIT_WARMUP'])('%s=-3 is one line and exit 2', (name) => {
  const r = spawnSync('node', ['bin/shyper-emu.js', '--help'], { encoding: 'utf8', env: { ...process.env, [name]: '-3' } });
  expect(r.status).toBe(2);
  expect(r.stderr).toBe(`shyper-emu: ${name} must be a whole number >= 0 (got '-3')\n`);
  expect(r.stdout).toBe('');
});
