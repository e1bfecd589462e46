// The Armv8.2-A extensions of Cortex-A76/A55 as programs use them: built with
// -march=armv8.2-a+crypto+dotprod+fp16+rcpc, ACLE intrinsics and __atomic builtins (which GCC
// compiles to LSE instructions for this target). Every result is printed, so run-elf and
// qemu-aarch64 -cpu cortex-a76 must print the same bytes.
#include <arm_acle.h>
#include <arm_neon.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

static uint64_t seed = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) {
  seed ^= seed << 13;
  seed ^= seed >> 7;
  seed ^= seed << 17;
  return seed;
}

static void print_q(const char *what, uint8x16_t v) {
  uint8_t b[16];
  vst1q_u8(b, v);
  printf("%s ", what);
  for (int i = 0; i < 16; i++) printf("%02x", b[i]);
  printf("\n");
}

// ---- LSE atomics ----

#define ATOMIC_SUITE(T, fmt)                                                                      \
  static void atomics_##T(void) {                                                                 \
    static T v;                                                                                   \
    T acc = 0;                                                                                    \
    v = (T)next();                                                                                \
    for (int i = 0; i < 64; i++) {                                                                \
      T x = (T)next();                                                                            \
      acc ^= __atomic_fetch_add(&v, x, __ATOMIC_RELAXED);                                         \
      acc ^= __atomic_fetch_sub(&v, x >> 1, __ATOMIC_ACQUIRE);                                    \
      acc ^= __atomic_fetch_and(&v, ~(x << 3), __ATOMIC_RELEASE);                                 \
      acc ^= __atomic_fetch_or(&v, x & 0x1111, __ATOMIC_ACQ_REL);                                 \
      acc ^= __atomic_fetch_xor(&v, x, __ATOMIC_SEQ_CST);                                         \
      acc ^= __atomic_exchange_n(&v, (T)(acc + x), __ATOMIC_SEQ_CST);                             \
      T expected = (i & 1) ? v : (T)(v + 1);                                                      \
      int ok = __atomic_compare_exchange_n(&v, &expected, (T)(x * 3), 0, __ATOMIC_ACQ_REL,        \
                                           __ATOMIC_ACQUIRE);                                     \
      acc += (T)ok + expected;                                                                    \
      __atomic_add_fetch(&v, 1, __ATOMIC_RELAXED); /* result unused: ST<op> */                    \
      acc ^= __atomic_load_n(&v, __ATOMIC_ACQUIRE);                                               \
    }                                                                                             \
    printf("atomics " #T " v=%" fmt " acc=%" fmt "\n", v, acc);                                   \
  }
ATOMIC_SUITE(uint8_t, PRIx8)
ATOMIC_SUITE(uint16_t, PRIx16)
ATOMIC_SUITE(uint32_t, PRIx32)
ATOMIC_SUITE(uint64_t, PRIx64)

/** The max/min atomics have no __atomic builtin: the instructions directly, every size. */
static void atomics_maxmin(void) {
  static uint64_t m64;
  static uint32_t m32;
  static uint16_t m16;
  static uint8_t m8;
  uint64_t acc = 0;
  for (int i = 0; i < 32; i++) {
    uint64_t x = next(), old;
    uint32_t o32;
    m64 = next();
    __asm__ volatile("ldsmaxal %x1, %x0, [%2]" : "=&r"(old) : "r"(x), "r"(&m64) : "memory");
    acc = acc * 31 + old + m64;
    __asm__ volatile("lduminl %x1, %x0, [%2]" : "=&r"(old) : "r"(x >> 7), "r"(&m64) : "memory");
    acc = acc * 31 + old + m64;
    m32 = (uint32_t)next();
    __asm__ volatile("ldsmin %w1, %w0, [%2]" : "=&r"(o32) : "r"((uint32_t)x), "r"(&m32) : "memory");
    acc = acc * 31 + o32 + m32;
    __asm__ volatile("ldumaxa %w1, %w0, [%2]" : "=&r"(o32) : "r"((uint32_t)(x >> 32)), "r"(&m32) : "memory");
    acc = acc * 31 + o32 + m32;
    m16 = (uint16_t)next();
    __asm__ volatile("ldsmaxh %w1, %w0, [%2]" : "=&r"(o32) : "r"((uint32_t)x), "r"(&m16) : "memory");
    acc = acc * 31 + o32 + m16;
    __asm__ volatile("stuminh %w0, [%1]" : : "r"((uint32_t)(x >> 16)), "r"(&m16) : "memory");
    acc = acc * 31 + m16;
    m8 = (uint8_t)next();
    __asm__ volatile("ldsminab %w1, %w0, [%2]" : "=&r"(o32) : "r"((uint32_t)x), "r"(&m8) : "memory");
    acc = acc * 31 + o32 + m8;
    __asm__ volatile("ldumaxlb %w1, %w0, [%2]" : "=&r"(o32) : "r"((uint32_t)(x >> 8)), "r"(&m8) : "memory");
    acc = acc * 31 + o32 + m8;
  }
  printf("atomics max/min acc=%016" PRIx64 "\n", acc);
}

/** LDAPR (FEAT_LRCPC): GCC 12 still compiles acquire loads to LDAR, so the instructions directly. */
static void rcpc(void) {
  static uint64_t cell[2];
  uint64_t sum = 0;
  for (int i = 0; i < 16; i++) {
    cell[0] = next();
    cell[1] = next();
    uint64_t x;
    uint32_t w;
    __asm__ volatile("ldapr %x0, [%1]" : "=r"(x) : "r"(cell) : "memory");
    sum = sum * 31 + x;
    __asm__ volatile("ldapr %w0, [%1]" : "=r"(w) : "r"(cell + 1) : "memory");
    sum = sum * 31 + w;
    __asm__ volatile("ldaprh %w0, [%1]" : "=r"(w) : "r"((char *)cell + 6) : "memory");
    sum = sum * 31 + w;
    __asm__ volatile("ldaprb %w0, [%1]" : "=r"(w) : "r"((char *)cell + 13) : "memory");
    sum = sum * 31 + w;
  }
  printf("ldapr sum=%016" PRIx64 "\n", sum);
}

/** CASP: a 128-bit compare-and-swap of a register pair, as lock-free stacks use. */
static void atomics_casp(void) {
  static uint64_t pair[2] __attribute__((aligned(16)));
  uint64_t acc = 0;
  pair[0] = next();
  pair[1] = next();
  for (int i = 0; i < 16; i++) {
    register uint64_t e0 __asm__("x4") = (i & 1) ? pair[0] : pair[0] + 1;
    register uint64_t e1 __asm__("x5") = pair[1];
    register uint64_t n0 __asm__("x6") = next();
    register uint64_t n1 __asm__("x7") = next();
    __asm__ volatile("caspal x4, x5, x6, x7, [%2]" : "+r"(e0), "+r"(e1) : "r"(pair), "r"(n0), "r"(n1) : "memory");
    acc = acc * 31 + e0 + e1 + pair[0] + pair[1];
  }
  uint32_t w[2] __attribute__((aligned(8))) = {0x12345678u, 0x9abcdef0u};
  register uint32_t s0 __asm__("w8") = 0x12345678u;
  register uint32_t s1 __asm__("w9") = 0x9abcdef0u;
  register uint32_t t0 __asm__("w10") = 0xcafef00du;
  register uint32_t t1 __asm__("w11") = 0x0badc0deu;
  __asm__ volatile("casp w8, w9, w10, w11, [%2]" : "+r"(s0), "+r"(s1) : "r"(w), "r"(t0), "r"(t1) : "memory");
  printf("atomics casp acc=%016" PRIx64 " w=%08x:%08x old=%08x:%08x\n", acc, w[0], w[1], s0, s1);
}

// ---- AES-128 (FIPS-197 appendix C.1) ----

static const uint8_t SBOX[256] = {
    0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76, 0xca, 0x82, 0xc9,
    0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0, 0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f,
    0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15, 0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07,
    0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75, 0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3,
    0x29, 0xe3, 0x2f, 0x84, 0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58,
    0xcf, 0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8, 0x51, 0xa3,
    0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2, 0xcd, 0x0c, 0x13, 0xec, 0x5f,
    0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73, 0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88,
    0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb, 0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac,
    0x62, 0x91, 0x95, 0xe4, 0x79, 0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a,
    0xae, 0x08, 0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a, 0x70,
    0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e, 0xe1, 0xf8, 0x98, 0x11,
    0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf, 0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42,
    0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16};

static void aes128_expand(const uint8_t key[16], uint8_t rk[11][16]) {
  static const uint8_t rcon[10] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36};
  memcpy(rk[0], key, 16);
  for (int r = 1; r <= 10; r++) {
    const uint8_t *p = rk[r - 1];
    uint8_t t[4] = {SBOX[p[13]] ^ rcon[r - 1], SBOX[p[14]], SBOX[p[15]], SBOX[p[12]]};
    for (int i = 0; i < 16; i++) rk[r][i] = p[i] ^ (i < 4 ? t[i] : rk[r][i - 4]);
  }
}

static uint8x16_t aes128_encrypt(uint8x16_t b, uint8_t rk[11][16]) {
  for (int r = 0; r < 9; r++) b = vaesmcq_u8(vaeseq_u8(b, vld1q_u8(rk[r])));
  b = vaeseq_u8(b, vld1q_u8(rk[9]));
  return veorq_u8(b, vld1q_u8(rk[10]));
}

/** The equivalent inverse cipher: AESD does AddRoundKey first, so inner round keys get InvMixColumns. */
static uint8x16_t aes128_decrypt(uint8x16_t b, uint8_t rk[11][16]) {
  b = vaesdq_u8(b, vld1q_u8(rk[10]));
  for (int r = 9; r > 0; r--) b = vaesdq_u8(vaesimcq_u8(b), vaesimcq_u8(vld1q_u8(rk[r])));
  return veorq_u8(b, vld1q_u8(rk[0]));
}

static void aes(void) {
  uint8_t key[16], pt[16], rk[11][16];
  for (int i = 0; i < 16; i++) {
    key[i] = (uint8_t)i;
    pt[i] = (uint8_t)(i * 0x11);
  }
  aes128_expand(key, rk);
  uint8x16_t ct = aes128_encrypt(vld1q_u8(pt), rk);
  print_q("aes128 fips-197 c.1 ct", ct); // 69c4e0d86a7b0430d8cdb78070b4c55a
  print_q("aes128 decrypt", aes128_decrypt(ct, rk));
  // CBC-MAC over pseudo-random blocks: exercises every byte value through the S-box.
  uint8x16_t mac = vdupq_n_u8(0);
  for (int i = 0; i < 200; i++) {
    uint64_t blk[2] = {next(), next()};
    mac = aes128_encrypt(veorq_u8(mac, vld1q_u8((const uint8_t *)blk)), rk);
  }
  print_q("aes128 cbc-mac", mac);
  uint8x16_t x = mac;
  for (int i = 0; i < 16; i++) x = vaesimcq_u8(vaesmcq_u8(vaesdq_u8(x, mac)));
  print_q("aes rounds mixed", x);
}

// ---- SHA-256 and SHA-1 with the SHA instructions ----

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static void sha256_block(uint32_t st[8], const uint8_t blk[64]) {
  uint32x4_t abcd = vld1q_u32(st), efgh = vld1q_u32(st + 4);
  uint32x4_t m[4];
  for (int i = 0; i < 4; i++) m[i] = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(blk + 16 * i)));
  uint32x4_t a0 = abcd, e0 = efgh;
  for (int i = 0; i < 16; i++) {
    uint32x4_t wk = vaddq_u32(m[i & 3], vld1q_u32(K256 + 4 * i));
    uint32x4_t a1 = abcd;
    abcd = vsha256hq_u32(abcd, efgh, wk);
    efgh = vsha256h2q_u32(efgh, a1, wk);
    if (i < 12) m[i & 3] = vsha256su1q_u32(vsha256su0q_u32(m[i & 3], m[(i + 1) & 3]), m[(i + 2) & 3], m[(i + 3) & 3]);
  }
  vst1q_u32(st, vaddq_u32(abcd, a0));
  vst1q_u32(st + 4, vaddq_u32(efgh, e0));
}

static void sha1_block(uint32_t st[5], const uint8_t blk[64]) {
  uint32x4_t abcd = vld1q_u32(st), abcd0 = abcd;
  uint32_t e = st[4], e0 = e;
  uint32x4_t m[4];
  for (int i = 0; i < 4; i++) m[i] = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(blk + 16 * i)));
  static const uint32_t K1[4] = {0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6};
  for (int i = 0; i < 20; i++) {
    uint32x4_t wk = vaddq_u32(m[i & 3], vdupq_n_u32(K1[i / 5]));
    uint32_t en = vsha1h_u32(vgetq_lane_u32(abcd, 0));
    if (i < 5) abcd = vsha1cq_u32(abcd, e, wk);
    else if (i < 10 || i >= 15) abcd = vsha1pq_u32(abcd, e, wk);
    else abcd = vsha1mq_u32(abcd, e, wk);
    e = en;
    if (i < 16) m[i & 3] = vsha1su1q_u32(vsha1su0q_u32(m[i & 3], m[(i + 1) & 3], m[(i + 2) & 3]), m[(i + 3) & 3]);
  }
  vst1q_u32(st, vaddq_u32(abcd, abcd0));
  st[4] = e + e0;
}

/** Merkle-Damgard padding around a block function (SHA-1 and SHA-256 share it). */
static void md_hash(const uint8_t *msg, size_t len, uint32_t *st, void (*block)(uint32_t *, const uint8_t *)) {
  uint8_t buf[128];
  size_t i = 0;
  for (; i + 64 <= len; i += 64) block(st, msg + i);
  size_t rest = len - i;
  memset(buf, 0, sizeof buf);
  memcpy(buf, msg + i, rest);
  buf[rest] = 0x80;
  size_t total = rest + 9 <= 64 ? 64 : 128;
  uint64_t bits = (uint64_t)len * 8;
  for (int k = 0; k < 8; k++) buf[total - 1 - k] = (uint8_t)(bits >> (8 * k));
  block(st, buf);
  if (total == 128) block(st, buf + 64);
}

static void sha(void) {
  static uint8_t big[1000];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)next();
  const struct { const char *name; const uint8_t *p; size_t n; } msgs[] = {
      {"abc", (const uint8_t *)"abc", 3},
      {"448-bit", (const uint8_t *)"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56},
      {"1000 random bytes", big, sizeof big},
  };
  for (unsigned k = 0; k < sizeof msgs / sizeof msgs[0]; k++) {
    uint32_t s256[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    uint32_t s1[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    md_hash(msgs[k].p, msgs[k].n, s256, sha256_block);
    md_hash(msgs[k].p, msgs[k].n, s1, (void (*)(uint32_t *, const uint8_t *))sha1_block);
    printf("sha256(%s) ", msgs[k].name);
    for (int i = 0; i < 8; i++) printf("%08x", s256[i]);
    printf("\nsha1(%s) ", msgs[k].name);
    for (int i = 0; i < 5; i++) printf("%08x", s1[i]);
    printf("\n");
  }
}

// ---- carry-less multiply ----

static void clmul(void) {
  uint64_t acc = 0;
  for (int i = 0; i < 64; i++) {
    uint64_t a = next(), b = next();
    poly128_t p = vmull_p64(a, b);
    uint64_t lo = (uint64_t)p, hi = (uint64_t)(p >> 64);
    acc = acc * 1000003 ^ lo ^ (hi << 1);
    if (i < 3) printf("pmull %016" PRIx64 " * %016" PRIx64 " = %016" PRIx64 "%016" PRIx64 "\n", a, b, hi, lo);
  }
  poly64x2_t va = vcombine_p64(vcreate_p64(next()), vcreate_p64(next()));
  poly64x2_t vb = vcombine_p64(vcreate_p64(next()), vcreate_p64(0xffffffffffffffffull));
  print_q("pmull2", vreinterpretq_u8_p128(vmull_high_p64(va, vb)));
  printf("pmull acc %016" PRIx64 "\n", acc);
}

// ---- CRC32 / CRC32C ----

static void crc(void) {
  static uint8_t buf[4096];
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)next();
  uint32_t c = 0xffffffff, cc = 0xffffffff;
  for (size_t i = 0; i < sizeof buf; i += 8) {
    uint64_t d;
    memcpy(&d, buf + i, 8);
    c = __crc32d(c, d);
    cc = __crc32cd(cc, d);
  }
  uint32_t b = 0, h = 0, w = 0, bc = 0, hc = 0, wc = 0;
  for (size_t i = 0; i < 256; i++) {
    b = __crc32b(b, buf[i]);
    bc = __crc32cb(bc, buf[i]);
    h = __crc32h(h, (uint16_t)(buf[i] * 257 + i));
    hc = __crc32ch(hc, (uint16_t)(buf[i] * 257 + i));
    w = __crc32w(w, (uint32_t)next());
    wc = __crc32cw(wc, (uint32_t)next());
  }
  printf("crc32 %08x crc32c %08x\n", ~c, ~cc);
  printf("crc32 b %08x h %08x w %08x, crc32c b %08x h %08x w %08x\n", b, h, w, bc, hc, wc);
  printf("crc32(\"123456789\") %08x\n", ~__crc32b(__crc32w(__crc32w(0xffffffff, 0x34333231), 0x38373635), '9'));
}

// ---- dot products ----

static void dots(void) {
  uint32x4_t ua = vdupq_n_u32(0);
  int32x4_t sa = vdupq_n_s32(0);
  uint32x2_t ud = vdup_n_u32(7);
  int32x2_t sd = vdup_n_s32(-7);
  for (int i = 0; i < 100; i++) {
    uint64_t r[4] = {next(), next(), next(), next()};
    uint8x16_t a = vld1q_u8((const uint8_t *)r), b = vld1q_u8((const uint8_t *)(r + 2));
    ua = vdotq_u32(ua, a, b);
    sa = vdotq_s32(sa, vreinterpretq_s8_u8(a), vreinterpretq_s8_u8(b));
    ud = vdot_lane_u32(ud, vget_low_u8(a), vget_high_u8(b), 1);
    sd = vdot_laneq_s32(sd, vreinterpret_s8_u8(vget_high_u8(a)), vreinterpretq_s8_u8(b), 3);
    sa = (i & 1) ? vdotq_laneq_s32(sa, vreinterpretq_s8_u8(b), vreinterpretq_s8_u8(a), 1)
                 : vdotq_laneq_s32(sa, vreinterpretq_s8_u8(b), vreinterpretq_s8_u8(a), 2);
  }
  print_q("udot", vreinterpretq_u8_u32(ua));
  print_q("sdot", vreinterpretq_u8_s32(sa));
  printf("udot lane %08x %08x sdot laneq %08x %08x\n", vget_lane_u32(ud, 0), vget_lane_u32(ud, 1),
         (uint32_t)vget_lane_s32(sd, 0), (uint32_t)vget_lane_s32(sd, 1));
}

// ---- rounding doubling multiply accumulate (FEAT_RDM) ----

static void rdm(void) {
  int16x8_t h = vdupq_n_s16(0);
  int32x4_t s = vdupq_n_s32(0);
  int16_t sh = 100;
  int32_t ss = -100;
  for (int i = 0; i < 100; i++) {
    uint64_t r[4] = {next(), next(), next(), next()};
    int16x8_t a = vld1q_s16((const int16_t *)r), b = vld1q_s16((const int16_t *)(r + 2));
    int32x4_t c = vld1q_s32((const int32_t *)r), d = vld1q_s32((const int32_t *)(r + 2));
    h = vqrdmlahq_s16(h, a, b);
    h = vqrdmlshq_laneq_s16(h, b, a, 5);
    s = vqrdmlshq_s32(s, c, d);
    s = vqrdmlahq_lane_s32(s, d, vget_low_s32(c), 1);
    sh = vqrdmlahh_s16(sh, (int16_t)r[0], (int16_t)r[1]);
    ss = vqrdmlshs_s32(ss, (int32_t)r[2], (int32_t)r[3]);
    // Saturating corner: -1.0 * -1.0 accumulates to the maximum.
    if (i == 50) h = vqrdmlahq_s16(vdupq_n_s16(0x7000), vdupq_n_s16(-32768), vdupq_n_s16(-32768));
  }
  print_q("sqrdmlah/sh .8h", vreinterpretq_u8_s16(h));
  print_q("sqrdmlah/sh .4s", vreinterpretq_u8_s32(s));
  printf("sqrdmlah h %d sqrdmlsh s %d\n", sh, ss);
}

// ---- half precision (FEAT_FP16) ----

static void half(void) {
  float16x8_t acc = vdupq_n_f16((float16_t)0.5);
  for (int i = 1; i <= 20; i++) {
    float16x8_t x = vdupq_n_f16((float16_t)(1.0f / (float)i));
    acc = vfmaq_f16(acc, x, vaddq_f16(acc, x));
    acc = vdivq_f16(acc, vdupq_n_f16((float16_t)1.5));
  }
  float16_t s = (float16_t)3.0;
  for (int i = 0; i < 10; i++) s = s * (float16_t)1.25 - (float16_t)0.5;
  print_q("fp16", vreinterpretq_u8_f16(acc));
  printf("fp16 scalar %.6f\n", (double)s);
}

// ---- what the kernel says ----
// (DC CVAP, FEAT_DPB, is not exercised here: qemu-aarch64 7.2 defines it for system emulation
// only and raises SIGILL in user mode; test/arm64/features.test.ts covers it.)

static void misc(void) {
  unsigned long hw = getauxval(AT_HWCAP);
  static const struct { const char *name; unsigned long bit; } caps[] = {
      {"fp", HWCAP_FP}, {"asimd", HWCAP_ASIMD}, {"aes", HWCAP_AES}, {"pmull", HWCAP_PMULL}, {"sha1", HWCAP_SHA1},
      {"sha2", HWCAP_SHA2}, {"crc32", HWCAP_CRC32}, {"atomics", HWCAP_ATOMICS}, {"fphp", HWCAP_FPHP},
      {"asimdhp", HWCAP_ASIMDHP}, {"cpuid", HWCAP_CPUID}, {"asimdrdm", HWCAP_ASIMDRDM}, {"lrcpc", HWCAP_LRCPC},
      {"dcpop", HWCAP_DCPOP}, {"asimddp", HWCAP_ASIMDDP},
  };
  printf("hwcaps:");
  for (unsigned k = 0; k < sizeof caps / sizeof caps[0]; k++)
    if (hw & caps[k].bit) printf(" %s", caps[k].name);
  printf("\n");
  uint64_t isar0, isar1;
  __asm__ volatile("mrs %0, id_aa64isar0_el1" : "=r"(isar0));
  __asm__ volatile("mrs %0, id_aa64isar1_el1" : "=r"(isar1));
  printf("ID_AA64ISAR0_EL1 %016" PRIx64 " ID_AA64ISAR1_EL1 %016" PRIx64 "\n", isar0, isar1);
}

int main(void) {
  atomics_uint8_t();
  atomics_uint16_t();
  atomics_uint32_t();
  atomics_uint64_t();
  atomics_maxmin();
  atomics_casp();
  rcpc();
  aes();
  sha();
  clmul();
  crc();
  dots();
  rdm();
  half();
  misc();
  return 0;
}
