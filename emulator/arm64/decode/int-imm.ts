import { group } from './pattern.ts';

export const intImmediate = group();
