// The translation cache on disk: the wasm of pages translated in earlier runs, keyed by what the
// page holds, so a later boot of the same kernel and programs starts with its hot code translated
// instead of interpreting each page 20000 entries' worth before the worker's translation arrives
// (FEX-Emu and Rosetta keep ahead-of-time caches of their translations the same way).
//
// A record is a page's 4096 bytes, the entries its translation covers, and the module bytes
// (translate.ts pageModuleBytes): a pure function of those words and entries, the core's optional
// features and the budget slack, and of the translator's own code, which the file's version
// string stands for (the launcher passes its bundle's stamp: any source change makes a new one).
// A page's words are compared whole on lookup; the hash only finds the candidates.
//
// Nothing the guest sees depends on the cache: translated code retires exactly the instructions
// the interpreter would (translate.ts), so output, instruction counts and interrupt points are the
// same with it, without it, and with a cache from another run. A file that is missing, of another
// version, truncated or corrupt is ignored (and replaced at exit); it is written to a temporary
// file and renamed, so concurrent runs each leave a whole file (the last one wins).
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const MAGIC = 0x434a4853; // "SHJC"
const FORMAT = 3; // 3: modules import a shared memory (guest-memory.ts)
/** Beyond this the least recently used records are left out when the file is written. */
export const MAX_CACHE_BYTES = 32 << 20;

export interface CachedPage {
  hash: number;
  features: string;
  slack: number;
  words: Uint8Array;
  entries: Uint8Array;
  translated: number;
  calls: number;
  bytes: Uint8Array;
  /** Compiled (by the worker), or undefined until then; asked for. */
  module?: WebAssembly.Module;
  requested?: boolean;
  /** As read from the file: the checksum its entries and bytes must have (verified before use). */
  sum?: number;
}

/** FNV-1a over a page's 1024 words. */
export function pageHash(words: Uint8Array): number {
  const v = new Int32Array(words.buffer, words.byteOffset, 1024);
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < 1024; i++) h = Math.imul(h ^ v[i]!, 0x01000193);
  return h >>> 0;
}

/** FNV-1a over a record's entries and module bytes (a damaged file must not run as code). */
function checksum(entries: Uint8Array, bytes: Uint8Array): number {
  let h = 0x811c9dc5 | 0;
  for (const b of [entries, bytes]) {
    const n = b.length & ~3;
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    for (let i = 0; i < n; i += 4) h = Math.imul(h ^ v.getInt32(i, true), 0x01000193);
    for (let i = n; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Three of a page's words mixed: a key the cache checks before hashing a page. Most pages a run
 * fetches are in no record, and the whole page's hash cost ~8 us each: a loop of 1024 that, in a
 * function called once per page, V8 runs in its baseline tiers (no on-stack replacement: see
 * bin/shyper-emu.js), ~9 ms of a kit boot for ~1100 pages.
 */
function sampleKey(words: Uint8Array): number {
  const v = new Int32Array(words.buffer, words.byteOffset, 1024);
  return (v[0]! ^ Math.imul(v[511]!, 0x9e3779b1) ^ Math.imul(v[1023]!, 0x85ebca6b)) | 0;
}

function sameWords(a: Uint8Array, b: Uint8Array): boolean {
  const x = new Int32Array(a.buffer, a.byteOffset, 1024);
  const y = new Int32Array(b.buffer, b.byteOffset, 1024);
  for (let i = 0; i < 1024; i++) if (x[i] !== y[i]) return false;
  return true;
}

export class TranslationCache {
  private readonly byHash = new Map<number, CachedPage[]>();
  /** sampleKey of every record's words. */
  private readonly samples = new Set<number>();
  /** Records in the order this run used or made them, then the ones it did not touch. */
  private readonly used = new Set<CachedPage>();
  private changed = false;
  /** Records read from the file (in the file's order: the order the last run first used them). */
  readonly loaded: CachedPage[];

  constructor(
    readonly file: string,
    readonly version: string,
  ) {
    this.loaded = this.read();
    for (const r of this.loaded) this.index(r);
  }

  /** The record for these words (and features, slack), if any: find without the hash of a page no record can be. */
  lookup(words: Uint8Array, features: string, slack: number): CachedPage | undefined {
    if (!this.samples.has(sampleKey(words))) return undefined;
    return this.find(words, pageHash(words), features, slack);
  }

  /** The record for these words (and features, slack), if any. */
  find(words: Uint8Array, hash: number, features: string, slack: number): CachedPage | undefined {
    const list = this.byHash.get(hash);
    if (list === undefined) return undefined;
    for (const r of list) {
      if (r.features === features && r.slack === slack && sameWords(r.words, words)) {
        // Read from the file: checked when first found, not when read (a large file would cost
        // every start the time to check records this run never meets).
        if (r.sum !== undefined) {
          if (pageHash(r.words) !== r.hash || checksum(r.entries, r.bytes) !== r.sum) {
            list.splice(list.indexOf(r), 1);
            return undefined;
          }
          r.sum = undefined;
        }
        this.used.add(r);
        return r;
      }
    }
    return undefined;
  }

  /** A page translated in this run: kept (replacing an older record of the same words). */
  add(r: CachedPage): void {
    const list = this.byHash.get(r.hash);
    const old = list?.findIndex((o) => o.features === r.features && o.slack === r.slack && sameWords(o.words, r.words)) ?? -1;
    if (old >= 0) {
      this.used.delete(list![old]!);
      list![old] = r;
    } else this.index(r);
    this.used.add(r);
    this.changed = true;
  }

  private index(r: CachedPage): void {
    this.samples.add(sampleKey(r.words));
    const list = this.byHash.get(r.hash);
    if (list === undefined) this.byHash.set(r.hash, [r]);
    else list.push(r);
  }

  /** Write the file if this run added to it: the records it used first, up to MAX_CACHE_BYTES. */
  save(): void {
    if (!this.changed) return;
    const all = [...this.used];
    for (const list of this.byHash.values()) for (const r of list) if (!this.used.has(r)) all.push(r);
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const fd = openSync(tmp, 'w');
      try {
        const version = Buffer.from(this.version);
        const head = Buffer.alloc(12);
        head.writeUInt32LE(MAGIC, 0);
        head.writeUInt32LE(FORMAT, 4);
        head.writeUInt32LE(version.length, 8);
        writeSync(fd, head);
        writeSync(fd, version);
        let total = 0;
        for (const r of all) {
          total += r.bytes.length + 5200;
          if (total > MAX_CACHE_BYTES) break;
          const features = Buffer.from(r.features);
          const h = Buffer.alloc(28);
          h.writeUInt32LE(r.hash, 0);
          h.writeUInt32LE(r.slack, 4);
          h.writeUInt32LE(r.translated, 8);
          h.writeUInt32LE(r.calls, 12);
          h.writeUInt32LE(features.length, 16);
          h.writeUInt32LE(r.bytes.length, 20);
          h.writeUInt32LE(checksum(r.entries, r.bytes), 24);
          writeSync(fd, h);
          writeSync(fd, features);
          writeSync(fd, r.words);
          writeSync(fd, r.entries);
          writeSync(fd, r.bytes);
        }
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.file);
      this.changed = false;
    } catch (e) {
      // A cache that cannot be written (read-only clone, full disk) costs the next run its speed only.
      if (process.env.SHYPER_JIT_DEBUG) process.stderr.write(`jit: translation cache not written: ${String(e)}\n`);
    }
  }

  /** The records of the file, or none when it is missing, of another version or damaged. */
  private read(): CachedPage[] {
    let buf: Buffer;
    try {
      buf = readFileSync(this.file);
    } catch {
      return [];
    }
    const out: CachedPage[] = [];
    try {
      if (buf.length < 12 || buf.readUInt32LE(0) !== MAGIC || buf.readUInt32LE(4) !== FORMAT) return [];
      const vlen = buf.readUInt32LE(8);
      if (buf.toString('utf8', 12, 12 + vlen) !== this.version) return [];
      let p = 12 + vlen;
      while (p < buf.length) {
        const hash = buf.readUInt32LE(p);
        const slack = buf.readUInt32LE(p + 4);
        const translated = buf.readUInt32LE(p + 8);
        const calls = buf.readUInt32LE(p + 12);
        const flen = buf.readUInt32LE(p + 16);
        const blen = buf.readUInt32LE(p + 20);
        const sum = buf.readUInt32LE(p + 24);
        p += 28;
        const end = p + flen + 4096 + 1024 + blen;
        if (end > buf.length) return [];
        const features = buf.toString('utf8', p, p + flen);
        p += flen;
        // Copies: each record's arrays must start 4-byte aligned for pageHash/sameWords.
        const words = new Uint8Array(buf.subarray(p, p + 4096));
        const entries = new Uint8Array(buf.subarray(p + 4096, p + 5120));
        const bytes = new Uint8Array(buf.subarray(p + 5120, end));
        p = end;
        out.push({ hash, features, slack, words, entries, translated, calls, bytes, sum });
      }
    } catch {
      return [];
    }
    return out;
  }
}
