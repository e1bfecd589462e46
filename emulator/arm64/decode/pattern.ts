// Instruction encodings declared as bit patterns, in the manner of QEMU's decodetree
// (target/arm/tcg/a64.decode): each line of a table is the ARM ARM's encoding diagram.
//
//   op('ADD_i', 'sf:1 0 0 100010 sh:1 imm12:12 rn:5 rd:5', exec.addImm)
//
// Tokens, most significant bit first, separated by spaces:
//   0 1 .      fixed bits / don't care (any run, e.g. 100010 or ..)
//   name:N     an N-bit unsigned field;  name:sN  sign-extended
//   A field name used twice is concatenated (first occurrence supplies the high bits), as for
//   ADR's immhi:immlo.
// Every pattern must describe exactly 32 bits; this is checked when the table is built.
//
// A handler receives the extracted fields as an object with a fixed shape per encoding, so the
// property loads in each handler stay monomorphic. An optional `prep` runs once at decode time to
// pre-compute what the handler needs (decoded immediates, XZR/SP register mapping) and may return
// null to declare the encoding UNDEFINED (the "unallocated" rows of the ARM ARM tables).
// The decoded result is cached per code page by the CPU, so decoding cost is paid once.
//
// An encoding of an optional feature is declared with `requires('LSE', ...ops)`: a decoder built
// for a feature set without it (a core that does not have it, see features.ts) decodes those words
// as UNDEFINED. A `prep` whose rows depend on a feature per word (FP16's ftype 11) reads the
// decoder's feature set, its third argument.

import type { Cpu } from '../cpu.ts';
import { ALL_FEATURES, type Feature, type FeatureSet } from '../features.ts';
import { PATTERNS } from './extractors.generated.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Fields = any;
export type Exec = (cpu: Cpu, f: Fields) => void;
export type Prep = (f: Fields, word: number, features: FeatureSet) => Fields | null;

export interface FieldPart {
  name: string;
  pos: number;
  len: number;
  signed: boolean;
}

/** The fields of a word that matches the encoding (see extractorSource). */
export type Extractor = (word: number) => Fields;

export interface OpDef {
  readonly name: string;
  readonly pattern: string;
  readonly mask: number;
  readonly value: number;
  readonly parts: FieldPart[];
  readonly names: string[];
  readonly exec: Exec;
  readonly prep?: Prep;
  /** The optional feature this encoding belongs to (UNDEFINED on a core without it). */
  readonly feature?: Feature;
  /** This encoding's field extractor, generated from its parts. */
  readonly extract: Extractor;
}

export function op(name: string, pattern: string, exec: Exec, prep?: Prep): OpDef {
  const p = PATTERNS.get(pattern) ?? parsePattern(name, pattern);
  return { name, pattern, mask: p.mask, value: p.value, parts: p.parts, names: p.names, exec, prep, extract: p.extract };
}

/** A pattern's fixed bits, fields and extractor (the part of an OpDef its pattern alone determines). */
export interface ParsedPattern {
  readonly mask: number;
  readonly value: number;
  readonly parts: FieldPart[];
  readonly names: string[];
  readonly extract: Extractor;
}

/** Parse a pattern (what extractors.generated.ts holds already made for the A64 tables' patterns). */
export function parsePattern(name: string, pattern: string): ParsedPattern {
  let pos = 32;
  let mask = 0;
  let value = 0;
  const parts: FieldPart[] = [];
  for (const tok of pattern.trim().split(/\s+/)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*):(s?)(\d+)$/.exec(tok);
    if (m) {
      const len = Number(m[3]);
      pos -= len;
      parts.push({ name: m[1]!, pos, len, signed: m[2] === 's' });
      continue;
    }
    if (!/^[01.]+$/.test(tok)) throw new Error(`${name}: bad pattern token '${tok}'`);
    for (const ch of tok) {
      pos -= 1;
      if (ch !== '.') {
        mask |= 1 << pos;
        if (ch === '1') value |= 1 << pos;
      }
    }
  }
  if (pos !== 0) throw new Error(`${name}: pattern is ${32 - pos} bits, not 32: ${pattern}`);
  const names = [...new Set(parts.map((p) => p.name))];
  return { mask: mask >>> 0, value: value >>> 0, parts, names, extract: lazyExtractor(parts, names) };
}

/** An encoding's field shape (its parts, in pattern order), which alone determines its extractor. */
function shapeKey(parts: FieldPart[]): string {
  return parts.map((p) => `${p.name}:${p.pos}:${p.len}${p.signed ? 's' : ''}`).join(' ');
}

/**
 * The source of extractors.generated.ts: every pattern of `defs` (the A64 tables) parsed, with one
 * extractor per field shape, written once by `npx tsx scripts/gen-extractors.ts` and checked
 * against the tables by test/arm64/pattern.test.ts, as QEMU's build runs decodetree over its
 * .decode files. In the bundle the extractors are ordinary functions, so V8's code cache of the
 * bundle holds them compiled; made at run time (lazyExtractor: one source of every encoding,
 * compiled by new Function) they took ~15 ms of each thread's start and their first calls
 * compiled each of them again. Parsing the 671 patterns took another ~15-20 ms of each start.
 */
export function extractorsModuleSource(defs: OpDef[]): string {
  const shapes = new Map<string, { id: number; src: string }>();
  const patterns = new Map<string, string>();
  for (const d of defs) {
    if (patterns.has(d.pattern)) continue;
    const p = parsePattern(d.name, d.pattern);
    const key = shapeKey(p.parts);
    const src = extractorSource(p.parts, p.names);
    // (A field wider than 31 bits needs wideField: such a pattern is left to parsePattern.)
    if (src.includes('wide(')) continue;
    let shape = shapes.get(key);
    if (shape === undefined) {
      const parts = p.parts.map((q) => `{ name: '${q.name}', pos: ${q.pos}, len: ${q.len}, signed: ${q.signed} }`).join(', ');
      const extract = src.replace(/^function extract\(w\) \{ return (.*); \}$/, '(w: number): Fields => ($1)');
      shape = { id: shapes.size, src: `{ parts: [${parts}], names: [${p.names.map((n) => `'${n}'`).join(', ')}], extract: ${extract} }` };
      shapes.set(key, shape);
    }
    patterns.set(d.pattern, `  [${JSON.stringify(d.pattern)}, 0x${p.mask.toString(16)}, 0x${p.value.toString(16)}, S${shape.id}],`);
  }
  return [
    '// Generated from the decode tables by `npx tsx scripts/gen-extractors.ts` (pattern.ts',
    '// extractorsModuleSource): every pattern parsed, and the fields and extractor of every field',
    '// shape. Do not edit; test/arm64/pattern.test.ts checks that it matches the tables.',
    "import type { Extractor, FieldPart, Fields, ParsedPattern } from './pattern.ts';",
    '',
    'type Shape = { parts: FieldPart[]; names: string[]; extract: Extractor };',
    ...[...shapes.values()].map((x) => `const S${x.id}: Shape = ${x.src};`),
    '',
    '/** The A64 tables\' patterns: pattern, mask, value, shape. */',
    'const LIST: [string, number, number, Shape][] = [',
    ...[...patterns.values()],
    '];',
    '',
    '/** The A64 tables\' patterns, parsed (pattern.ts parsePattern). */',
    'export const PATTERNS: ReadonlyMap<string, ParsedPattern> = new Map(LIST.map(([p, mask, value, s]) => [p, { mask, value, ...s }]));',
    '',
  ].join('\n');
}

/** A named list of encodings: one table per encoding group of the ARM ARM. */
export function group(...ops: OpDef[]): OpDef[] {
  return ops;
}

/** The encodings of an optional feature (FEAT_<feature>). */
export function requires(feature: Feature, ...ops: OpDef[]): OpDef[] {
  return ops.map((d) => ({ ...d, feature }));
}

/**
 * The fields of `word` as `def` declares them: each name's parts concatenated (first part high),
 * sign-extended when declared signed. Property order is the order of first appearance.
 */
export function extractFields(def: OpDef, word: number): Fields {
  return def.extract(word);
}

/**
 * The source of a function returning one object literal with every field of the encoding:
 * decoding stays a handful of shifts (no per-word loop over the parts), and every Fields object
 * of an encoding has the same properties in the same order, so it has one hidden class and the
 * property loads of its prep and handler stay monomorphic.
 */
function extractorSource(parts: FieldPart[], names: string[]): string {
  const props = names.map((n) => `${n}: ${fieldExpr(parts.filter((p) => p.name === n))}`);
  return `function extract(w) { return { ${props.join(', ')} }; }`;
}

/** The encodings declared so far, by extractor index, and their extractors once generated. */
const declared: { parts: FieldPart[]; names: string[] }[] = [];
let generated: Extractor[] = [];

/**
 * Extractor i, generated at the first use of any: the extractors of every encoding declared by
 * then, as one Function. (One Function per encoding cost ~20 us each to create, ~9 ms of a kit
 * boot; V8 parses the one source lazily and compiles only the extractors called.)
 */
function compiledExtractor(i: number): Extractor {
  if (i >= generated.length) {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    generated = new Function('wide', `return [${declared.map((d) => extractorSource(d.parts, d.names)).join(',\n')}];`)(wideField) as Extractor[];
  }
  return generated[i]!;
}

/**
 * The extractor until its first use, which has it generated (compiledExtractor) and puts it in
 * the OpDef's place of this stand-in.
 */
function lazyExtractor(parts: FieldPart[], names: string[]): Extractor {
  const i = declared.length;
  declared.push({ parts, names });
  let compiled: Extractor | null = null;
  return function extractFirst(this: unknown, word: number): Fields {
    compiled ??= compiledExtractor(i);
    if (typeof this === 'object' && this !== null) (this as { extract: Extractor }).extract = compiled;
    return compiled(word);
  };
}

/** The expression of one field (its parts in pattern order) of the word `w`. */
function fieldExpr(ps: FieldPart[]): string {
  const width = ps.reduce((a, p) => a + p.len, 0);
  const signed = ps.some((p) => p.signed);
  // Wider than an int32 can hold unsigned: the general form (none of the A64 tables needs it).
  if (width > 31) return `wide(w, ${JSON.stringify(ps)})`;
  if (ps.length === 1) {
    const { pos, len } = ps[0]!;
    if (signed) return `((w << ${32 - pos - len}) >> ${32 - len})`;
    return pos + len === 32 ? `(w >>> ${pos})` : `((w >>> ${pos}) & ${(1 << len) - 1})`;
  }
  let below = width;
  const terms = ps.map((p) => {
    below -= p.len;
    const bits = `((w >>> ${p.pos}) & ${(1 << p.len) - 1})`;
    return below === 0 ? bits : `(${bits} << ${below})`;
  });
  const u = `(${terms.join(' | ')})`;
  return signed ? `((${u} << ${32 - width}) >> ${32 - width})` : u;
}

/** A field of more than 31 bits, in doubles. */
function wideField(word: number, ps: FieldPart[]): number {
  let v = 0;
  let width = 0;
  for (const p of ps) {
    v = v * 2 ** p.len + ((word >>> p.pos) & (p.len === 32 ? 0xffffffff : (1 << p.len) - 1));
    width += p.len;
  }
  return ps.some((p) => p.signed) && v >= 2 ** (width - 1) ? v - 2 ** width : v;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v; v &= v - 1) n++;
  return n;
}

export interface Decoded {
  def: OpDef | null;
  exec: Exec;
  fields: Fields;
}

/** Bits [31:21] of a word select its candidate list (most A64 encodings fix most of them). */
const INDEX_SHIFT = 21;
const INDEX_SIZE = 1 << (32 - INDEX_SHIFT);
/**
 * Decoded words kept for reuse (Decoder.memo): 2^14 slots (~200 KB). 2^18 (~3 MB) while every word
 * the wasm interpreter packed went in (the rk3588 run's kernels have ~73 K distinct words); since
 * only the words JavaScript runs do (jit/runtime.ts decodeSlot), 2^14: kit start-up -11 ms, run
 * -35 ms (less to allocate, fault in and scan in the GC), Debian and --interpreter the same, in
 * alternating runs (session 14).
 */
export const MEMO_BITS = 14;

/**
 * The matcher built from all tables. Overlaps are resolved by specificity: among the patterns
 * that match, the one with the most fixed bits wins (so an alias or a special case may be listed
 * beside its general form); equal specificity is a table error unless `allowOverlap` is used
 * deliberately (first declared wins).
 * The candidates are indexed by bits [31:21]: the list of a key holds, in specificity order, only
 * the encodings whose fixed bits among those agree with it, so a word is compared with one or two
 * patterns rather than with its whole ARM ARM top-level group.
 */
export class Decoder {
  /** Candidates by bits [31:21], each list made on first use. */
  private readonly index: (OpDef[] | undefined)[] = new Array<OpDef[] | undefined>(INDEX_SIZE);
  /** The encodings by bits [28:25] (the ARM ARM's op0), in specificity order. */
  private readonly op0: OpDef[][] = [];
  readonly all: OpDef[];
  /**
   * Words decoded lately, direct-mapped by a hash of the word: a kernel's code repeats the same
   * words (prologues, epilogues, moves) across pages, and a boot decodes each distinct word ~3
   * times on average. A hit shares the Decoded, fields included (handlers and emitters only read
   * them).
   */
  private readonly memoWord: Int32Array;
  private readonly memo: (Decoded | undefined)[];
  /** 32 - the memo's bits: the hash's shift. */
  private readonly memoShift: number;

  constructor(
    tables: OpDef[][],
    private readonly undefinedExec: Exec,
    /** The optional features this decoder implements (the CPU's core). */
    readonly features: FeatureSet = ALL_FEATURES,
    /**
     * log2 of the memo's slots: MEMO_BITS for CPUs; the translation worker, which decodes a few
     * pages, takes a smaller one (its first translation had waited for the 3 MB of 2^18 slots).
     */
    memoBits = MEMO_BITS,
  ) {
    this.memoWord = new Int32Array(1 << memoBits);
    this.memo = new Array<Decoded | undefined>(1 << memoBits).fill(undefined);
    this.memoShift = 32 - memoBits;
    this.all = tables.flat();
    // Stable sort: more fixed bits first, declaration order otherwise. (Each mask's bits counted
    // once, not at every comparison: ~3 ms of start-up.)
    const bits = new Map(this.all.map((d) => [d, popcount(d.mask)]));
    const sorted = [...this.all].sort((a, c) => bits.get(c)! - bits.get(a)!);
    for (let b = 0; b < 16; b++) this.op0.push(sorted.filter((d) => ((d.value ^ (b << 25)) & d.mask & (0xf << 25)) === 0));
  }

  /** The candidates of words whose bits [31:21] are `k`: the op0 list filtered on the other bits. */
  private candidates(k: number): OpDef[] {
    const key = (k << INDEX_SHIFT) >>> 0;
    const keyMask = ((INDEX_SIZE - 1) << INDEX_SHIFT) >>> 0;
    const list = this.op0[(key >>> 25) & 0xf]!.filter((d) => ((d.value ^ key) & d.mask & keyMask) === 0);
    this.index[k] = list;
    return list;
  }

  /** Every pair of encodings that can match the same word with the same specificity. */
  ambiguities(): string[] {
    const out: string[] = [];
    const a = this.all;
    for (let i = 0; i < a.length; i++) {
      for (let j = i + 1; j < a.length; j++) {
        const p = a[i]!, q = a[j]!;
        if (popcount(p.mask) !== popcount(q.mask)) continue;
        const common = p.mask & q.mask;
        if (((p.value ^ q.value) & common) === 0) out.push(`${p.name} / ${q.name}`);
      }
    }
    return out;
  }

  /** The encoding a word matches, before `prep` (for tests and the disassembly trace). */
  match(word: number): OpDef | null {
    const list = this.index[word >>> INDEX_SHIFT] ?? this.candidates(word >>> INDEX_SHIFT);
    for (const d of list) if (((word & d.mask) >>> 0) === d.value) return d;
    return null;
  }

  /**
   * The word decoded: from the memo, or decoded now and entered in it unless `keep` is false (a
   * caller that keeps what it needs elsewhere: see remember). Entries live as long as the memo
   * slot, so V8 moves each out of its young generation; entries nobody reads again made most of a
   * kit boot's ~60 ms of garbage collection.
   */
  decode(word: number, keep = true): Decoded {
    const h = Math.imul(word, 0x9e3779b1) >>> this.memoShift;
    const m = this.memo[h];
    if (m !== undefined && this.memoWord[h] === (word | 0)) return m;
    const d = this.decodeNew(word);
    if (keep) {
      this.memo[h] = d;
      this.memoWord[h] = word;
    }
    return d;
  }

  /** Enter a word decoded with `keep` false in the memo after all. */
  remember(word: number, d: Decoded): void {
    const h = Math.imul(word, 0x9e3779b1) >>> this.memoShift;
    this.memo[h] = d;
    this.memoWord[h] = word;
  }

  private decodeNew(word: number): Decoded {
    const list = this.index[word >>> INDEX_SHIFT] ?? this.candidates(word >>> INDEX_SHIFT);
    for (let i = 0; i < list.length; i++) {
      const d = list[i]!;
      if (((word & d.mask) >>> 0) !== d.value) continue;
      // An absent feature's row still wins over less specific rows: the word is UNDEFINED.
      if (d.feature !== undefined && !this.features.has(d.feature)) return { def: d, exec: this.undefinedExec, fields: { word } };
      const raw = d.extract(word);
      const fields = d.prep ? d.prep(raw, word, this.features) : raw;
      if (fields === null) return { def: d, exec: this.undefinedExec, fields: { word } };
      // A prep may pick the handler per word (SYS operations): fields.exec overrides.
      return { def: d, exec: typeof fields.exec === 'function' ? fields.exec : d.exec, fields };
    }
    return { def: null, exec: this.undefinedExec, fields: { word } };
  }
}
