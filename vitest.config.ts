import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Records the oracle suites skipped for want of a tool and names them in one line at the end.
    globalSetup: ['test/oracle-setup.ts'],
    // The workers' event loops turn between tests (the reports of long synchronous suites time out otherwise).
    setupFiles: ['test/event-loop-setup.ts'],
    // The translator's tests translate from the first instruction, not after the default warm-up
    // of 100 M (emulator/arm64/jit/settings.ts DEFAULT_WARMUP; test/arm64/jit-warmup.test.ts tests
    // it); the emulators they spawn inherit this too.
    env: { SHYPER_JIT_WARMUP: '0' },
  },
});
