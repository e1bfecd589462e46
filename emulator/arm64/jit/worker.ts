// The translation worker's thread (background.ts): it answers each page request on its port with
// the compiled module, one at a time, in the order they came.
//
// It does not warm up on synthetic pages before the first request: that was tried (session 5)
// and, once V8 optimized less eagerly (bin/shyper-emu.js), cost the 2-core machine more CPU at
// start-up than the earlier pages gained (kit boot: the same instructions translated, ~4% slower).
import { workerData, type MessagePort } from 'node:worker_threads';
import { compileRequest, type PageRequest } from './background.ts';
import './settings.ts'; // the compiler tiers' V8 flags (baseline only, eager) are set there
import { useSmallDecoderMemos } from '../decoders.ts';

// A page request decodes at most 1024 words: a CPU's memo of decoded words (3 MB until session
// 14, ~200 KB now) would only cost this thread its allocation and page faults before its first
// translation.
useSmallDecoderMemos();

const port = (workerData as { port: MessagePort }).port;
port.on('message', (r: PageRequest) => port.postMessage(compileRequest(r)));
