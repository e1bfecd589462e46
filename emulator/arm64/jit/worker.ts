// The translation worker's thread (background.ts): it answers each page request on its port with
// the compiled module, one at a time, in the order they came.
import { workerData, type MessagePort } from 'node:worker_threads';
import { compileRequest, type PageRequest } from './background.ts';
import { ALL_FEATURES } from '../features.ts';
import { BUDGET_SLACK } from './emitter.ts';
import './runtime.ts'; // the compiler tiers' V8 flags (baseline only, eager) are set there

const port = (workerData as { port: MessagePort }).port;
port.on('message', (r: PageRequest) => port.postMessage(compileRequest(r)));

// Warm-up, while the guest is still being loaded: V8 runs the emitters unoptimized at first, and
// the first real pages took ~5x their warm cost. A page of common instructions (ALU, flags,
// conditional select/compare, multiply/divide, loads/stores of each addressing form, pairs,
// branches, MRS, REV/CLZ, FP, acquire/release), assembled once by aarch64-linux-gnu-as, repeated
// to fill 4 KiB, translated from different entries so each compile is new to V8's module cache.
const WORDS = [
  0xd2820000, 0x8b020001, 0xd1004023, 0xab050064, 0x710004e6, 0xeb03003f, 0x540001e1, 0x92401d28, 0xaa0c0d6a, 0x4a0f01cd, 0xd37cee30, 0xd342fe72,
  0xd34536b4, 0xb3780ef6, 0x9a9ab338, 0x1a9f17fb, 0x9a81943c, 0xfa431844, 0x9b051883, 0x1b097d07, 0x9acc096a, 0xf940040d, 0x3862682e, 0x7940046f,
  0xb9800490, 0xf90008b1, 0x380014d2, 0xa9be7bfd, 0xa94153f3, 0xa8c27bfd, 0xb86858f5, 0xb82a7936, 0x10fffc17, 0x90000018, 0xb40000f9, 0x35fffbba,
  0x361800bb, 0x94000004, 0xd538d09c, 0xdac00c41, 0xdac01083, 0x1e622820, 0x4e62cc20, 0xc8dffcc5, 0x889ffd07, 0xd503201f, 0xd65f03c0,
];
if ((workerData as { warmUp?: boolean }).warmUp) {
  const words = new Uint8Array(4096);
  const view = new DataView(words.buffer);
  for (let i = 0; i < 1024; i++) view.setUint32(4 * i, WORDS[i % WORDS.length]!, true);
  for (let k = 0; k < 24; k++) {
    const entries = new Uint8Array(1024);
    for (let i = k * 7; i < 1024; i += 97 + k) entries[i] = 1;
    compileRequest({ id: 0, words, entries, features: [...ALL_FEATURES], first: true, full: false, optimize: false, slack: BUDGET_SLACK });
  }
}
