import { group } from './pattern.ts';

export const dataImmediate = group();
