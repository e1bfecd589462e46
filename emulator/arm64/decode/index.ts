// Every A64 encoding table, by ARM ARM top-level group (C4.1). Each module owns one group.
import type { OpDef } from './pattern.ts';
import { intImmediate } from './int-imm.ts';
import { intRegister } from './int-reg.ts';
import { intBranchSystem } from './int-sys.ts';
import { loadStore } from './loadstore.ts';
import { fpScalar } from './fp.ts';
import { fpScalarBasic } from './fp-basic.ts';
import { fpVector } from './fp-vector.ts';
import { simd } from './simd.ts';

export function allTables(): OpDef[][] {
  return [intImmediate, intRegister, intBranchSystem, loadStore, fpScalar, fpScalarBasic, fpVector, simd];
}
