// The translation worker's thread (background.ts): it answers each page request on its port with
// the compiled module, one at a time, in the order they came.
import { workerData, type MessagePort } from 'node:worker_threads';
import { compileRequest, type PageRequest } from './background.ts';
import './runtime.ts'; // the compiler tiers' V8 flags (baseline only, eager) are set there

const port = (workerData as { port: MessagePort }).port;
port.on('message', (r: PageRequest) => port.postMessage(compileRequest(r)));
