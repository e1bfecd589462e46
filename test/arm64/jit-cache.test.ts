// The translation cache's file (emulator/arm64/jit/persist.ts): records come back as written, and
// a file of another build, a truncated or a corrupt one is ignored rather than trusted or fatal.
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pageHash, TranslationCache, type CachedPage } from '../../emulator/arm64/jit/persist.ts';

const dir = mkdtempSync(join(tmpdir(), 'shyper-persist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function record(seed: number, features = 'fp16,lse'): CachedPage {
  const words = new Uint8Array(4096);
  for (let i = 0; i < 4096; i++) words[i] = (i * 31 + seed * 17) & 0xff;
  const entries = new Uint8Array(1024);
  entries[seed % 1024] = 1;
  entries[7] = 1;
  const bytes = new Uint8Array(100 + seed).fill(seed & 0xff);
  return { hash: pageHash(words), features, slack: 32, words, entries, translated: 10 + seed, calls: seed, bytes };
}

describe('translation cache file', () => {
  it('gives back what was written, found by the words, features and slack', () => {
    const file = join(dir, 'a.bin');
    const c = new TranslationCache(file, 'v1');
    expect(c.loaded).toEqual([]);
    const [r1, r2] = [record(1), record(2)];
    c.add(r1);
    c.add(r2);
    c.save();
    const d = new TranslationCache(file, 'v1');
    expect(d.loaded.map((r) => [r.hash, r.translated, r.calls, r.bytes.length])).toEqual([
      [r1.hash, 11, 1, 101],
      [r2.hash, 12, 2, 102],
    ]);
    const found = d.find(r2.words, pageHash(r2.words), 'fp16,lse', 32);
    expect(found?.bytes).toEqual(r2.bytes);
    expect(found?.entries).toEqual(r2.entries);
    expect(d.find(r2.words, pageHash(r2.words), 'fp16', 32)).toBeUndefined();
    expect(d.find(r2.words, pageHash(r2.words), 'fp16,lse', 1)).toBeUndefined();
    // Same hash, other words (a collision): not a match.
    const other = r2.words.slice();
    other[100] ^= 1;
    expect(d.find(other, r2.hash, 'fp16,lse', 32)).toBeUndefined();
    // lookup: the same answers, found through the page's sample of words first.
    expect(d.lookup(r2.words.slice(), 'fp16,lse', 32)?.bytes).toEqual(r2.bytes);
    expect(d.lookup(r1.words.slice(), 'fp16,lse', 32)?.bytes).toEqual(r1.bytes);
    expect(d.lookup(r2.words, 'fp16', 32)).toBeUndefined();
    expect(d.lookup(other, 'fp16,lse', 32)).toBeUndefined();
    for (const at of [0, 511 * 4, 1023 * 4]) {
      const w = r2.words.slice();
      w[at] ^= 1;
      expect(d.lookup(w, 'fp16,lse', 32), `word at ${at}`).toBeUndefined();
    }
    // A record added in this run is found the same way.
    const r3 = record(3);
    d.add(r3);
    expect(d.lookup(r3.words.slice(), 'fp16,lse', 32)?.bytes).toEqual(r3.bytes);
  });

  it('a newer translation of the same words replaces the older one', () => {
    const file = join(dir, 'b.bin');
    const c = new TranslationCache(file, 'v1');
    c.add(record(3));
    const newer = { ...record(3), bytes: new Uint8Array([9, 9, 9]) };
    c.add(newer);
    c.save();
    const d = new TranslationCache(file, 'v1');
    expect(d.loaded.length).toBe(1);
    expect(d.loaded[0]!.bytes).toEqual(new Uint8Array([9, 9, 9]));
  });

  it('ignores a file of another build, a truncated one and garbage', () => {
    const file = join(dir, 'c.bin');
    const c = new TranslationCache(file, 'v1');
    c.add(record(4));
    c.add(record(5));
    c.save();
    expect(new TranslationCache(file, 'v2').loaded).toEqual([]);
    const whole = readFileSync(file);
    truncateSync(file, whole.length - 10);
    expect(new TranslationCache(file, 'v1').loaded).toEqual([]);
    // One bit flipped in the last record's words, entries or module bytes (105 of them): the
    // record is not found (checked when first looked up), the other one still is.
    const [r4, r5] = [record(4), record(5)];
    for (const at of [105 + 1024 + 50, 105 + 10, 20]) {
      const flipped = Buffer.from(whole);
      flipped[whole.length - at]! ^= 0x10;
      writeFileSync(file, flipped);
      const d = new TranslationCache(file, 'v1');
      const words = at > 105 + 1024 ? flipped.subarray(whole.length - 105 - 1024 - 4096, whole.length - 105 - 1024) : r5.words;
      expect(d.find(new Uint8Array(words), pageHash(new Uint8Array(words)), 'fp16,lse', 32), `flip at -${at}`).toBeUndefined();
      expect(d.find(r5.words, r5.hash, 'fp16,lse', 32), `flip at -${at}`).toBeUndefined();
      expect(d.find(r4.words, r4.hash, 'fp16,lse', 32)?.bytes, `flip at -${at}`).toEqual(r4.bytes);
    }
    writeFileSync(file, Buffer.from('not a cache at all'));
    expect(new TranslationCache(file, 'v1').loaded).toEqual([]);
  });

  it('a file that cannot be written costs nothing but the cache', () => {
    writeFileSync(join(dir, 'plain'), 'x');
    const c = new TranslationCache(join(dir, 'plain', 'sub', 'cache.bin'), 'v1');
    c.add(record(6));
    expect(() => c.save()).not.toThrow();
  });
});
