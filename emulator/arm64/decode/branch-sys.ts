import { group } from './pattern.ts';

export const branchSystem = group();
