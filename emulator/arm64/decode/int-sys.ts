import { group } from './pattern.ts';

export const intBranchSystem = group();
