import { group } from './pattern.ts';

export const simd = group();
