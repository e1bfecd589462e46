// A native boot's kernel, decompressed on zlib's threads while the launcher loads the bundle.
//
// Why: the kit's kernel takes ~50 ms to gunzip on a 2-core machine, and the boot command used to
// start it only once the bundle had loaded (~35 ms) and its options were parsed; the machine was
// set up before it finished, so the guest's first instruction waited ~30 ms for it. Started here,
// it is done by then. The boot command (src/kernel-prefetch.ts) takes the result only when it is
// of the same file, size included, and decompresses as before otherwise: a guess wrong here (an
// option value that looks like --native, a file changed meanwhile) costs time, never correctness.
//
// The kernel cache: a gzip kernel, once decompressed, is kept beside the bundle (at most
// KERNEL_CACHE_FILES of them, named by the file's path and stat), and later boots of it read that
// straight into guest RAM as they read an uncompressed Image. The kit's gunzip (~30 ms, and the
// fresh pages of its 7.5 MB output) shared the second core with the wasm interpreter's compile,
// which the boot then waited for: the kit boot's start-up 186 -> 150 ms.
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeFile } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Where the prefetch is left for the boot command: { path, promise of { size, out, file } } (out:
 * the bytes decompressed; null for a file that is not gzip, which the boot reads straight into
 * guest RAM: src/input.ts openInputImage; file: the kernel cache's copy of the decompressed bytes,
 * which the boot reads the same way).
 */
export const PREFETCH_KEY = Symbol.for('shyper-emu.kernel-prefetch');

/** How many decompressed kernels the kernel cache keeps (the newest): the kit's is 7.5 MB. */
export const KERNEL_CACHE_FILES = 3;

/** 64 bits of FNV-1a (two 32-bit hashes of different offsets), as hex. */
function hash64(s) {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < s.length; i++) {
    a = Math.imul(a ^ s.charCodeAt(i), 0x01000193);
    b = Math.imul(b ^ s.charCodeAt(i), 0x01000193);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/**
 * The kernel cache's file for the gzip kernel at `path` with stat `st`: any write to the file, or
 * a file put in its place, changes its ctime or inode, and so the name. The copy is used only if
 * its size is the gzip trailer's (ISIZE): a copy cut short is never booted.
 */
export function kernelCacheFile(dir, path, st) {
  return join(dir, `kernel-${hash64(`${path}|${st.dev}|${st.ino}|${st.size}|${st.mtimeMs}|${st.ctimeMs}`)}.img`);
}

/**
 * The kernel cache's copy of gzip file `path` (open as `fd`, stat `st`): { file, isize (the
 * gzip trailer's size), valid (the file is there, of that size) }.
 */
function copyOf(dir, path, fd, st) {
  const file = kernelCacheFile(dir, path, st);
  if (st.size < 18) return { file, isize: -1, valid: false };
  const trailer = Buffer.alloc(4);
  readSync(fd, trailer, 0, 4, st.size - 4);
  const isize = trailer.readUInt32LE(0);
  let valid = false;
  try {
    const copy = statSync(file);
    valid = copy.isFile() && copy.size === isize && isize > 0;
  } catch {}
  return { file, isize, valid };
}

/** Keep `out` as copy `c` (copyOf): only when the trailer's size will find it (not a multi-member gzip). */
function keep(c, out) {
  if (out.length === c.isize) keepKernel(c.file, out);
}

/** Where the launcher offers the kernel cache to the bundle's other boots (src/vm-setup.ts). */
export const KERNEL_CACHE_KEY = Symbol.for('shyper-emu.kernel-cache');

/**
 * Offer the kernel cache in `dir` to a hypervisor boot, whose VM 0 reads and decompresses its
 * kernel itself once the configs are read (the kit's: ~30 ms of its start-up): `read(path)` gives
 * the decompressed copy of gzip file `path` (null: none yet), `keep(path, out)` keeps `out`, its
 * bytes decompressed, as that copy. Neither ever throws.
 */
export function offerKernelCache(dir) {
  const withFile = (path, f) => {
    try {
      const fd = openSync(path, 'r');
      try {
        return f(copyOf(dir, path, fd, fstatSync(fd)));
      } finally {
        closeSync(fd);
      }
    } catch {
      return null;
    }
  };
  globalThis[KERNEL_CACHE_KEY] = {
    read: (path) => withFile(path, (c) => (c.valid ? readFileSync(c.file) : null)),
    keep: (path, out) => withFile(path, (c) => keep(c, out)),
  };
}

/**
 * Keep `out`, the decompressed bytes, as the kernel cache's `file` (written aside and renamed, on
 * libuv's threads while the boot runs), and drop the oldest copies beyond KERNEL_CACHE_FILES and
 * any write left half-done by a run that exited first. Failures (a read-only clone) are ignored.
 */
function keepKernel(file, out) {
  const tmp = `${file}.${process.pid}.tmp`;
  // A run that exits first leaves no half-written copy behind.
  const drop = () => {
    try {
      unlinkSync(tmp);
    } catch {}
  };
  process.once('exit', drop);
  writeFile(tmp, out, (e) => {
    process.off('exit', drop);
    try {
      if (e) throw e;
      renameSync(tmp, file);
      const dir = resolve(file, '..');
      const copies = [];
      for (const name of readdirSync(dir)) {
        if (!name.startsWith('kernel-')) continue;
        const f = join(dir, name);
        const st = statSync(f);
        if (name.endsWith('.img')) copies.push({ f, t: st.mtimeMs });
        else if (name.endsWith('.tmp') && st.mtimeMs < Date.now() - 600_000) unlinkSync(f);
      }
      copies.sort((x, y) => y.t - x.t);
      for (const c of copies.slice(KERNEL_CACHE_FILES)) unlinkSync(c.f);
    } catch {
      drop();
    }
  });
}
/** emulator/boot/linux-image.ts gzipOptions(data, MAX_KERNEL_BYTES): one output chunk of the trailer's size (a test checks they agree). */
export function gunzipOptions(data) {
  const max = 256 * 2 ** 20;
  const n = data.length;
  const isize = n >= 4 ? (data[n - 4] | (data[n - 3] << 8) | (data[n - 2] << 16) | (data[n - 1] << 24)) >>> 0 : 0;
  return { maxOutputLength: max, chunkSize: Math.min(Math.max(isize + 64, 1 << 16), max) };
}

/**
 * Start reading and decompressing the kernel of a `--native` boot (the default command) named by
 * `argv`; with `cacheDir`, through the kernel cache there.
 */
export function prefetchKernel(argv, root, cacheDir) {
  if (!argv.includes('--native') || (argv[0] !== undefined && !argv[0].startsWith('-'))) return;
  let kernel = join(root, 'guests', 'Image.gz');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--kernel') kernel = argv[i + 1];
    else if (argv[i].startsWith('--kernel=')) kernel = argv[i].slice('--kernel='.length);
  }
  if (typeof kernel !== 'string' || kernel === '') return;
  const path = resolve(kernel);
  const promise = new Promise((done, fail) => {
    // Read now (~1 ms): a callback would wait for the bundle's evaluation to end. Its first two
    // bytes first: an uncompressed kernel (a distribution's, 33 MB) is not read here at all.
    let data;
    let cached;
    try {
      const fd = openSync(path, 'r');
      try {
        const magic = Buffer.alloc(2);
        const st = fstatSync(fd);
        // A pipe or device (`--kernel <(zcat Image.gz)`) is left to the boot, which reads it once:
        // read here, its bytes would be gone.
        if (!st.isFile()) return done({ size: -1, out: null });
        if (readSync(fd, magic, 0, 2, 0) < 2 || magic[0] !== 0x1f || magic[1] !== 0x8b) return done({ size: st.size, out: null });
        if (cacheDir !== undefined) {
          cached = copyOf(cacheDir, path, fd, st);
          if (cached.valid) return done({ size: st.size, out: null, file: cached.file });
        }
        data = readFileSync(fd); // (the positioned reads left the file's offset at 0)
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      return fail(e);
    }
    // (node:zlib only now: a boot from the kernel cache or of an Image does without it, ~2 ms.)
    process.getBuiltinModule('node:zlib').gunzip(data, gunzipOptions(data), (e, out) => {
      if (e) return fail(e);
      done({ size: data.length, out });
      if (cached !== undefined) keep(cached, out);
    });
  });
  promise.catch(() => {}); // the boot command reports errors, if it takes this at all
  globalThis[PREFETCH_KEY] = { path, promise };
}

/** Where the wasm interpreter's compile is left for the boot command (emulator/arm64/jit/runtime.ts takeWasmInterpreter). */
export const WINTERP_KEY = Symbol.for('shyper-emu.winterp-prefetch');

/**
 * Start compiling the wasm interpreter (emulator/arm64/jit/winterp.ts) for a boot command, from
 * the bytes an earlier run of a build of the bundle left beside it (winterp-*.wasm: the bundle's
 * stamp, `size:mtime` as the translation cache keys it, a newline, the module), first thing in
 * the launcher; confirmWasmInterpreter drops it if the bundle turns out to be another build.
 *
 * Why: the module is compiled by V8's optimizing compiler, ~45-65 ms on a 2-core machine, and the
 * machine cannot be made before that; compiled here, on V8's platform thread, it is done while
 * this thread reads the kernel, compiles the bundle and sets up its modules (decode tables) and
 * the boot. The flags at rest are the optimizing compiler's (bin/shyper-emu.js), so none is
 * switched: V8 reads them when it starts the compile's work, after this returns, and checks the
 * bundle's code cache against them.
 */
export function prefetchWasmInterpreter(argv, bundle) {
  const handoff = { file: bundle.replace(/cli-([^/]*)\.cjs$/, 'winterp-$1.wasm'), stamp: null, fileStamp: null, module: null };
  globalThis[WINTERP_KEY] = handoff;
  const boot = argv[0] === undefined || argv[0].startsWith('-');
  if (!boot || ['--help', '-h', '--interpreter'].some((o) => argv.includes(o)) || process.env.SHYPER_JIT === '0' || process.env.SHYPER_WINTERP === '0') return;
  let data;
  try {
    data = readFileSync(handoff.file);
  } catch {
    return; // the first run of this clone: the boot command writes the file
  }
  const nl = data.indexOf(10);
  if (nl <= 0 || nl === data.length - 1) return; // not one of ours: written again
  handoff.fileStamp = data.subarray(0, nl).toString();
  handoff.module = WebAssembly.compile(data.subarray(nl + 1));
  handoff.module.catch(() => {}); // the boot command compiles it again, which reports errors
}

/**
 * The bundle's stamp, once the launcher knows it: the compile prefetchWasmInterpreter started is
 * dropped if its file is another build's (the boot command writes it again). Then a yield to the
 * event loop: V8 starts the compile's work from a task of this thread, once a platform thread has
 * decoded the module, and the bundle's synchronous setup would hold that task back until the
 * boot awaits the module. Started at the launcher's first line, the module is decoded by now (the
 * kernel's read and the bundle's check came between), so a turn of the loop is enough; started
 * after those with a yield of 1-5 ms instead (until session 16), the compile began only when the
 * boot awaited it in about half the runs, and the boot waited ~45 ms.
 */
export async function confirmWasmInterpreter(stamp) {
  const handoff = globalThis[WINTERP_KEY];
  if (handoff === undefined) return;
  handoff.stamp = stamp;
  if (handoff.module === null) return;
  if (handoff.fileStamp !== stamp) {
    handoff.module = null;
    return;
  }
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
}
