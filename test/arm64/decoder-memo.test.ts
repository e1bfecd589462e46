// The translation worker's decoders keep a small memo of decoded words (decoders.ts
// useSmallDecoderMemos): they must decode every word exactly as a CPU's decoder does.
import { describe, expect, it } from 'vitest';
import { Decoder, MEMO_BITS } from '../../emulator/arm64/decode/pattern.ts';
import { allTables } from '../../emulator/arm64/decode/index.ts';
import { decoderFor, useSmallDecoderMemos } from '../../emulator/arm64/decoders.ts';
import { ALL_FEATURES } from '../../emulator/arm64/features.ts';

describe('decoder memo size', () => {
  it('a small-memo decoder decodes like a CPU\'s, memo hits and collisions included', () => {
    useSmallDecoderMemos(); // (this file's own module instance: the worker's setting)
    const small = decoderFor(new Set(ALL_FEATURES));
    expect((small as unknown as { memo: unknown[] }).memo.length).toBe(4096);
    // (the same handler for UNDEFINED words, so handlers compare by identity)
    const big = new Decoder(allTables(), (small as unknown as { undefinedExec: () => void }).undefinedExec, ALL_FEATURES);
    expect((big as unknown as { memo: unknown[] }).memo.length).toBe(2 ** MEMO_BITS);
    // Words of every group, each decoded twice (the second time from the memo unless evicted);
    // 40 K words through 4096 slots collide often.
    let x = 0x12345678;
    const words: number[] = [];
    for (let i = 0; i < 40_000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) | 0;
      words.push(x >>> 0);
    }
    for (const w of [...words, ...words.slice(0, 5000)]) {
      const a = small.decode(w);
      const b = big.decode(w);
      expect(a.def?.name ?? null).toBe(b.def?.name ?? null);
      expect(a.exec).toBe(b.exec);
      const strip = (f: object) => JSON.stringify(f, (k, v) => (typeof v === 'function' ? undefined : v));
      expect(strip(a.fields)).toBe(strip(b.fields));
      // A word just decoded comes from the memo: the same Decoded.
      expect(small.decode(w)).toBe(a);
    }
  });
});
