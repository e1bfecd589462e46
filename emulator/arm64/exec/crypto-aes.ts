// AES instructions (FEAT_AES; ARM ARM C7.2 AESE, AESD, AESMC, AESIMC and the shared pseudocode
// AESSubBytes, AESShiftRows, AESMixColumns and their inverses). The 128-bit state is the
// register's 16 bytes in FIPS-197 order: byte i is row i % 4, column i / 4.
// Fields: d, n. Tables are built once; handlers use one module-level scratch state.
import type { Cpu } from '../cpu.ts';
import type { Fields } from '../decode/pattern.ts';

/** GF(2^8) multiply modulo x^8 + x^4 + x^3 + x + 1. */
function gmul(a: number, b: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) {
    if (b & 1) r ^= a;
    a = a & 0x80 ? ((a << 1) ^ 0x11b) & 0xff : a << 1;
    b >>= 1;
  }
  return r;
}

const SBOX = new Uint8Array(256);
const INV_SBOX = new Uint8Array(256);
{
  // S-box: multiplicative inverse in GF(2^8), then the affine map (FIPS-197 5.1.1). Inverses come
  // from the powers of the generator 3 (x = 3^i has inverse 3^(255-i)): a search per byte cost
  // ~5 ms of every start-up.
  const exp = new Uint8Array(255);
  const log = new Uint8Array(256);
  for (let i = 0, v = 1; i < 255; i++, v = gmul(v, 3)) {
    exp[i] = v;
    log[v] = i;
  }
  for (let x = 0; x < 256; x++) {
    const inv = x === 0 ? 0 : exp[(255 - log[x]!) % 255]!;
    let s = inv;
    for (let k = 1; k <= 4; k++) s ^= ((inv << k) | (inv >>> (8 - k))) & 0xff;
    SBOX[x] = s ^ 0x63;
  }
  for (let x = 0; x < 256; x++) INV_SBOX[SBOX[x]!] = x;
}
const MUL2 = new Uint8Array(256), MUL3 = new Uint8Array(256);
const MUL9 = new Uint8Array(256), MUL11 = new Uint8Array(256), MUL13 = new Uint8Array(256), MUL14 = new Uint8Array(256);
for (let x = 0; x < 256; x++) {
  MUL2[x] = gmul(x, 2);
  MUL3[x] = gmul(x, 3);
  MUL9[x] = gmul(x, 9);
  MUL11[x] = gmul(x, 11);
  MUL13[x] = gmul(x, 13);
  MUL14[x] = gmul(x, 14);
}
/** ShiftRows: result byte r + 4c comes from r + 4((c + r) % 4); InvShiftRows from (c - r) % 4. */
const SHIFT = new Uint8Array(16), INV_SHIFT = new Uint8Array(16);
for (let i = 0; i < 16; i++) {
  const r = i % 4, c = i >> 2;
  SHIFT[i] = r + 4 * ((c + r) % 4);
  INV_SHIFT[i] = r + 4 * ((c - r + 4) % 4);
}

const state = new Uint8Array(16);

/** AESE: Vd = SubBytes(ShiftRows(Vd ^ Vn)); AESD (inverse = 1): InvSubBytes(InvShiftRows(Vd ^ Vn)). */
export function aesRound(cpu: Cpu, f: Fields): void {
  const vb = cpu.regs.vb;
  const d = f.d * 16, n = f.n * 16;
  for (let i = 0; i < 16; i++) state[i] = vb[d + i]! ^ vb[n + i]!;
  const box = f.inverse ? INV_SBOX : SBOX;
  const perm = f.inverse ? INV_SHIFT : SHIFT;
  for (let i = 0; i < 16; i++) vb[d + i] = box[state[perm[i]!]!]!;
}

/** AESMC: Vd = MixColumns(Vn); AESIMC (inverse = 1): InvMixColumns(Vn). */
export function aesMix(cpu: Cpu, f: Fields): void {
  const vb = cpu.regs.vb;
  const d = f.d * 16, n = f.n * 16;
  for (let c = 0; c < 16; c += 4) {
    const s0 = vb[n + c]!, s1 = vb[n + c + 1]!, s2 = vb[n + c + 2]!, s3 = vb[n + c + 3]!;
    if (f.inverse) {
      state[c] = MUL14[s0]! ^ MUL11[s1]! ^ MUL13[s2]! ^ MUL9[s3]!;
      state[c + 1] = MUL9[s0]! ^ MUL14[s1]! ^ MUL11[s2]! ^ MUL13[s3]!;
      state[c + 2] = MUL13[s0]! ^ MUL9[s1]! ^ MUL14[s2]! ^ MUL11[s3]!;
      state[c + 3] = MUL11[s0]! ^ MUL13[s1]! ^ MUL9[s2]! ^ MUL14[s3]!;
    } else {
      state[c] = MUL2[s0]! ^ MUL3[s1]! ^ s2 ^ s3;
      state[c + 1] = s0 ^ MUL2[s1]! ^ MUL3[s2]! ^ s3;
      state[c + 2] = s0 ^ s1 ^ MUL2[s2]! ^ MUL3[s3]!;
      state[c + 3] = MUL3[s0]! ^ s1 ^ s2 ^ MUL2[s3]!;
    }
  }
  vb.set(state, d);
}
