// Entry of the translator's worker thread (emulator/arm64/jit/background.ts): the bundled worker
// when the emulator runs from the launcher's bundle, else the TypeScript source through tsx (the
// worker thread does not inherit the main thread's tsx loader).
import { pathToFileURL } from 'node:url';
import { workerData } from 'node:worker_threads';

if (workerData.bundle) {
  await import(pathToFileURL(workerData.bundle).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../emulator/arm64/jit/worker.ts');
}
