// The "Loads and Stores" encoding group (ARM ARM C4.1.66), gathered from its sub-tables.
// FEAT_LSE (atomic memory operations, CAS, CASP) is ls-atomic.ts.
// Absent features, UNDEFINED by having no pattern: FEAT_LOR, FEAT_LRCPC2 (LDAPUR/STLUR),
// FEAT_PAuth (LDRAA/LDRAB), FEAT_MTE (tag loads/stores), FEAT_MOPS, FEAT_LS64.
import { group } from './pattern.ts';
import { loadStoreRegister } from './ls-single.ts';
import { loadStorePair } from './ls-pair.ts';
import { loadStoreExclusive } from './ls-excl.ts';
import { loadStoreAtomic } from './ls-atomic.ts';
import { simdStructures } from './ls-simd.ts';

export const loadStore = group(...loadStoreRegister, ...loadStorePair, ...loadStoreExclusive, ...loadStoreAtomic, ...simdStructures);
