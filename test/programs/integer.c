// Integer arithmetic the compiler turns into every data-processing form: 64-bit and 32-bit
// multiply/divide (incl. by constants -> UMULH/SMULH), shifts, bit tricks, overflow, __int128.
#include <stdio.h>
#include <stdint.h>
#include <inttypes.h>

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

int main(void) {
  uint64_t acc = 0;
  for (int i = 0; i < 2000; i++) {
    uint64_t a = next(), b = next() | 1;
    int64_t sa = (int64_t)a, sb = (int64_t)b;
    uint32_t wa = (uint32_t)a, wb = (uint32_t)b | 1;
    acc ^= a / b + a % b + (uint64_t)(sa / sb) + (uint64_t)(sa % sb);
    acc += (uint64_t)wa / wb + wa % 7 + (uint32_t)((int32_t)wa / -3) + a / 10 + sa / 1000;
    acc = (acc << (i & 63)) | (acc >> ((64 - (i & 63)) & 63));
    acc += __builtin_popcountll(a) + __builtin_clzll(b) + __builtin_ctzll(b) + __builtin_bswap64(a);
    unsigned __int128 p = (unsigned __int128)a * b;
    __int128 sp = (__int128)sa * sb;
    acc ^= (uint64_t)(p >> 64) ^ (uint64_t)p ^ (uint64_t)(sp >> 64);
    acc += (a > b) + (sa < sb) * 3 + (wa == wb);
    if (i % 500 == 0) printf("%d %016" PRIx64 " %" PRId64 " %u %d\n", i, acc, sa >> 3, wa >> 5, (int32_t)wa >> 5);
  }
  unsigned __int128 big = ((unsigned __int128)next() << 64) | next();
  unsigned __int128 d = big / 1000000007u;
  printf("int128 %016" PRIx64 "%016" PRIx64 " %" PRIu64 "\n", (uint64_t)(d >> 64), (uint64_t)d, (uint64_t)(big % 1000000007u));
  printf("final %016" PRIx64 "\n", acc);
  return (int)(acc & 0x7f);
}
