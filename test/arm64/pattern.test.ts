import { describe, expect, it } from 'vitest';
import { Decoder, extractFields, op } from '../../emulator/arm64/decode/pattern.ts';
import { defaultDecoder } from '../../emulator/arm64/cpu.ts';

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
