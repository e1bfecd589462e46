import { group } from './pattern.ts';

export const loadStore = group();
