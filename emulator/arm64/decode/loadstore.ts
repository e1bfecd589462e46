// The "Loads and Stores" encoding group (ARM ARM C4.1.66), gathered from its sub-tables.
// Absent features, UNDEFINED by having no pattern: FEAT_LSE (atomic memory operations, CAS),
// FEAT_LOR, FEAT_LRCPC2 (LDAPUR/STLUR), FEAT_PAuth (LDRAA/LDRAB), FEAT_MTE (tag loads/stores),
// FEAT_MOPS, FEAT_LS64.
import { group } from './pattern.ts';
import { loadStoreRegister } from './ls-single.ts';
import { loadStorePair } from './ls-pair.ts';
import { loadStoreExclusive } from './ls-excl.ts';
import { simdStructures } from './ls-simd.ts';

export const loadStore = group(...loadStoreRegister, ...loadStorePair, ...loadStoreExclusive, ...simdStructures);
