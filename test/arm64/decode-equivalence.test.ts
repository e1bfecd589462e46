// The decoder's generated field extractors and its candidate index (pattern.ts) against the
// straightforward definition they replace: every field by a loop over the pattern's parts, the
// encoding by a scan of its [28:25] bucket in specificity order. For each word of a large sample
// (the kit's kernel Image and random words) both must give the same encoding, the same handler
// and the same fields: same property names in the same order, same values.
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Decoder, Exec, Fields, OpDef } from '../../emulator/arm64/decode/pattern.ts';
import { decoderFor, defaultDecoder } from '../../emulator/arm64/cpu.ts';
import { coreFeatures, type FeatureSet } from '../../emulator/arm64/features.ts';

/** Fields by the definition: concatenate the parts of a name, then sign-extend signed names. */
function referenceFields(def: OpDef, word: number): Fields {
  const f: Record<string, number> = {};
  for (const n of def.names) f[n] = 0;
  const widths: Record<string, number> = {};
  for (const p of def.parts) {
    const bits = (word >>> p.pos) & (p.len === 32 ? 0xffffffff : (1 << p.len) - 1);
    f[p.name] = f[p.name]! * 2 ** p.len + bits;
    widths[p.name] = (widths[p.name] ?? 0) + p.len;
  }
  for (const p of def.parts) {
    if (!p.signed) continue;
    const w = widths[p.name]!;
    const v = f[p.name]!;
    if (v >= 2 ** (w - 1)) f[p.name] = v - 2 ** w;
  }
  return f;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v; v &= v - 1) n++;
  return n;
}

/** The decode of the definition: most fixed bits first, declaration order otherwise. */
function referenceDecoder(all: readonly OpDef[], undef: Exec, features: FeatureSet) {
  const buckets: OpDef[][] = [];
  for (let b = 0; b < 16; b++) {
    const list = all.filter((d) => ((d.value ^ (b << 25)) & d.mask & (0xf << 25)) === 0);
    list.sort((a, c) => popcount(c.mask) - popcount(a.mask));
    buckets.push(list);
  }
  return (word: number): { def: OpDef | null; exec: Exec; fields: Fields } => {
    for (const d of buckets[(word >>> 25) & 0xf]!) {
      if (((word & d.mask) >>> 0) !== d.value) continue;
      if (d.feature !== undefined && !features.has(d.feature)) return { def: d, exec: undef, fields: { word } };
      const raw = referenceFields(d, word);
      const fields = d.prep ? d.prep(raw, word, features) : raw;
      if (fields === null) return { def: d, exec: undef, fields: { word } };
      return { def: d, exec: typeof fields.exec === 'function' ? fields.exec : d.exec, fields };
    }
    return { def: null, exec: undef, fields: { word } };
  };
}

/** Where two field objects differ (names, their order, values; nested objects compared alike), or null. */
function difference(a: unknown, b: unknown, path: string): string | null {
  if (Object.is(a, b)) return null;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return `${path}: ${String(a)} vs ${String(b)}`;
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${path}: kinds differ`;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.join() !== kb.join()) return `${path}: keys [${ka}] vs [${kb}]`;
  for (const k of ka) {
    const d = difference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d !== null) return d;
  }
  return null;
}

/** Words of the kernel Image from its start (head and text), then random words (fixed seed). */
function sample(kernelWords: number, randomWords: number): Uint32Array {
  const img = gunzipSync(readFileSync(new URL('../../guests/Image.gz', import.meta.url)));
  const n = Math.min(kernelWords, img.length >>> 2);
  const out = new Uint32Array(n + randomWords);
  const dv = new DataView(img.buffer, img.byteOffset, img.byteLength);
  for (let i = 0; i < n; i++) out[i] = dv.getUint32(i * 4, true);
  let s = 0x2545f491;
  for (let i = 0; i < randomWords; i++) {
    // xorshift32
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[n + i] = s >>> 0;
  }
  return out;
}

function compare(dec: Decoder, words: Uint32Array): string[] {
  const undef = dec.decode(0).exec;
  const ref = referenceDecoder(dec.all, undef, dec.features);
  const fails: string[] = [];
  for (const w of words) {
    const got = dec.decode(w);
    const want = ref(w);
    const hex = w.toString(16).padStart(8, '0');
    let d: string | null = null;
    if (got.def !== want.def) d = `encoding ${got.def?.name} vs ${want.def?.name}`;
    else if (got.exec !== want.exec) d = `handler ${got.exec.name} vs ${want.exec.name}`;
    else d = difference(got.fields, want.fields, 'fields');
    if (d !== null && fails.length < 20) fails.push(`${hex} ${want.def?.name}: ${d}`);
  }
  return fails;
}

describe('decoder against the reference decode', () => {
  const words = sample(300_000, 100_000);

  it('decodes the kernel Image and random words as the reference does (all features)', () => {
    expect(compare(defaultDecoder(), words)).toEqual([]);
  });

  it('and on a core without the optional features of Armv8.2 (Cortex-A72 without crypto)', () => {
    expect(compare(decoderFor(coreFeatures('cortex-a72', { crypto: false })), words.subarray(0, 150_000))).toEqual([]);
  });

  it('the raw fields of every encoding match the definition on words that match it', () => {
    // Exercise each pattern's extractor directly, even for encodings the sample above never hits.
    const dec = defaultDecoder();
    const fails: string[] = [];
    let s = 0x9e3779b9;
    for (const def of dec.all) {
      for (let k = 0; k < 64; k++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        const w = ((s & ~def.mask) | def.value) >>> 0;
        const d = difference(def.extract(w), referenceFields(def, w), 'fields');
        if (d !== null && fails.length < 20) fails.push(`${def.name} ${w.toString(16)}: ${d}`);
      }
    }
    expect(fails).toEqual([]);
  });
});
