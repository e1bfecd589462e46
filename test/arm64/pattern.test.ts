import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Decoder, extractFields, extractorsModuleSource, op, parsePattern, type OpDef } from '../../emulator/arm64/decode/pattern.ts';
import { PATTERNS } from '../../emulator/arm64/decode/extractors.generated.ts';
import { allTables } from '../../emulator/arm64/decode/index.ts';
import { defaultDecoder } from '../../emulator/arm64/cpu.ts';

/** Fields the slow way, bit by bit from the parts (independent of the generated extractors). */
function referenceFields(d: OpDef, word: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of d.names) {
    let v = 0;
    let width = 0;
    let signed = false;
    for (const p of d.parts.filter((q) => q.name === name)) {
      for (let b = p.len - 1; b >= 0; b--) v = v * 2 + ((word >>> (p.pos + b)) & 1);
      width += p.len;
      signed ||= p.signed;
    }
    out[name] = signed && v >= 2 ** (width - 1) ? v - 2 ** width : v;
  }
  return out;
}

describe('encoding patterns', () => {
  it('extracts fields of ADD (immediate) 0x91000420 = add x0, x1, #1', () => {
    const d = op('ADD_i', 'sf:1 0 0 100010 sh:1 imm12:12 rn:5 rd:5', () => {});
    expect(((0x91000420 & d.mask) >>> 0) === d.value).toBe(true);
    expect(extractFields(d, 0x91000420)).toEqual({ sf: 1, sh: 0, imm12: 1, rn: 1, rd: 0 });
  });
  it('concatenates split fields and sign-extends (ADR immhi:immlo)', () => {
    const d = op('ADR', '0 immlo:2 10000 immhi:s19 rd:5', () => {});
    // adr x3, .-4 : immhi = 0x7ffff, immlo = 0b00 -> -4
    const word = (0 << 31) | (0 << 29) | (0b10000 << 24) | (0x7ffff << 5) | 3;
    expect(extractFields(d, word >>> 0).immhi).toBe(-1);
    const d2 = op('ADR2', '0 immlo:2 10000 imm:s19 rd:5', () => {});
    expect(d2.names).toEqual(['immlo', 'imm', 'rd']);
  });
  it('a concatenated field of 32 bits (beyond the int32 shifts) keeps its unsigned or signed value', () => {
    const u = op('U32', 'x:16 x:16', () => {});
    const s = op('S32', 'x:s16 x:16', () => {});
    expect(extractFields(u, 0xffff0001).x).toBe(0xffff0001);
    expect(extractFields(s, 0xffff0001).x).toBe(0xffff0001 - 2 ** 32);
    expect(extractFields(s, 0x7fff0001).x).toBe(0x7fff0001);
  });
  it('the generated patterns and extractors (extractors.generated.ts) are those of the tables: run `npx tsx scripts/gen-extractors.ts` after changing a table', () => {
    const defs = allTables().flat();
    const file = readFileSync(new URL('../../emulator/arm64/decode/extractors.generated.ts', import.meta.url), 'utf8');
    expect(file === extractorsModuleSource(defs)).toBe(true);
    // every table encoding takes its generated pattern and extractor, none is parsed or made at run time
    expect(defs.filter((d) => PATTERNS.get(d.pattern)?.extract !== d.extract).map((d) => d.name)).toEqual([]);
    // and they are what parsing the pattern gives
    for (const d of defs) {
      const p = parsePattern(d.name, d.pattern);
      expect([d.mask, d.value, d.parts, d.names], d.name).toEqual([p.mask, p.value, p.parts, p.names]);
    }
  });
  it('every encoding of the tables extracts the fields its pattern declares (random words, bit by bit)', () => {
    let seed = 12345;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) | 0);
    for (const d of allTables().flat()) {
      for (let i = 0; i < 8; i++) {
        const word = (((rnd() & ~d.mask) | d.value) >>> 0) | 0;
        expect(d.extract(word), `${d.name} ${(word >>> 0).toString(16)}`).toEqual(referenceFields(d, word));
      }
    }
  });
  it('rejects a pattern that is not 32 bits', () => {
    expect(() => op('BAD', '1 0 rd:5', () => {})).toThrow(/not 32/);
  });
  it('prefers the most specific encoding and reports UNDEFINED for nothing matched', () => {
    const general = op('GEN', '1111 .... .... .... .... .... .... ....', () => {});
    const special = op('SPEC', '1111 0000 .... .... .... .... .... ....', () => {});
    const undef = () => {};
    const dec = new Decoder([[general, special]], undef);
    expect(dec.decode(0xf0123456).def?.name).toBe('SPEC');
    expect(dec.decode(0xf1123456).def?.name).toBe('GEN');
    expect(dec.decode(0x00000000).exec).toBe(undef);
  });
  it('the A64 tables have no ambiguous pair of encodings', () => {
    expect(defaultDecoder().ambiguities()).toEqual([]);
  });
});
