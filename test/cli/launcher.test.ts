// The launcher (bin/shyper-emu.js + bin/bundle.js): it runs an esbuild bundle of the sources cached
// in node_modules/.cache/shyper-emu/, rebuilt when a source changes, and falls back to tsx when it
// cannot build one. The staleness and fallback cases run on a temporary copy of the sources so
// the clone's own bundle is left alone.
import { isAscii } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, STACK, type CliResult } from './run-cli.ts';
import { bundlePath, codeCacheFamily, isFresh, runKind } from '../../bin/bundle.js';
import { EMULATOR, LAUNCHER_TUNABLES } from '../../src/commands/bench-hypervisor.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CACHE = 'node_modules/.cache/shyper-emu';

function expectHelp(r: CliResult, what: string): void {
  expect(r.stderr, what).toBe('');
  expect(r.code, what).toBe(0);
  expect(r.stdout, what).toMatch(/^usage: shyper-emu/);
}

describe('launcher', () => {
  it('answers --help from a bundle with no import.meta left in it, and reuses that bundle', async () => {
    expectHelp(await runCli(['--help'], { cwd: ROOT }), 'first run (builds the bundle if stale)');
    const bundle = bundlePath(ROOT);
    expect(isFresh(ROOT)).toBe(true);
    const before = statSync(bundle);
    expectHelp(await runCli(['--help'], { cwd: ROOT }), 'second run');
    const after = statSync(bundle);
    expect([after.ino, after.mtimeMs], 'a fresh bundle is not rebuilt').toEqual([before.ino, before.mtimeMs]);
    const text = readFileSync(bundle, 'utf8');
    expect(text).not.toMatch(/\bimport\.meta\b/);
    // Paths computed from import.meta.url still point at the sources, not into the cache.
    expect(text).toContain(JSON.stringify(pathToFileURL(join(ROOT, 'hypervisor/config-schema.ts')).href));
    // Past its manifest line the bundle is ASCII (esbuild escapes the rest), which is what lets
    // runBundle read it as Latin-1.
    const bytes = readFileSync(bundle);
    expect(isAscii(bytes.subarray(bytes.indexOf(10) + 1))).toBe(true);
    // The manifest stamps each input once, the worker's sources among them.
    const files = (JSON.parse(text.slice(0, text.indexOf('\n')).replace(/^\/\/ shyper-emu-bundle /, '')) as { files: [string, number, number][] }).files.map((f) => f[0]);
    expect(new Set(files).size).toBe(files.length);
    expect(files).toEqual(expect.arrayContaining(['src/cli.ts', 'emulator/arm64/jit/worker.ts', 'bin/bundle.js']));
  });

  it('runs as an executable through its first line, which gives node the options of the bench (--v8-pool-size=1, a small young generation), drops NODE_EXTRA_CA_CERTS and puts malloc on huge pages', () => {
    expect(readFileSync(join(ROOT, 'bin/shyper-emu.js'), 'utf8').split('\n')[0]).toBe(`#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS GLIBC_TUNABLES=${LAUNCHER_TUNABLES} node ${EMULATOR.slice(0, -1).join(' ')}`);
    const r = spawnSync(join(ROOT, 'bin/shyper-emu.js'), ['--help'], { encoding: 'utf8', cwd: ROOT });
    expectHelp({ code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }, 'run as ./bin/shyper-emu.js');
  });

  // Where the host gives huge pages only on request (THP `madvise`, this project's machines), the
  // first line's tunable is what puts malloc's large blocks on them.
  const thp = existsSync('/sys/kernel/mm/transparent_hugepage/enabled') ? readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8') : '';
  it.runIf(thp.includes('[madvise]'))("GLIBC_TUNABLES of the first line puts a node's malloc on transparent huge pages", () => {
    // (The buffer kept alive to the end: unreferenced, it is freed before the read.)
    const script = 'const b = Buffer.alloc(64 << 20, 1); const kb = /AnonHugePages:\\s+(\\d+)/.exec(require("fs").readFileSync("/proc/self/smaps_rollup", "utf8"))[1]; process.stdout.write(b[1] === 1 ? kb : "?")';
    const huge = (tunables: string | undefined): number => {
      const env = { ...process.env, GLIBC_TUNABLES: tunables };
      if (tunables === undefined) delete env.GLIBC_TUNABLES;
      return Number(spawnSync('node', ['-e', script], { encoding: 'utf8', env }).stdout);
    };
    expect(huge(undefined)).toBe(0);
    expect(huge(LAUNCHER_TUNABLES)).toBeGreaterThanOrEqual(60 * 1024); // KiB: nearly all of the 64 MiB
  });

  describe('on a copy of the sources', () => {
    let dir = '';
    beforeAll(() => {
      // (A name beyond ASCII: the bundle's manifest line then is too, and is read as UTF-8.)
      dir = mkdtempSync(join(tmpdir(), 'shyper-launcher-é-'));
      for (const d of ['bin', 'src', 'emulator', 'hypervisor', 'boards']) cpSync(join(ROOT, d), join(dir, d), { recursive: true });
      for (const f of ['package.json', 'tsconfig.json']) cpSync(join(ROOT, f), join(dir, f));
      // A node_modules of its own (the cache goes there) whose packages are the clone's.
      mkdirSync(join(dir, 'node_modules'));
      for (const p of ['esbuild', 'tsx']) symlinkSync(join(ROOT, 'node_modules', p), join(dir, 'node_modules', p));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('rebuilds a stale bundle after a source change', async () => {
      expectHelp(await runCli(['--help'], { cwd: dir }), 'first run');
      const bundle = bundlePath(dir);
      expect(isFresh(dir)).toBe(true);
      expect(readFileSync(bundle, 'utf8')).toContain(JSON.stringify(pathToFileURL(join(dir, 'hypervisor/config-schema.ts')).href));
      const boot = join(dir, 'src/commands/boot.ts');
      writeFileSync(boot, readFileSync(boot, 'utf8').replace('usage: shyper-emu [options]', 'usage: shyper-emu [changed]'));
      expect(isFresh(dir)).toBe(false);
      const r = await runCli(['--help'], { cwd: dir });
      expectHelp(r, 'after the change');
      expect(r.stdout).toMatch(/^usage: shyper-emu \[changed\]/);
      expect(readFileSync(bundle, 'utf8')).toContain('usage: shyper-emu [changed]');
      expect(isFresh(dir)).toBe(true);
    });

    it('two launches building at once both run and leave one whole bundle', async () => {
      rmSync(join(dir, CACHE), { recursive: true, force: true });
      const rs = await Promise.all([runCli(['--help'], { cwd: dir }), runCli(['--help'], { cwd: dir })]);
      rs.forEach((r, i) => expectHelp(r, `launch ${i}`));
      const name = bundlePath(dir).split('/').pop()!;
      // The CLI's bundle, its map, V8's code cache of it (and its runs) and the translator
      // worker's bundle; no temporary files left.
      expect(readdirSync(join(dir, CACHE)).sort()).toEqual([name, `${name}.help.v8`, `${name}.help.v8.runs`, `${name}.map`, name.replace(/^cli-/, 'jit-worker-').replace(/\.cjs$/, '.mjs')]);
      expect(isFresh(dir), 'the bundle left is whole and fresh').toBe(true);
    });

    it("runs with V8's code cache of the bundle, and makes a new one when V8 refuses it", async () => {
      const cache = `${bundlePath(dir)}.help.v8`;
      expectHelp(await runCli(['--help'], { cwd: dir }), 'a run that may make the cache');
      const made = statSync(cache);
      expectHelp(await runCli(['--help'], { cwd: dir }), 'a run with the cache');
      const after = statSync(cache);
      expect([after.ino, after.mtimeMs], 'an accepted cache that holds as much is not written again').toEqual([made.ino, made.mtimeMs]);
      writeFileSync(cache, 'not a code cache');
      expectHelp(await runCli(['--help'], { cwd: dir }), 'a run with a corrupt cache');
      const remade = statSync(cache);
      expect(remade.size, 'the refused cache was replaced by a real one').toBeGreaterThan(made.size * 0.9);
      expectHelp(await runCli(['--help'], { cwd: dir }), 'a run with the new cache');
      expect(statSync(cache).mtimeMs, 'which V8 accepts').toBe(remade.mtimeMs);
    });

    it("a boot that compiled translated pages leaves a code cache V8 accepts at the next (V8's flags at exit are those at start)", async () => {
      // (translate.ts switches V8's wasm flags around each baseline compile: one left switched, or
      // switched back to other values than the launcher's, and V8 refuses the cache made at exit
      // at every start, which then makes it again: ~20 ms of every boot.)
      const args = ['--board', 'qemu-virt', '--native', '--smp', '1', '--kernel', join(ROOT, 'guests/Image.gz'), '--initrd', join(ROOT, 'guests/initramfs.cpio.gz'), '--append', 'shyper.test=1', '--stats'];
      const cache = `${bundlePath(dir)}.native.v8`;
      const boot = async (what: string): Promise<void> => {
        const r = await runCli(args, { cwd: dir, timeoutMs: 180_000 });
        expect(r.code, `${what}: ${r.stderr}`).toBe(0);
        expect(r.stderr, what).toMatch(/jit: pages=[1-9]/);
      };
      await boot('a boot that may make the cache');
      await boot('a boot that may make it grow');
      const before = statSync(cache);
      await boot('a boot with the cache');
      const after = statSync(cache);
      expect([after.ino, after.mtimeMs], 'the cache is not made again').toEqual([before.ino, before.mtimeMs]);
      // Another family of runs has a cache of its own: the boots' is left as it is.
      expectHelp(await runCli(['--help'], { cwd: dir }), 'a run of another family');
      expect(existsSync(`${bundlePath(dir)}.help.v8`)).toBe(true);
      const untouched = statSync(cache);
      expect([untouched.ino, untouched.mtimeMs, untouched.size]).toEqual([after.ino, after.mtimeMs, after.size]);
      expect(['--board rk3588', 'run-elf x', 'dtb -o y', 'bench jit', 'frob', '--native --help', '--native --smp 1'].map((a) => codeCacheFamily(a.split(' ')))).toEqual(['hypervisor', 'run-elf', 'dtb', 'bench', 'other', 'help', 'native']);
    }, 600_000);

    it('stops serializing the code cache at exit for a kind of run that no longer makes it grow', async () => {
      const runs = `${bundlePath(dir)}.help.v8.runs`;
      for (let i = 0; i < 3; i++) expectHelp(await runCli(['--help'], { cwd: dir }), `run ${i}`);
      expect(JSON.parse(readFileSync(runs, 'utf8'))['--help']).toBeGreaterThanOrEqual(2);
      const settled = statSync(runs);
      expectHelp(await runCli(['--help'], { cwd: dir }), 'a settled run');
      const after = statSync(runs);
      expect([after.ino, after.mtimeMs], 'a settled kind of run neither serializes nor counts').toEqual([settled.ino, settled.mtimeMs]);
      // Kinds: the command line's options and words, without files, numbers and free text.
      expect(runKind(['--board', 'qemu-virt', '--kernel', 'guests/Image.gz', '--smp', '4', '--append', 'console=ttyAMA0 x', 'boot'])).toBe('--board qemu-virt --kernel --smp --append boot');
    });

    it('runs through tsx when no bundle can be written', async () => {
      // A file where the cache directory should be: mkdir fails, as on a read-only clone (the
      // tests may run as root, for whom permissions would not stop the write).
      rmSync(join(dir, 'node_modules/.cache'), { recursive: true, force: true });
      writeFileSync(join(dir, 'node_modules/.cache'), '');
      expectHelp(await runCli(['--help'], { cwd: dir }), 'fallback');
      expect(existsSync(join(dir, CACHE))).toBe(false);
    });

    it('says in one line that npm ci is needed when the packages are not installed', async () => {
      rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
      const r = await runCli(['--help'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^shyper-emu: its npm packages are not installed: run `npm ci` in .+\n$/);
      expect(r.stderr).not.toMatch(STACK);
    });
  });
});
