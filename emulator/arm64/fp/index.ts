// The FP library's public surface (for the interpreter's handlers and a future translator).
//
// Every primitive takes `r` (the CPU's Int32Array register words: FPCR read from r[FPCR], FPSR
// flags ORed into r[FPSR]), a format (16 half, 32 single, 64 double) and operands as bit
// patterns (lo, hi) — hi only for double. It returns the result's low word; the high word of a
// double result is in `out.hi`. Semantics are the ARM ARM pseudocode's (FPAdd, FPMulAdd,
// FPConvert, FPToFixed, ...) for every FPCR.RMode, FZ, FZ16, DN and AHP setting.
export { type Fmt, H, S, D, out, IOC, DZC, OFC, UFC, IXC, IDC, RN, RP, RM, RZ, RA, RO, isNaNBits, processNaN, processNaNs, unpack, pack } from './bits.ts';
export { add, sub, mul, mulx, nmul, div, sqrt, fma, recipStep, rsqrtStep, twoProductErr } from './arith.ts';
export { compare, compareLane, maxMin } from './compare.ts';
export { convert, roundInt, toFixed, fromFixed, roundToIntegral } from './convert.ts';
export { recipEstimateFp, rsqrtEstimateFp, recpx, recipEstimate, recipSqrtEstimate } from './estimate.ts';
export { roundExact, roundValue } from './round.ts';
