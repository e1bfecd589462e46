import { group } from './pattern.ts';

export const dataRegister = group();
