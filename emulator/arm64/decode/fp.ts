// The FP group entry (decode/index.ts): the Advanced SIMD half-precision tables. Scalar FP and
// single/double SIMD FP are the fpScalarBasic (fp-basic.ts) and fpVector (fp-vector.ts) groups.
import { group } from './pattern.ts';
import { fpHalf } from './fp-half.ts';

export const fpScalar = group(...fpHalf);
