// The wasm interpreter's word packers (jit/winterp-wordpack.ts) against the way every other word
// is packed: the decoder's fields, then pack() (winterp-pack.ts). The same 16 bytes and the same
// operation for random words of each encoding, or -1 where the decoder says UNDEFINED (and, for
// some words of an encoding, where the decoder is left to pack them).
import { describe, expect, it } from 'vitest';
import { defaultDecoder } from '../../emulator/arm64/decoders.ts';
import { pack } from '../../emulator/arm64/jit/winterp-pack.ts';
import { WORD_PACKERS } from '../../emulator/arm64/jit/winterp-wordpack.ts';

/** xorshift32: the same words every run. */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('wasm interpreter: slots packed from the word', () => {
  const decoder = defaultDecoder();
  const undef = decoder.decode(0).exec; // word 0 is UDF #0

  it('covers the commonest encodings', () => {
    // (The kit's distinct words: BL 14 %, ADD/SUB immediate 10 %, LDR X 7 %, ADRP 7 %, ...)
    expect([...WORD_PACKERS.keys()].map((d) => d.name)).toEqual(expect.arrayContaining(['BL', 'ADDSUB_i64', 'LDR_x_uimm', 'ADRP', 'ADDSUB_r', 'STR_x_uimm', 'MOVZ', 'B_cond', 'CBZ64', 'TBZ', 'STP_x_off']));
  });

  for (const [def, packer] of WORD_PACKERS) {
    it(`${def.name}: the slot pack() makes of the decoded fields, byte for byte`, () => {
      const next = rng(0x5eed ^ def.value);
      const fast = new Uint8Array(16);
      const slow = new Uint8Array(16);
      let packed = 0;
      for (let i = 0; i < 20000; i++) {
        const word = ((next() & ~def.mask) | def.value) >>> 0;
        // A more specific encoding may own the word (an alias): the decoder's answer decides.
        if (decoder.match(word) !== def) continue;
        fast.fill(0xee);
        slow.fill(0xdd);
        const op = packer(word, fast, new DataView(fast.buffer), 0);
        const d = decoder.decode(word, false);
        if (d.exec === undef) {
          expect(op, `0x${word.toString(16)}`).toBe(-1);
          continue;
        }
        // -1 leaves a word to the decoder (SIMD&FP forms of a load/store, say): slower, as correct.
        if (op === -1) continue;
        const want = pack(d.exec, d.fields, slow, new DataView(slow.buffer), 0);
        expect(op, `0x${word.toString(16)}`).toBe(want);
        expect(hex(fast), `0x${word.toString(16)}`).toBe(hex(slow));
        packed++;
      }
      // (The load/store forms leave their SIMD&FP half and some kinds to the decoder; LDP/STP of X
      // registers have encodings of their own.)
      expect(packed).toBeGreaterThan(2000);
    });
  }
});
