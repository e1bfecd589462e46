// Fast paths for the by-element integer multiplies GCC emits in vectorised matrix and
// convolution loops (MUL/MLA/MLS Vd.4S/2S, Vn, Vm.S[i]): 32-bit lanes straight on the
// Uint32 view, no per-lane function calls. Results equal the generic byElement path.
import type { Cpu } from '../cpu.ts';

type F = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** f.kind: 0 MUL, 1 MLA, 2 MLS; f.lanes 2 or 4. */
export function mulElem32(cpu: Cpu, f: F): void {
  const vs = cpu.regs.vsi;
  const b = vs[f.m * 4 + f.idx]!;
  const n = f.n * 4;
  const d = f.d * 4;
  const lanes = f.lanes;
  const kind = f.kind;
  // Read all of Vn first: Vd may be Vn or Vm.
  const n0 = vs[n]!, n1 = vs[n + 1]!, n2 = vs[n + 2]!, n3 = vs[n + 3]!;
  if (kind === 0) {
    vs[d] = Math.imul(n0, b);
    vs[d + 1] = Math.imul(n1, b);
    if (lanes === 4) {
      vs[d + 2] = Math.imul(n2, b);
      vs[d + 3] = Math.imul(n3, b);
    }
  } else if (kind === 1) {
    vs[d] = (vs[d]! + Math.imul(n0, b)) | 0;
    vs[d + 1] = (vs[d + 1]! + Math.imul(n1, b)) | 0;
    if (lanes === 4) {
      vs[d + 2] = (vs[d + 2]! + Math.imul(n2, b)) | 0;
      vs[d + 3] = (vs[d + 3]! + Math.imul(n3, b)) | 0;
    }
  } else {
    vs[d] = (vs[d]! - Math.imul(n0, b)) | 0;
    vs[d + 1] = (vs[d + 1]! - Math.imul(n1, b)) | 0;
    if (lanes === 4) {
      vs[d + 2] = (vs[d + 2]! - Math.imul(n2, b)) | 0;
      vs[d + 3] = (vs[d + 3]! - Math.imul(n3, b)) | 0;
    }
  }
  if (lanes === 2) {
    vs[d + 2] = 0;
    vs[d + 3] = 0;
  }
}
