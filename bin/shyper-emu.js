#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node --v8-pool-size=1 --max-semi-space-size=2
// Launcher. Node's option --v8-pool-size=1 (on the first line, as `npx shyper-emu` and
// `./bin/shyper-emu.js` run it; spawns of `node bin/shyper-emu.js` in the bench pass it too): V8's
// background work (optimizing compiles of both isolates, concurrent GC) goes to one platform
// thread instead of one per core. On 2 cores the guest's thread and the translation worker then
// keep theirs: the kit boot 1.34-1.42 -> 1.21-1.26 s, 4 CPUs 1.55-1.60 -> 1.44, rk3588 -2..-6%.
// It cannot be set from here (the thread pool exists before any script runs). Nor can
// --max-semi-space-size=2 (MB; V8's default for this machine grows each of the young
// generation's two halves to 16 MB): every page the young generation grows into is a first touch,
// ~10 us a 4 KiB page in the 2-core VM, and a smaller one is scavenged more often for the same GC
// time (kit 21 vs 22 ms, Debian 98 vs 83, rk3588 123 vs 122; RSS 3-12 MB less). Alternating runs
// of the launcher with and without it, both orders: kit run -20 ms, wall -13; Debian wall -23.
// The same line drops NODE_EXTRA_CA_CERTS from the environment: node reads and parses that file
// of certificates at every start (~36 ms before any script on this 2-core machine, where it is
// set system-wide), and shyper-emu makes no TLS connection. And it has glibc's malloc ask for
// transparent huge pages (madvise) for its heap and large blocks: on a host that gives them only
// on request (THP `madvise`, the common default), every first touch of a 4 KiB page is a fault,
// ~10 us each in the 2-core VM; V8's compilers and Node's buffers take their memory from malloc.
// A kit boot: 10.6 K -> 9.3 K faults, 10-20 ms less (alternating runs); glibc older than 2.35 and
// other C libraries ignore it. (src/commands/bench-hypervisor.ts spawns the emulator the same
// way for its figures.)
//
// A fresh clone needs no build step: the first run bundles the TypeScript sources into
// node_modules/.cache/shyper-emu/cli-*.cjs (bin/bundle.js, ~1 s) and later runs load that one file
// (~0.1 s to start instead of ~0.5 s through tsx's loader), rebuilding it when a source changed.
// If the bundle cannot be built (read-only clone, esbuild missing, a syntax error) the sources run
// through tsx as before, which also reports source errors the usual way. SHYPER_BUNDLE=0 forces
// tsx; SHYPER_DEBUG=1 says why a build failed and maps bundle stack frames back to the sources.
import { statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { BUNDLE, ROOT, build, isFresh, runBundle } from './bundle.js';
import { confirmWasmInterpreter, offerKernelCache, prefetchKernel, prefetchWasmInterpreter } from './prefetch.js';

// V8 tuned for an emulator on a small machine (set before any of our code
// is parsed; V8 flags are process-wide, so the translation worker has them too):
// - Inline less per function. Every instruction handler calls the memory accessors, whose slow
//   paths (soft-TLB miss, table walk, MMIO) V8 inlined in full: a four-line handler took 10-55 ms
//   to optimize, and optimizing ~400 of them cost ~1.5 s of CPU during a 1.3 s kit boot, on
//   threads that compete with the guest's on 2 cores. At 300 bytecodes per function (V8's
//   default is 920) that halves, and the hot accessors are still inlined.
// - No on-stack replacement. A function whose loop was compiled while running (the run loop) and
//   then caught a guest exception deoptimized at its catch every time: V8 reused the cached OSR
//   code compiled before the catch had run (~10 recompiles of the run loop per boot).
// - Calls from the run loop into translated code (a million and more per boot) go through a
//   compiled JS-to-wasm wrapper from the first, not V8's generic one (~40 ns more a call).
setFlagsFromString('--max-inlined-bytecode-size-cumulative=300');
setFlagsFromString('--no-use-osr');
setFlagsFromString('--no-wasm-generic-wrapper');
// The translator's wasm flags (emulator/arm64/jit/settings.ts sets them too, for the tests), set
// before the bundle is compiled: V8's code cache of the bundle is valid only under the flags it
// was made with, and it is made at exit, when these are in force. At rest they are the optimizing
// compiler's (the wasm interpreter's); translate.ts switches to the baseline one around a page's
// compile. (Tier-up off: --liftoff-only implies that and --no-liftoff-only does not undo it, so
// the flags at exit, when the cache is made, would differ from these.)
setFlagsFromString('--no-wasm-tier-up');
setFlagsFromString('--no-liftoff');
setFlagsFromString('--no-wasm-lazy-compilation');

// A boot's wasm interpreter starts compiling now, on V8's platform thread, and a --native boot's
// kernel decompressing, on zlib's threads, while the bundle loads (bin/prefetch.js).
prefetchWasmInterpreter(process.argv.slice(2), BUNDLE);
const kernelCache = process.env.SHYPER_KERNEL_CACHE === '0' ? undefined : dirname(BUNDLE);
prefetchKernel(process.argv.slice(2), ROOT, kernelCache);
if (kernelCache !== undefined) offerKernelCache(kernelCache);

async function bundle() {
  if (process.env.SHYPER_BUNDLE === '0') return null;
  if (isFresh()) return BUNDLE;
  try {
    return await build();
  } catch (e) {
    if (process.env.SHYPER_DEBUG) console.error(`shyper-emu: bundle not built, running through tsx: ${e?.message ?? e}`);
    return null;
  }
}

const file = await bundle();
if (file) {
  // The translation cache (emulator/arm64/jit/persist.ts) beside the bundle, valid for this build
  // of it only: its stamp changes with every rebuild, that is with any source change.
  const st = statSync(file);
  process.env.SHYPER_JIT_CACHE ??= join(dirname(file), basename(file).replace(/^cli-/, 'jit-cache-').replace(/\.cjs$/, '.bin'));
  process.env.SHYPER_JIT_CACHE_VERSION = `${st.size}:${st.mtimeMs}`;
  if (process.env.SHYPER_DEBUG) process.setSourceMapsEnabled(true);
  // (The wasm interpreter compiling since the first line: kept if its file is of this build.)
  await confirmWasmInterpreter(process.env.SHYPER_JIT_CACHE_VERSION);
  await runBundle(file);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    // No bundle and no tsx: the clone's packages were never installed (one line, exit 2).
    process.stderr.write(`shyper-emu: its npm packages are not installed: run \`npm ci\` in ${ROOT}\n`);
    process.exit(2);
  }
  register();
  await import('../src/cli.ts');
}
