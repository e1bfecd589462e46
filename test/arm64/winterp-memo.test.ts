// The wasm interpreter's memo of packed words (winterp.ts fillFunction, MEMO_WAYS entries a set)
// and its copy on disk between runs (winterp-memo.ts): slots filled from it must be what packing
// the word gives (the JavaScript interpreter in lockstep is the reference), a set holds
// MEMO_WAYS words before one is packed again, and a memo read from an earlier run's file packs
// nothing it holds -- unless the file is of another build, another feature set, or damaged.
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { pair, expectSame } from './jit-pair.ts';
import { jitStats } from '../../emulator/arm64/jit/settings.ts';
import { ARENA_MEMO_BYTES, MEMO_SET_BITS, MEMO_WAYS } from '../../emulator/arm64/jit/guest-memory.ts';
import { loadMemo, memoFile, saveMemo, setMemoStore, type MemoStore } from '../../emulator/arm64/jit/winterp-memo.ts';
import type { Translator } from '../../emulator/arm64/jit/runtime.ts';

const dirs: string[] = [];
afterEach(() => {
  setMemoStore(null);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function storeIn(stamp: string): MemoStore {
  const dir = mkdtempSync(join(tmpdir(), 'shyper-memo-'));
  dirs.push(dir);
  return { prefix: join(dir, 'winterp-0123abcd'), stamp };
}

const BRK = 0xd4200000;
const NOP = 0xd503201f;
/** The memo's set of a word (winterp.ts fillFunction's hash). */
const setOf = (w: number): number => Math.imul(w, 0x9e3779b1 | 0) >>> (32 - MEMO_SET_BITS);
/** MOVZ x(k % 8), #k */
const movz = (k: number): number => (0xd2800000 | (k << 5) | (k % 8)) >>> 0;

/** `n` MOVZ words of one memo set (not the set of B or BRK, which the program also runs). */
function sameSet(n: number): number[] {
  const out: number[] = [];
  for (let k = 1; out.length < n; k++) if (setOf(movz(k)) === setOf(movz(1))) out.push(movz(k));
  return out;
}

/** `body`, a B to the next page, `body` again there, BRK: each word filled twice, from two slot tables (the BRK is not run). */
function twoPages(body: number[]): number[] {
  const words = [...body, 0x14000000 | (1024 - body.length)];
  while (words.length < 1024) words.push(NOP);
  return [...words, ...body, BRK];
}

/** Run `count` instructions on the wasm interpreter, in lockstep with the JavaScript interpreter; words packed. */
function runPacked(words: number[], count: number): { packed: number; translator: Translator } {
  const { jit, interp } = pair(words, () => {}, 1, false);
  jit.cpu.jitThreshold = 2 ** 30; // every page on the wasm interpreter
  expect(jit.cpu.jit!.winterp).not.toBeNull();
  const before = jitStats.wpacked;
  for (let runs = 1; interp.cpu.instret < count; runs++) {
    const n = Math.min(7, count - interp.cpu.instret);
    expect(jit.cpu.run(n)).toBe(interp.cpu.run(n));
    expectSame(jit, interp, `run ${runs}`);
  }
  expect(interp.traps).toHaveLength(0);
  expect(jitStats.wran).toBeGreaterThan(0);
  return { packed: jitStats.wpacked - before, translator: jit.cpu.jit as Translator };
}

it(`a set holds ${MEMO_WAYS} words: none packed again; one more, and the set's words are packed again, every slot still right`, () => {
  expect(sameSet(MEMO_WAYS + 1).every((w) => setOf(w) !== setOf(BRK) && setOf(w) !== setOf(0x14000000 | (1024 - MEMO_WAYS)))).toBe(true);
  // MEMO_WAYS words and the B: each packed once, the second page's from the memo (the BRK is not run)
  const ways = twoPages(sameSet(MEMO_WAYS));
  expect(runPacked(ways, 2 * MEMO_WAYS + 1).packed).toBe(MEMO_WAYS + 1);
  // One more: the first ones were moved out of the set by the last, and so on round (FIFO): all
  // packed again on the second page. The registers agreeing with the JavaScript interpreter's
  // shows every slot was the word's own.
  expect(runPacked(twoPages(sameSet(MEMO_WAYS + 1)), 2 * (MEMO_WAYS + 1) + 1).packed).toBe(2 * (MEMO_WAYS + 1) + 1);
});

/** ADD x(i % 8), x((i + 3) % 8), #i: distinct words. */
const RUN = 40;
const PROGRAM = [...Array.from({ length: RUN }, (_, i) => (0x91000000 | ((i + 1) << 10) | (((i + 3) % 8) << 5) | (i % 8)) >>> 0), BRK];

it('a memo written at the end of a run is read by the next: nothing it holds is packed again', () => {
  const store = storeIn('123:456.5');
  setMemoStore(store);
  const first = runPacked(PROGRAM, RUN);
  expect(first.packed).toBe(RUN);
  first.translator.memosKept.save();
  const files = dirs.flatMap((d) => readdirNames(d));
  expect(files).toHaveLength(1);
  const file = join(dirs[0]!, files[0]!);
  expect(statSync(file).size).toBeGreaterThan(ARENA_MEMO_BYTES);
  const second = runPacked(PROGRAM, RUN);
  expect(second.packed).toBe(0);
  // Nothing new: not written again.
  const before = readFileSync(file);
  const mtime = statSync(file).mtimeMs;
  second.translator.memosKept.save();
  expect(statSync(file).mtimeMs).toBe(mtime);
  expect(readFileSync(file).equals(before)).toBe(true);
});

it("another build's memo, or one cut short, is not read, and is written again", () => {
  const store = storeIn('123:456.5');
  setMemoStore(store);
  runPacked(PROGRAM, RUN).translator.memosKept.save();
  setMemoStore({ ...store, stamp: '123:789' });
  const other = runPacked(PROGRAM, RUN);
  expect(other.packed).toBe(RUN);
  other.translator.memosKept.save();
  // Now it is that build's: the first build's runs do not read it.
  setMemoStore(store);
  expect(runPacked(PROGRAM, RUN).packed).toBe(RUN);
  const file = join(dirs[0]!, readdirNames(dirs[0]!)[0]!);
  const t = runPacked(PROGRAM, RUN);
  t.translator.memosKept.save();
  expect(runPacked(PROGRAM, RUN).packed).toBe(0);
  truncateSync(file, statSync(file).size - 1);
  expect(runPacked(PROGRAM, RUN).packed).toBe(RUN);
});

it("a memo is read only for its feature set, whole, into memory that stays empty otherwise", () => {
  const store = storeIn('1:2');
  const bytes = new Uint8Array(ARENA_MEMO_BYTES + 64);
  for (let i = 0; i < ARENA_MEMO_BYTES; i += 4093) bytes[32 + i] = (i * 7) & 0xff;
  saveMemo(store, 'AES,FP', bytes, 32);
  expect(memoFile(store, 'AES,FP')).not.toBe(memoFile(store, 'FP'));
  const into = new Uint8Array(ARENA_MEMO_BYTES + 64);
  expect(loadMemo(store, 'AES,FP', into, 16)).toBe(true);
  expect(Buffer.compare(into.subarray(16, 16 + ARENA_MEMO_BYTES), bytes.subarray(32, 32 + ARENA_MEMO_BYTES))).toBe(0);
  // The same file under another feature set's name: its header names its own.
  copyFileSync(memoFile(store, 'AES,FP'), memoFile(store, 'FP'));
  const empty = new Uint8Array(ARENA_MEMO_BYTES);
  expect(loadMemo(store, 'FP', empty, 0)).toBe(false);
  expect(empty.findIndex((b) => b !== 0)).toBe(-1);
  expect(loadMemo({ ...store, stamp: '1:3' }, 'AES,FP', empty, 0)).toBe(false);
  expect(loadMemo(store, 'SHA1', empty, 0)).toBe(false); // no file
  expect(empty.findIndex((b) => b !== 0)).toBe(-1);
});

function readdirNames(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.bin'));
}
