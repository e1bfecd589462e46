// Translation on a second thread. Emitting a page's wasm and compiling it costs ~2-5 ms; done on
// the thread that runs the guest, that time is lost to the guest (the kit boot spent a quarter of
// its time translating), and it forces a high hotness threshold, so most of a boot stays
// interpreted. Here a worker thread does both (jit/worker.ts): the run loop sends a hot page's
// words and the entries it has seen, goes on interpreting it, and installs the compiled module
// when it comes back (a WebAssembly.Module crosses threads without being compiled again). The
// run loop polls for finished pages at each CPU run (receiveMessageOnPort: no event-loop turn
// needed), so the guest never waits for a compile.
//
// Nothing the guest sees depends on when a translation arrives: translated code retires exactly
// the instructions the interpreter would (translate.ts), so output, instruction counts and
// interrupt points stay the same whichever way a page runs. A page written while its translation
// is in flight is a new DecodedPage (code-cache.ts); the old one's result is dropped on arrival.
//
// The worker decodes the words itself with the same decoder (decoders.ts, by feature set), so the
// emitters, chosen by handler, are the same ones the synchronous path would choose.
import type { MessagePort, Worker } from 'node:worker_threads';
import { decoderFor } from '../decoders.ts';
import type { Exec, Fields } from '../decode/pattern.ts';
import type { Feature } from '../features.ts';
import { compileModule, pageModuleBytes, type TranslateStats } from './translate.ts';
import { jitStats } from './settings.ts';

/** A page to translate: its words, the entries seen, and how (translate.ts pageModuleBytes). */
export interface PageRequest {
  id: number;
  /** The page's 4096 bytes, as decoded when the request was made. */
  words: Uint8Array;
  entries: Uint8Array;
  /** The core's optional features (its decoder's). */
  features: Feature[];
  first: boolean;
  full: boolean;
  optimize: boolean;
  slack: number;
  /** Send the module's bytes back too (for the translation cache, persist.ts). */
  keepBytes?: boolean;
  /** Compile these module bytes as they are (a page from the translation cache): no emitting. */
  bytes?: Uint8Array;
  /** Decline (reply `deferred`) if what the entries reach has no inner loop (settings.ts DEFER_HEAT). */
  deferLoopless?: boolean;
}

export interface PageReply {
  id: number;
  /** The compiled module, or absent when translation failed (error says why). */
  module?: WebAssembly.Module;
  error?: string;
  /** The worker is gone: not this page's fault. */
  lost?: boolean;
  translated: number;
  calls: number;
  /** Time the worker spent on it (emit + compile). */
  ms: number;
  /** The module's bytes, when asked for (keepBytes). */
  bytes?: Uint8Array;
  /** Declined: no inner loop (deferLoopless); no module, no error. */
  deferred?: boolean;
}

/** The worker's work for one request (also callable in-process, for tests). */
export function compileRequest(r: PageRequest): PageReply {
  const t0 = performance.now();
  if (r.bytes !== undefined) {
    try {
      return { id: r.id, module: compileModule(r.bytes, r.optimize), translated: 0, calls: 0, ms: performance.now() - t0 };
    } catch (e) {
      return { id: r.id, error: String(e), translated: 0, calls: 0, ms: performance.now() - t0 };
    }
  }
  const stats: TranslateStats = { translated: 0, calls: 0 };
  const decoder = decoderFor(new Set(r.features));
  const view = new DataView(r.words.buffer, r.words.byteOffset, 4096);
  const fns: (Exec | undefined)[] = new Array(1024).fill(undefined);
  const args: Fields[] = new Array(1024).fill(undefined);
  const decode = (i: number): void => {
    const d = decoder.decode(view.getUint32(i * 4, true));
    fns[i] = d.exec;
    args[i] = d.fields;
  };
  try {
    const bytes = pageModuleBytes(fns, args, r.entries, decode, r.first, r.full, r.slack, stats, !r.optimize);
    if (r.deferLoopless === true && !stats.loops) return { id: r.id, deferred: true, translated: 0, calls: 0, ms: performance.now() - t0 };
    const module = compileModule(bytes, r.optimize);
    return { id: r.id, module, translated: stats.translated, calls: stats.calls, ms: performance.now() - t0, ...(r.keepBytes ? { bytes } : {}) };
  } catch (e) {
    return { id: r.id, error: String(e), translated: 0, calls: 0, ms: performance.now() - t0 };
  }
}

/**
 * Where the worker's code is: the launcher's bundle defines SHYPER_JIT_WORKER_BUNDLE as the
 * bundled worker (bin/bundle.js); run from the sources (tsx, vitest), bin/jit-worker.js loads
 * jit/worker.ts through tsx.
 */
const WORKER_BUNDLE: string | undefined = process.env.SHYPER_JIT_WORKER_BUNDLE;

/** Requests in flight at once: few, so what is compiled is what is hot now. */
export const MAX_IN_FLIGHT = 3;

/** The process's one translation worker; replies go to whoever made the request. */
export class BackgroundCompiler {
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private readonly receive: typeof import('node:worker_threads').receiveMessageOnPort;
  private nextId = 1;
  private readonly owners = new Map<number, (r: PageReply) => void>();
  /** Requests in flight that compile cached bytes (not counted in inFlight: they are not hot pages). */
  private readonly cachedIds = new Set<number>();
  /** Set when the worker could not start or died: translation goes back to the guest's thread. */
  failed: string | null = null;

  constructor() {
    // Node's worker_threads loaded here, not at start-up (~4 ms): most boots never start a worker
    // (settings.ts DEFAULT_WARMUP).
    const threads = process.getBuiltinModule('node:worker_threads');
    jitStats.workers++;
    this.receive = threads.receiveMessageOnPort;
    const { port1, port2 } = new threads.MessageChannel();
    this.port = port2;
    this.worker = new threads.Worker(new URL('../../../bin/jit-worker.js', import.meta.url), {
      workerData: { port: port1, bundle: WORKER_BUNDLE ?? null },
      transferList: [port1],
      stdout: false,
      stderr: false,
    });
    // Neither keeps the process alive: the emulator exits when its machine is done.
    this.worker.unref();
    this.port.unref();
    this.worker.on('error', (e) => this.fail(`translation worker failed: ${e.message}`));
    this.worker.on('exit', (code) => this.fail(`translation worker exited (${code})`));
  }

  private fail(why: string): void {
    this.failed ??= why;
    if (process.env.SHYPER_JIT_DEBUG) process.stderr.write(`jit: ${why}\n`);
    // Pages waiting on it are free to be translated again, on the guest's thread.
    for (const [id, done] of this.owners) done({ id, error: why, lost: true, translated: 0, calls: 0, ms: 0 });
    this.owners.clear();
    this.cachedIds.clear();
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.owners.size - this.cachedIds.size;
  }

  /** Send a page (its id is filled in); `done` runs from poll() when its reply is back. */
  request(r: Omit<PageRequest, 'id'>, done: (reply: PageReply) => void): void {
    const id = this.nextId++;
    this.owners.set(id, done);
    if (r.bytes !== undefined) this.cachedIds.add(id);
    this.port.postMessage({ ...r, id } satisfies PageRequest);
  }

  /** Hand the replies that have arrived to their owners. */
  poll(): void {
    for (;;) {
      const m = this.receive(this.port);
      if (m === undefined) return;
      const reply = m.message as PageReply;
      const done = this.owners.get(reply.id);
      this.owners.delete(reply.id);
      this.cachedIds.delete(reply.id);
      done?.(reply);
    }
  }
}

/** Whether a worker may be started (it has not failed): backgroundCompiler() without starting it. */
export function canStartBackgroundCompiler(): boolean {
  return shared === undefined || (shared !== null && shared.failed === null);
}

let shared: BackgroundCompiler | null | undefined;
/** The process's translation worker, started at the first call; null if it cannot run. */
export function backgroundCompiler(): BackgroundCompiler | null {
  if (shared === undefined) {
    try {
      shared = new BackgroundCompiler();
    } catch (e) {
      if (process.env.SHYPER_JIT_DEBUG) process.stderr.write(`jit: no translation worker: ${String(e)}\n`);
      shared = null;
    }
  }
  return shared !== null && shared.failed === null ? shared : null;
}
