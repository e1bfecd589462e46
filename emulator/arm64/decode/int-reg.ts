import { group } from './pattern.ts';

export const intRegister = group();
