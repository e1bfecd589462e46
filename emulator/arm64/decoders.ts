// One decoder per core feature set (features.ts), shared by every CPU of that core and by the
// translator's background compiler (jit/worker.ts), which decodes a page's words the same way.
import { Decoder, MEMO_BITS, type Exec } from './decode/pattern.ts';
import { allTables } from './decode/index.ts';
import { ALL_FEATURES, featureKey, type FeatureSet } from './features.ts';

const decoders = new Map<string, Decoder>();
/** log2 of the memo slots of the decoders made from now on (pattern.ts Decoder). */
let memoBits = MEMO_BITS;
/** The translation worker's decoders keep a small memo (jit/worker.ts). */
export function useSmallDecoderMemos(): void {
  memoBits = 12;
}
/** The one handler of every UNDEFINED word, whichever core's decoder produced it. */
const undefinedInstruction: Exec = (cpu) => cpu.raiseUndefined();

/** The decoder of a core with these optional features (features.ts), built once per set. */
export function decoderFor(features: FeatureSet): Decoder {
  const key = featureKey(features);
  let d = decoders.get(key);
  if (d === undefined) {
    d = new Decoder(allTables(), undefinedInstruction, features, memoBits);
    decoders.set(key, d);
  }
  return d;
}

/** The decoder with every feature the emulator implements (Cortex-A76's set). */
export function defaultDecoder(): Decoder {
  return decoderFor(ALL_FEATURES);
}
