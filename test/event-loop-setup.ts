// Each test file's worker lets its event loop turn after every test. Vitest's runner goes from
// one test to the next on promises alone; while tests run synchronously (an oracle suite, a boot)
// the worker reads no message from the main process, and its call to report the tasks' progress
// (onTaskUpdate) times out once 60 s of them have passed: "Unhandled error: [vitest-worker]:
// Timeout calling onTaskUpdate", a failed run with every test passed (seen on the 2-core machine,
// where test/oracle/differential.test.ts takes ~170 s). A turn of the loop takes the reply.
import { afterEach } from 'vitest';

afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
