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

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Fields = any;
export type Exec = (cpu: Cpu, f: Fields) => void;
export type Prep = (f: Fields, word: number, features: FeatureSet) => Fields | null;

interface FieldPart {
  name: string;
  pos: number;
  len: number;
  signed: boolean;
}

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
}

export function op(name: string, pattern: string, exec: Exec, prep?: Prep): OpDef {
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
  return { name, pattern, mask: mask >>> 0, value: value >>> 0, parts, names, exec, prep };
}

/** A named list of encodings: one table per encoding group of the ARM ARM. */
export function group(...ops: OpDef[]): OpDef[] {
  return ops;
}

/** The encodings of an optional feature (FEAT_<feature>). */
export function requires(feature: Feature, ...ops: OpDef[]): OpDef[] {
  return ops.map((d) => ({ ...d, feature }));
}

export function extractFields(def: OpDef, word: number): Fields {
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

export interface Decoded {
  def: OpDef | null;
  exec: Exec;
  fields: Fields;
}

/**
 * The matcher built from all tables. Overlaps are resolved by specificity: among the patterns
 * that match, the one with the most fixed bits wins (so an alias or a special case may be listed
 * beside its general form); equal specificity is a table error unless `allowOverlap` is used
 * deliberately (first declared wins).
 * Buckets on bits [28:25], the ARM ARM's top-level "op0" split.
 */
export class Decoder {
  private readonly buckets: OpDef[][] = [];
  readonly all: OpDef[];

  constructor(
    tables: OpDef[][],
    private readonly undefinedExec: Exec,
    /** The optional features this decoder implements (the CPU's core). */
    readonly features: FeatureSet = ALL_FEATURES,
  ) {
    this.all = tables.flat();
    for (let b = 0; b < 16; b++) {
      const key = b << 25;
      const list = this.all.filter((d) => ((d.value ^ key) & d.mask & (0xf << 25)) === 0);
      // Stable sort: more fixed bits first, declaration order otherwise.
      list.sort((a, c) => popcount(c.mask) - popcount(a.mask));
      this.buckets.push(list);
    }
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
    const list = this.buckets[(word >>> 25) & 0xf]!;
    for (const d of list) if (((word & d.mask) >>> 0) === d.value) return d;
    return null;
  }

  decode(word: number): Decoded {
    const list = this.buckets[(word >>> 25) & 0xf]!;
    for (const d of list) {
      if (((word & d.mask) >>> 0) !== d.value) continue;
      // An absent feature's row still wins over less specific rows: the word is UNDEFINED.
      if (d.feature !== undefined && !this.features.has(d.feature)) return { def: d, exec: this.undefinedExec, fields: { word } };
      const raw = extractFields(d, word);
      const fields = d.prep ? d.prep(raw, word, this.features) : raw;
      if (fields === null) return { def: d, exec: this.undefinedExec, fields: { word } };
      // A prep may pick the handler per word (SYS operations): fields.exec overrides.
      return { def: d, exec: typeof fields.exec === 'function' ? fields.exec : d.exec, fields };
    }
    return { def: null, exec: this.undefinedExec, fields: { word } };
  }
}
