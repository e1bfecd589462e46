// The Cryptographic Extension's own encoding groups (ARM ARM C4.1.6 "Cryptographic AES",
// "Cryptographic three-register SHA", "Cryptographic two-register SHA"): FEAT_AES, FEAT_SHA1,
// FEAT_SHA256. PMULL/PMULL2 .1Q (FEAT_PMULL) is a row of "Advanced SIMD three different"
// (simd-long.ts). Not here (absent features): SHA512, SHA3, SM3, SM4.
import { op, requires, type OpDef } from './pattern.ts';
import * as A from '../exec/crypto-aes.ts';
import * as S from '../exec/crypto-sha.ts';

const regs = (f: { rd: number; rn: number; rm?: number }) => ({ d: f.rd, n: f.rn, m: f.rm ?? 0 });

export const crypto: OpDef[] = [
  ...requires('AES',
    op('AESE', '01001110 00 10100 00100 10 rn:5 rd:5', A.aesRound, (f) => ({ ...regs(f), inverse: 0 })),
    op('AESD', '01001110 00 10100 00101 10 rn:5 rd:5', A.aesRound, (f) => ({ ...regs(f), inverse: 1 })),
    op('AESMC', '01001110 00 10100 00110 10 rn:5 rd:5', A.aesMix, (f) => ({ ...regs(f), inverse: 0 })),
    op('AESIMC', '01001110 00 10100 00111 10 rn:5 rd:5', A.aesMix, (f) => ({ ...regs(f), inverse: 1 })),
  ),
  ...requires('SHA1',
    op('SHA1C', '01011110 00 0 rm:5 0 000 00 rn:5 rd:5', S.sha1Hash, (f) => ({ ...regs(f), kind: 0 })),
    op('SHA1P', '01011110 00 0 rm:5 0 001 00 rn:5 rd:5', S.sha1Hash, (f) => ({ ...regs(f), kind: 1 })),
    op('SHA1M', '01011110 00 0 rm:5 0 010 00 rn:5 rd:5', S.sha1Hash, (f) => ({ ...regs(f), kind: 2 })),
    op('SHA1SU0', '01011110 00 0 rm:5 0 011 00 rn:5 rd:5', S.sha1su0, regs),
    op('SHA1H', '01011110 00 10100 00000 10 rn:5 rd:5', S.sha1h, regs),
    op('SHA1SU1', '01011110 00 10100 00001 10 rn:5 rd:5', S.sha1su1, regs),
  ),
  ...requires('SHA256',
    op('SHA256H', '01011110 00 0 rm:5 0 100 00 rn:5 rd:5', S.sha256Hash, (f) => ({ ...regs(f), kind: 1 })),
    op('SHA256H2', '01011110 00 0 rm:5 0 101 00 rn:5 rd:5', S.sha256Hash, (f) => ({ ...regs(f), kind: 0 })),
    op('SHA256SU1', '01011110 00 0 rm:5 0 110 00 rn:5 rd:5', S.sha256su1, regs),
    op('SHA256SU0', '01011110 00 10100 00010 10 rn:5 rd:5', S.sha256su0, regs),
  ),
];
