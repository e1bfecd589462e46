// Advanced SIMD integer and data-movement encodings (ARM ARM C4.1.6, the "Advanced SIMD" rows of
// "Data Processing -- Scalar Floating-Point and Advanced SIMD"). Floating-point rows of the same
// groups belong to fp.ts; every row here fixes the bits that make it an integer instruction.
import { group } from './pattern.ts';
import { simdSame } from './simd-same.ts';
import { simdShift } from './simd-shift.ts';
import { simdLong } from './simd-long.ts';
import { simdCopy } from './simd-copy.ts';
import { simdExtra } from './simd-extra.ts';
import { crypto } from './crypto.ts';

export const simd = group(...simdSame, ...simdShift, ...simdLong, ...simdCopy, ...simdExtra, ...crypto);
