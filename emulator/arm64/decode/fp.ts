import { group } from './pattern.ts';

export const fpScalar = group();
