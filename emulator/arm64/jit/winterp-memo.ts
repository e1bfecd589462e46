// The wasm interpreter's memos of packed words (winterp.ts fillFunction): entering a word into
// its set, and the memos kept on disk between runs of one build. A memo entry depends only on the
// word, the decoder's feature set and the packers' code (winterp-pack.ts, winterp-wordpack.ts:
// the build), never on the guest or the run, so a memo one run filled is valid for the next run
// of the same build on cores of the same features. A kit boot packs ~56 K distinct words, each a
// call out of wasm into the decode tables (~0.3-1 us in code that is still cold); with the memo
// an earlier boot left, ~1 K.
//
// One file per feature set beside the launcher's bundle (the launcher's handoff names where:
// runtime.ts takeWasmInterpreter): a header line naming the build, the memo's geometry and the
// features, then the memo's bytes as they lie in wasm memory. A file of another build, geometry
// or feature set, or of another size, is not read; it is written again at exit (aside, then
// renamed, so a run never reads half of one), as is a memo that this run added many words to.
import { closeSync, fstatSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { ARENA_MEMO_BYTES, ARENA_MEMOS, MEMO_BITS, MEMO_ENTRY_BYTES, MEMO_WAYS } from './guest-memory.ts';

/** Where memos are kept: a path prefix, and the stamp of the build that may read them. */
export interface MemoStore {
  readonly prefix: string;
  readonly stamp: string;
}

let store: MemoStore | null = null;
/** Set by the boot (runtime.ts takeWasmInterpreter); null: memos live only as long as the run. */
export function setMemoStore(s: MemoStore | null): void {
  store = s;
}
export function memoStore(): MemoStore | null {
  return store;
}

/**
 * Keep memos beside the wasm interpreter's file `file` (the launcher's, runtime.ts
 * takeWasmInterpreter), for the build `stamp`; SHYPER_WINTERP_MEMO=PREFIX puts them elsewhere,
 * 0 keeps none.
 */
export function keepMemosBeside(file: string, stamp: string): void {
  const env = process.env.SHYPER_WINTERP_MEMO;
  if (env !== '0') setMemoStore({ prefix: env || file.replace(/\.wasm$/, ''), stamp });
}

/**
 * Words packed into a loaded memo during a run before it is written back at exit: fewer are the
 * collisions a 2-way memo keeps losing (a kit boot on its own memo packs ~1 K), not new code.
 */
export const MEMO_SAVE_MIN = 4096;

/** Bump when the entry's layout changes in a way the build stamp would not show. */
const FORMAT = 1;

function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

export function memoFile(s: MemoStore, features: string): string {
  return `${s.prefix}-memo-${fnv1a(features)}.bin`;
}

function header(s: MemoStore, features: string): Buffer {
  return Buffer.from(`shyper-emu winterp memo ${FORMAT} ${s.stamp} ${MEMO_BITS} ${MEMO_WAYS} ${MEMO_ENTRY_BYTES} ${features}\n`);
}

/**
 * Read the memo of `features` into bytes[at, at + ARENA_MEMO_BYTES) (zeros there: a memo not yet
 * used). True when a file of this build was read whole; otherwise the memo is left empty.
 */
export function loadMemo(s: MemoStore, features: string, bytes: Uint8Array, at: number): boolean {
  const head = header(s, features);
  let fd: number | undefined;
  try {
    fd = openSync(memoFile(s, features), 'r');
    if (fstatSync(fd).size !== head.length + ARENA_MEMO_BYTES) return false;
    const got = Buffer.alloc(head.length);
    if (readSync(fd, got, 0, head.length, 0) !== head.length || !got.equals(head)) return false;
    // Straight into the memo (wasm memory), no copy.
    let done = 0;
    while (done < ARENA_MEMO_BYTES) {
      const n = readSync(fd, bytes, at + done, ARENA_MEMO_BYTES - done, head.length + done);
      if (n === 0) break;
      done += n;
    }
    if (done === ARENA_MEMO_BYTES) return true;
    bytes.fill(0, at, at + ARENA_MEMO_BYTES); // a file cut short meanwhile: nothing of it
    return false;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Write the memo at bytes[at...] for the next run (errors ignored: a read-only cache directory). */
export function saveMemo(s: MemoStore, features: string, bytes: Uint8Array, at: number): void {
  const file = memoFile(s, features);
  const tmp = `${file}.${process.pid}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    writeSync(fd, header(s, features));
    // Straight from wasm memory (a copy would be 4 MB of fresh pages to fault in at exit).
    const memo = bytes.subarray(at, at + ARENA_MEMO_BYTES);
    for (let done = 0; done < memo.length; ) done += writeSync(fd, memo, done);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, file);
  } catch {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {}
  }
}

/**
 * The memos of one guest memory's arena: a packed word entered into its set (enter), and those
 * kept on disk: each read when it is handed out to a decoder (keep), all written back at exit
 * when none was read or the run packed many words into it.
 */
export class KeptMemos {
  private readonly kept: { store: MemoStore; features: string; at: number; loaded: boolean }[] = [];
  /** Words packed into each memo of the arena in this run, by its number. */
  private readonly packs = new Int32Array(ARENA_MEMOS);
  private readonly words: Int32Array;

  /** `base`: the arena's first memo in `bytes` (the wasm memory). */
  constructor(private readonly bytes: Uint8Array, private readonly base: number) {
    this.words = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
  }

  /**
   * The slot just packed at `slot` for `word` goes into the memo entry at `entry`, the first way
   * of its set (winterp.ts fillFunction): each way moves down one, the last one's entry dropped.
   */
  enter(entry: number, slot: number, word: number): void {
    // (Word by word: copyWithin, a call into the runtime, was ~10 ms of a kit boot.)
    const w = this.words;
    const e = entry >> 2;
    const t = slot >> 2;
    this.packs[((entry - this.base) / ARENA_MEMO_BYTES) | 0]++;
    for (let k = (MEMO_WAYS - 1) * (MEMO_ENTRY_BYTES / 4) - 1; k >= 0; k--) w[e + MEMO_ENTRY_BYTES / 4 + k] = w[e + k]!;
    w[e] = w[t]!;
    w[e + 1] = w[t + 1]!;
    w[e + 2] = w[t + 2]!;
    w[e + 3] = w[t + 3]!;
    w[e + 4] = word;
  }

  keep(s: MemoStore, features: string, at: number): void {
    const loaded = loadMemo(s, features, this.bytes, at);
    if (this.kept.length === 0) process.on('exit', () => this.save());
    this.kept.push({ store: s, features, at, loaded });
  }

  save(): void {
    for (const { store: s, features, at, loaded } of this.kept) {
      if (!loaded || this.packs[(at - this.base) / ARENA_MEMO_BYTES]! >= MEMO_SAVE_MIN) saveMemo(s, features, this.bytes, at);
    }
  }
}
