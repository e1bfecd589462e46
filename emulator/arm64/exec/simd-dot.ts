// SDOT/UDOT (FEAT_DotProd, Armv8.2; ARM ARM C7.2 SDOT (vector), SDOT (by element), UDOT ...):
// each 32-bit lane of Vd accumulates the sum of four products of the corresponding bytes of Vn
// and Vm (or of the 32-bit element Vm.S[idx], by element), modulo 2^32.
// Fields: d, n, m, lanes (2 or 4), q, signed, idx (-1 for the vector form).
import type { Cpu } from '../cpu.ts';
import type { Fields } from '../decode/pattern.ts';

export function dot(cpu: Cpu, f: Fields): void {
  const vb = cpu.regs.vb;
  const vs = cpu.regs.vs;
  const d = f.d * 4, n = f.n * 16;
  const signed: boolean = f.signed;
  const byElem = f.idx >= 0;
  // By element: Vm.S[idx] is read before Vd is written (Vd may be Vm).
  const e = f.m * 16 + 4 * (byElem ? f.idx : 0);
  let e0 = vb[e]!, e1 = vb[e + 1]!, e2 = vb[e + 2]!, e3 = vb[e + 3]!;
  if (signed) {
    e0 = (e0 << 24) >> 24;
    e1 = (e1 << 24) >> 24;
    e2 = (e2 << 24) >> 24;
    e3 = (e3 << 24) >> 24;
  }
  const lanes: number = f.lanes;
  for (let i = 0; i < lanes; i++) {
    const a = n + 4 * i;
    let a0 = vb[a]!, a1 = vb[a + 1]!, a2 = vb[a + 2]!, a3 = vb[a + 3]!;
    let b0 = e0, b1 = e1, b2 = e2, b3 = e3;
    if (!byElem) {
      const b = f.m * 16 + 4 * i;
      b0 = vb[b]!;
      b1 = vb[b + 1]!;
      b2 = vb[b + 2]!;
      b3 = vb[b + 3]!;
      if (signed) {
        b0 = (b0 << 24) >> 24;
        b1 = (b1 << 24) >> 24;
        b2 = (b2 << 24) >> 24;
        b3 = (b3 << 24) >> 24;
      }
    }
    if (signed) {
      a0 = (a0 << 24) >> 24;
      a1 = (a1 << 24) >> 24;
      a2 = (a2 << 24) >> 24;
      a3 = (a3 << 24) >> 24;
    }
    vs[d + i] = vs[d + i]! + a0 * b0 + a1 * b1 + a2 * b2 + a3 * b3;
  }
  if (f.q === 0) {
    vs[d + 2] = 0;
    vs[d + 3] = 0;
  }
}
