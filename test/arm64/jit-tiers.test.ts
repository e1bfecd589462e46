// The translator's two compile tiers (translate.ts compileModule): an optimizing compile gets
// TurboFan's code even for bytes the baseline compiler (Liftoff) has compiled before. V8 keeps one
// compiled module per process for the same bytes, whichever tier made it: without the mark that
// compileModule adds, the optimizing compile of such bytes returned the baseline code in 0.1 ms
// (a page whose optimizing translation emits what its baseline one did: no memory access outside
// inner loops, the same entries).
import { setFlagsFromString } from 'node:v8';
import { expect, it } from 'vitest';
import { compileModule } from '../../emulator/arm64/jit/translate.ts';
import { wasmInterpreterBytes } from '../../emulator/arm64/jit/winterp.ts';
import '../../emulator/arm64/jit/settings.ts'; // the tiers' flags

setFlagsFromString('--allow-natives-syntax');
// (V8's test functions: parsed only now that the flag is set.)
const isTurboFan = new Function('f', 'return %IsTurboFanFunction(f)') as (f: unknown) => boolean;
const isLiftoff = new Function('f', 'return %IsLiftoffFunction(f)') as (f: unknown) => boolean;

function entry(m: WebAssembly.Module): unknown {
  const imports = { e: { m: new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }), h: () => 0, d: () => 0, c: () => 0 } };
  return new WebAssembly.Instance(m, imports).exports.f;
}

it('an optimizing compile of bytes compiled before by the baseline compiler is TurboFan code', () => {
  const bytes = wasmInterpreterBytes();
  const baseline = entry(compileModule(bytes, false));
  const optimized = entry(compileModule(bytes, true));
  expect(isLiftoff(baseline)).toBe(true);
  expect(isTurboFan(optimized)).toBe(true);
  expect(isLiftoff(optimized)).toBe(false);
  // And the other way round: baseline bytes compiled after are baseline code.
  expect(isLiftoff(entry(compileModule(bytes, false)))).toBe(true);
});
