// The launcher's bundle: src/cli.ts and every module it imports, as one CommonJS file built by
// esbuild and kept in node_modules/.cache/shyper-emu/. Node loads one plain JavaScript file in
// ~0.1 s, where tsx's loader took ~0.5 s to transform ~200 modules one by one through its hooks
// thread. The sources stay the truth (vitest and tsc read them directly); the bundle is a cache,
// rebuilt whenever one of its inputs changed, so a fresh clone still needs no build step.
// It runs with V8's code cache beside it (runBundle): CommonJS because Node 20 caches no compiled
// code for ES modules.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { isAscii } from 'node:buffer';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
// Named after the clone: git worktrees may share one node_modules (a symlink), and each must run
// its own sources, not whichever worktree built last.
export const BUNDLE = bundlePath(ROOT);

export function bundlePath(root) {
  root = resolve(root); // one spelling per clone: no trailing slash
  return join(root, 'node_modules', '.cache', 'shyper-emu', `cli-${fnv1a(root)}.cjs`);
}

/**
 * The translator's worker thread (emulator/arm64/jit/worker.ts) as a bundle of its own beside the
 * CLI's, built with it: the CLI's bundle knows its path (SHYPER_JIT_WORKER_BUNDLE, defined at
 * build time) and bin/jit-worker.js loads it.
 */
export function workerBundlePath(file) {
  return join(dirname(file), basename(file).replace(/^cli-/, 'jit-worker-').replace(/\.cjs$/, '.mjs'));
}

// Bump when the build below changes in a way its inputs' stamps would not show.
const FORMAT = 2;
// First line of the bundle: `// shyper-emu-bundle {key, files: [[path, mtimeMs, size], ...]}`.
// Inside the bundle itself, so one rename replaces bundle and manifest together.
const TAG = '// shyper-emu-bundle';
// Not module inputs, but they change the output: the build's own code, the tsconfig and the
// package.json esbuild reads (also where a new esbuild version would show).
const EXTRA_INPUTS = ['bin/bundle.js', 'tsconfig.json', 'package.json'];

function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** What else the bundle depends on: where the clone is (source URLs are baked in) and the format. */
function key(root) {
  return `${FORMAT} ${root}`;
}

/** The manifest of the bundle at `file`, or null if there is none or it cannot be read. */
function readManifest(file) {
  let fd;
  try {
    fd = openSync(file, 'r');
    let buf = Buffer.alloc(0);
    let end = -1;
    while (end < 0) {
      const more = Buffer.alloc(Math.max(64 * 1024, buf.length)); // the line is ~15 KB today
      const n = readSync(fd, more, 0, more.length, buf.length);
      if (n === 0) return null;
      buf = Buffer.concat([buf, more.subarray(0, n)]);
      end = buf.indexOf(10);
    }
    const line = buf.toString('utf8', 0, end);
    return line.startsWith(`${TAG} `) ? JSON.parse(line.slice(TAG.length + 1)) : null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function stamp(root, rel) {
  const s = statSync(join(root, rel));
  return [rel, s.mtimeMs, s.size];
}

/**
 * True when the bundle at `file` was built from the files as they are now: each input's mtime and
 * size equal what was recorded when the build read it (~200 stats, ~1-2 ms). A changed, removed or
 * renamed input, a moved clone or another build format makes it stale. A new file only matters
 * once some input imports it, and that input's stamp then changes.
 */
export function isFresh(root = ROOT, file = bundlePath(root)) {
  root = resolve(root);
  const m = readManifest(file);
  if (!m || m.key !== key(root) || !Array.isArray(m.files)) return false;
  try {
    // (Joined by hand: path.join normalizes each, and its first ~200 calls of a process run in
    // V8's interpreter, ~2-8 ms of every start on a 2-core machine. `rel` is relative() output.)
    const prefix = root + sep;
    for (const [rel, mtimeMs, size] of m.files) {
      const s = statSync(prefix + rel);
      if (s.mtimeMs !== mtimeMs || s.size !== size) return false;
    }
  } catch {
    return false;
  }
  return true;
}

/**
 * Build the bundle of `root`'s src/cli.ts into `file`. Written to a temporary file and renamed,
 * so a concurrent launch sees the old bundle or the new one, never half of one (two launches that
 * both find it stale both build; the last rename wins, and both results are whole).
 */
export async function build(root = ROOT, file = bundlePath(root)) {
  root = resolve(root);
  const esbuild = await import('esbuild');
  const files = EXTRA_INPUTS.map((rel) => stamp(root, rel));
  // Each source's stamp is taken before esbuild reads it: an edit during the build then leaves a
  // stamp that no longer matches, and the next launch builds again.
  const sources = {
    name: 'shyper-sources',
    setup(b) {
      b.onLoad({ filter: /.*/, namespace: 'file' }, (args) => {
        files.push(stamp(root, relative(root, args.path)));
        if (!/\.[cm]?[jt]s$/.test(args.path)) return undefined; // anything else: esbuild's own loader
        const text = readFileSync(args.path, 'utf8');
        // Paths the sources compute from their own location (ROOT, guests/, the config schema)
        // must still point into the clone, not into node_modules/.cache: each module's
        // import.meta.url becomes the URL of its source file.
        const url = JSON.stringify(pathToFileURL(args.path).href);
        const contents = text.replace(/\bimport\.meta\.url\b/g, url);
        return { contents, loader: args.path.endsWith('ts') ? 'ts' : 'js' };
      });
    },
  };
  const workerFile = workerBundlePath(file);
  try {
    const w = await esbuild.build({
      absWorkingDir: root,
      entryPoints: ['emulator/arm64/jit/worker.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      banner: { js: TAG },
      legalComments: 'none',
      minifyWhitespace: true,
      write: false,
      outfile: workerFile,
      logLevel: 'silent',
      plugins: [sources],
    });
    const workerJs = w.outputFiles[0].text;
    if (/\bimport\.meta\b/.test(workerJs)) throw new Error('import.meta left in the worker bundle');
    const r = await esbuild.build({
      absWorkingDir: root,
      entryPoints: ['src/cli.ts'],
      define: { 'process.env.SHYPER_JIT_WORKER_BUNDLE': JSON.stringify(workerFile) },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      packages: 'external', // npm packages load from node_modules as usual
      sourcemap: 'external', // cli-*.cjs.map, read only under SHYPER_DEBUG (see the launcher)
      banner: { js: TAG }, // the manifest's line, filled in below (the map counts it)
      sourcesContent: false,
      legalComments: 'none',
      minifyWhitespace: true,
      write: false,
      outfile: file,
      logLevel: 'silent',
      plugins: [sources],
    });
    const js = r.outputFiles.find((o) => o.path.endsWith('.cjs')).text;
    const map = r.outputFiles.find((o) => o.path.endsWith('.map')).text;
    // Anything import.meta left would now see the bundle's location: refuse rather than run wrong.
    if (/\bimport\.meta\b/.test(js)) throw new Error('import.meta left in the bundle (only import.meta.url is rewritten)');
    if (!js.startsWith(`${TAG}\n`)) throw new Error('bundle does not start with its banner');
    // One stamp per file (both builds read the shared sources): the first, taken before either
    // read it, so an edit between the two builds still makes the bundle stale.
    const seen = new Set();
    const unique = files.filter(([rel]) => !seen.has(rel) && seen.add(rel));
    const manifest = `${TAG} ${JSON.stringify({ key: key(root), root, files: unique })}`;
    const mapLine = `//# sourceMappingURL=${basename(file)}.map\n`;
    mkdirSync(dirname(file), { recursive: true });
    removeLeftovers(dirname(file));
    // Map first: a bundle never points at a missing map (a racing build's map fits just as well
    // unless the sources changed in between, and it is only read for SHYPER_DEBUG stacks).
    writeAtomic(`${file}.map`, map);
    // The worker's bundle before the CLI's: a fresh CLI bundle always has its worker beside it.
    writeAtomic(workerFile, manifest + workerJs.slice(TAG.length));
    writeAtomic(file, manifest + js.slice(TAG.length) + mapLine);
    // The old bundle's compiled code (V8 would refuse it for the new source anyway).
    removeCodeCaches(file);
  } finally {
    await esbuild.stop?.(); // its service process would otherwise live as long as the emulator
  }
  return file;
}

/**
 * What earlier builds left: temporary files of builds killed between write and rename (an hour
 * old: not a running build's), and bundles of clones that were moved or removed.
 */
function removeLeftovers(dir) {
  for (const f of readdirSync(dir)) {
    const path = join(dir, f);
    try {
      if (f.endsWith('.tmp') && Date.now() - statSync(path).mtimeMs > 3600_000) unlinkSync(path);
      if (!/\.[cm]js$/.test(f)) continue;
      const root = readManifest(path)?.root;
      // Bundles of clones that are gone, and ES-module CLI bundles of an earlier format.
      if ((typeof root === 'string' && !existsSync(join(root, 'bin', 'bundle.js'))) || /^cli-.*\.mjs$/.test(f)) {
        unlinkSync(path);
        if (existsSync(`${path}.map`)) unlinkSync(`${path}.map`);
        removeCodeCaches(path);
      }
    } catch {}
  }
}

/**
 * V8's code cache of a CLI bundle for one family of runs (runBundle): its path. The cache holds
 * what the runs that made it compiled, and V8 reads all of it at every start: one cache for every
 * kind of run had grown to 1.1-1.5 MB after a test suite or a bench (run-elf, the hypervisor, the
 * bench's own code), against 0.77 MB for native boots alone, and a kit boot took ~7 ms longer to
 * start with it.
 */
export function codeCachePath(file, family) {
  return `${file}.${family}.v8`;
}

/**
 * Which code cache a command line uses: runs that compile much the same functions share one. A
 * handful of families, so the cache directory holds a handful of files.
 */
export function codeCacheFamily(argv) {
  const command = argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : null;
  if (command !== null) return ['run-elf', 'dtb', 'bench'].includes(command) ? command : 'other';
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  return argv.includes('--native') ? 'native' : 'hypervisor';
}

/** Every code cache of the bundle at `file`, with its runs (a rebuilt or removed bundle's). */
function removeCodeCaches(file) {
  const dir = dirname(file);
  const prefix = `${basename(file)}.`;
  for (const f of readdirSync(dir)) {
    if (f.startsWith(prefix) && /\.v8(\.runs)?$/.test(f)) unlinkSync(join(dir, f));
  }
}

/**
 * Runs of one kind (runKind) whose serialized cache did not grow before a run of that kind stops
 * serializing it at exit.
 */
const SETTLED_RUNS = 2;

/**
 * What kind of run this is, for the code cache: the command line without its files and values
 * (paths, numbers, a kernel command line), e.g. `--board qemu-virt --native --smp --kernel ...`.
 * Runs of one kind compile the same functions.
 */
export function runKind(argv) {
  return argv.filter((a) => a.startsWith('-') || /^[a-z][a-z0-9-]*$/.test(a)).join(' ');
}

/**
 * Run the CLI's bundle, with V8's code cache of it when there is one. Compiling the ~1 MB bundle
 * took ~20 ms of every start and the functions a run compiles on first call as much again; the
 * cache holds them compiled. It is made at the end of a run that had none, whose cache V8 refused
 * (another Node, other V8 flags: the launcher sets its flags before this) or that compiled more
 * than it holds, and replaced whole (written aside, then renamed), so concurrent runs never read
 * half of one.
 *
 * Serializing it costs 7-13 ms at every exit (a kit boot: ~2% of its wall time), mostly to find
 * that nothing grew: `.v8.runs` beside the cache counts, per kind of run, the runs since the
 * cache last grew, and a kind seen SETTLED_RUNS times without growth skips it (any kind still
 * serializes while V8 refuses the cache).
 */
export async function runBundle(file) {
  const cacheFile = codeCachePath(file, codeCacheFamily(process.argv.slice(2)));
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {}
  // esbuild writes anything beyond ASCII as escapes (only the manifest's paths may hold more): an
  // ASCII bundle becomes a string by a copy of its bytes (Latin-1) rather than by UTF-8's decoding,
  // which checks every byte (~5 ms of the 0.8 MB bundle on a 2-core machine).
  const bytes = readFileSync(file);
  const source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  // CommonJS's own wrapper, on the bundle's first line (the manifest comment): line numbers stay.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  // At exit, when V8 has compiled more of the bundle than the cache holds (a boot after a --help,
  // the first run, a refused cache): ~2 ms to serialize, a write only when it grew.
  process.once('exit', () => {
    try {
      const runsFile = `${cacheFile}.runs`;
      const kind = runKind(process.argv.slice(2));
      let runs = {};
      try {
        runs = JSON.parse(readFileSync(runsFile, 'utf8'));
      } catch {}
      const accepted = cachedData !== undefined && !script.cachedDataRejected;
      if (accepted && (runs[kind] ?? 0) >= SETTLED_RUNS) return;
      const data = script.createCachedData();
      const grew = !accepted || data.length > cachedData.length * 1.1;
      if (grew) writeAtomic(cacheFile, data);
      runs[kind] = grew ? 0 : (runs[kind] ?? 0) + 1;
      writeAtomic(runsFile, JSON.stringify(runs));
    } catch {}
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
}

function writeAtomic(file, data) {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {}
    throw e;
  }
}
