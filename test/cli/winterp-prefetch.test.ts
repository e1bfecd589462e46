// The launcher's compile of the wasm interpreter (bin/prefetch.js prefetchWasmInterpreter), taken
// by the boot command (emulator/arm64/jit/runtime.ts takeWasmInterpreter): it must be the
// optimizing compiler's code (the flags at rest: V8 reads them when it starts the compile, after
// the call), translated pages must still get the baseline compiler and optimized ones the
// optimizing compiler, and a run without the file (or with another build's) leaves it for the
// next one.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { afterEach, expect, it } from 'vitest';
import { confirmWasmInterpreter, prefetchWasmInterpreter } from '../../bin/prefetch.js';
import { takeWasmInterpreter, translatorFor } from '../../emulator/arm64/jit/runtime.ts';
import { compileModule, optimizedBytes } from '../../emulator/arm64/jit/translate.ts';
import { wasmInterpreterBytes } from '../../emulator/arm64/jit/winterp.ts';
import { GuestMemory } from '../../emulator/arm64/jit/guest-memory.ts';
import '../../emulator/arm64/jit/settings.ts'; // the tiers' flags

setFlagsFromString('--allow-natives-syntax');
// (V8's test functions: parsed only now that the flag is set.)
const isTurboFan = new Function('f', 'return %IsTurboFanFunction(f)') as (f: unknown) => boolean;
const isLiftoff = new Function('f', 'return %IsLiftoffFunction(f)') as (f: unknown) => boolean;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  delete (globalThis as Record<symbol, unknown>)[Symbol.for('shyper-emu.winterp-prefetch')];
});

/** The file as a build stamped `stamp` writes it. */
function fileOf(stamp: string, bytes: Uint8Array = optimizedBytes(wasmInterpreterBytes())): Buffer {
  return Buffer.concat([Buffer.from(`${stamp}\n`), bytes]);
}

function bundleIn(): { bundle: string; wasm: string } {
  const dir = mkdtempSync(join(tmpdir(), 'shyper-winterp-'));
  dirs.push(dir);
  return { bundle: join(dir, 'cli-0123abcd.cjs'), wasm: join(dir, 'winterp-0123abcd.wasm') };
}

it('a boot without the file writes it: the bytes the optimizing compiler gets (marked)', async () => {
  const { bundle, wasm } = bundleIn();
  prefetchWasmInterpreter(['--native'], bundle);
  await confirmWasmInterpreter('123:456.5');
  expect(await takeWasmInterpreter()).toBe(false);
  expect(readFileSync(wasm)).toEqual(fileOf('123:456.5'));
});

it('another build\'s file is not compiled, and is written again', async () => {
  const { bundle, wasm } = bundleIn();
  writeFileSync(wasm, fileOf('123:456.5', wasmInterpreterBytes()));
  prefetchWasmInterpreter(['--native'], bundle);
  await confirmWasmInterpreter('123:789');
  const handoff = (globalThis as Record<symbol, { module: unknown }>)[Symbol.for('shyper-emu.winterp-prefetch')]!;
  expect(handoff.module).toBeNull();
  expect(await takeWasmInterpreter()).toBe(false);
  expect(readFileSync(wasm)).toEqual(fileOf('123:789'));
});

it('a file that does not compile is written again, and the module compiled here', async () => {
  const { bundle, wasm } = bundleIn();
  writeFileSync(wasm, fileOf('1:2', Buffer.from('not wasm')));
  prefetchWasmInterpreter(['--native'], bundle);
  await confirmWasmInterpreter('1:2');
  expect(await takeWasmInterpreter()).toBe(false);
  expect(readFileSync(wasm)).toEqual(fileOf('1:2'));
});

// (After the others: the module taken is the process's from then on.)
it('a boot takes the launcher\'s compile: TurboFan code; pages get the baseline compiler, optimized pages the optimizing one, and the flags come back to rest', async () => {
  const { bundle, wasm } = bundleIn();
  writeFileSync(wasm, fileOf('1:2'));
  prefetchWasmInterpreter(['--native', '--smp', '2'], bundle);
  await confirmWasmInterpreter('1:2');
  expect(await takeWasmInterpreter()).toBe(true);
  const translator = translatorFor(new GuestMemory(1 << 20).memory!);
  expect(isTurboFan(translator.winterp)).toBe(true);
  // Modules compiled now, of bytes no other test compiled (V8 keeps one compiled module per bytes:
  // the interpreter's, each time with another custom section after it).
  const unique = (name: string): Uint8Array<ArrayBuffer> => {
    const b = wasmInterpreterBytes();
    const out = new Uint8Array(b.length + 3 + name.length);
    out.set(b);
    out.set([0, 1 + name.length, name.length, ...[...name].map((c) => c.charCodeAt(0))], b.length);
    return out;
  };
  const instance = (m: WebAssembly.Module): unknown => new WebAssembly.Instance(m, { e: { m: new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }), h: () => 0, d: () => 0, c: () => 0 } }).exports.f;
  // a page gets the baseline compiler, an optimized page the optimizing one
  expect(isLiftoff(instance(compileModule(unique('page'), false)))).toBe(true);
  expect(isTurboFan(instance(compileModule(unique('hot'), true)))).toBe(true);
  // after a baseline compile, a plain one is the optimizing compiler's again
  expect(isTurboFan(instance(new WebAssembly.Module(unique('plain'))))).toBe(true);
});

it('commands other than a boot, --help and --interpreter start no compile', async () => {
  for (const argv of [['run-elf', 'x'], ['--help'], ['--native', '--interpreter'], ['bench']]) {
    const { bundle, wasm } = bundleIn();
    writeFileSync(wasm, fileOf('1:2'));
    prefetchWasmInterpreter(argv, bundle);
    await confirmWasmInterpreter('1:2');
    const handoff = (globalThis as Record<symbol, { module: unknown }>)[Symbol.for('shyper-emu.winterp-prefetch')]!;
    expect(handoff.module, argv.join(' ')).toBeNull();
  }
});

it('a machine made while the launcher\'s compile is being taken gets the interpreter once it is in (the boot awaits it before the guest runs)', async () => {
  const { bundle, wasm } = bundleIn();
  writeFileSync(wasm, fileOf('1:2'));
  prefetchWasmInterpreter(['--native'], bundle);
  await confirmWasmInterpreter('1:2');
  const taking = takeWasmInterpreter();
  const translator = translatorFor(new GuestMemory(1 << 20).memory!);
  expect(translator.winterp).toBeNull();
  expect(translator.hasWasmInterpreter).toBe(true);
  await taking;
  expect(translator.winterp).not.toBeNull();
  expect(isTurboFan(translator.winterp)).toBe(true);
  // one made after it is taken has it at once
  expect(translatorFor(new GuestMemory(1 << 20).memory!).winterp).not.toBeNull();
});
