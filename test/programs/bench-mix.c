// CPU-bound mix for the translator's figures (issue #12): hashing, sorting, a bytecode
// interpreter and a double-precision matrix multiply, ~400 M instructions at the default scale.
// Prints one checksum line so runs (ours, qemu-aarch64) can be compared byte for byte.
// Usage: bench-mix [SCALE]   (SCALE 1 = the default size)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(const uint8_t *p, size_t n, uint64_t h) {
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static uint32_t xorshift(uint32_t *s) {
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

// A small stack machine: PUSH k, ADD, MUL, DUP, SWAP, JNZ back, DEC, POP, HALT.
enum { PUSH, ADD, MUL, DUP, SWAP, DEC, JNZ, POP, XOR, HALT };
static int64_t run_vm(const int32_t *code, int64_t seed) {
  int64_t st[64];
  int sp = 0, pc = 0;
  st[sp++] = seed;
  for (;;) {
    int32_t op = code[pc++];
    switch (op) {
      case PUSH: st[sp++] = code[pc++]; break;
      case ADD: sp--; st[sp - 1] += st[sp]; break;
      case MUL: sp--; st[sp - 1] *= st[sp]; break;
      case XOR: sp--; st[sp - 1] ^= st[sp]; break;
      case DUP: st[sp] = st[sp - 1]; sp++; break;
      case SWAP: { int64_t t = st[sp - 1]; st[sp - 1] = st[sp - 2]; st[sp - 2] = t; } break;
      case DEC: st[sp - 1]--; break;
      case JNZ: { int32_t back = code[pc++]; if (st[--sp] != 0) pc -= back; } break;
      case POP: sp--; break;
      default: return st[0];
    }
  }
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  uint64_t sum = 0;
  uint32_t seed = 12345;
  for (int round = 0; round < scale; round++) {
    // Hashing: 8 MB through FNV-1a.
    static uint8_t buf[1 << 16];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)xorshift(&seed);
    uint64_t h = 0xcbf29ce484222325ull;
    for (int k = 0; k < 128; k++) h = fnv1a(buf, sizeof buf, h);
    sum ^= h;
    // Sorting: qsort of 200k words, twice.
    static uint32_t a[200000];
    for (int k = 0; k < 2; k++) {
      for (size_t i = 0; i < 200000; i++) a[i] = xorshift(&seed);
      qsort(a, 200000, sizeof a[0], cmp_u32);
      sum += a[1000] ^ a[199000];
    }
    // Bytecode: a counted loop of arithmetic in the stack machine.
    // acc = seed; counter = N; loop: acc = acc * 3 + 7 ^ counter ... (via SWAP dance)
    static const int32_t prog[] = {
        PUSH, 2000000,                   // [acc, n]
        SWAP, PUSH, 3, MUL, PUSH, 7, ADD, // [n, acc*3+7]
        SWAP, DEC, DUP, JNZ, 12,          // [acc', n-1] loop while n-1 != 0
        POP, HALT,
    };
    sum += (uint64_t)run_vm(prog, (int64_t)seed);
    // Matrix multiply: 128x128 doubles, 3 times.
    static double m1[128][128], m2[128][128], m3[128][128];
    for (int i = 0; i < 128; i++)
      for (int j = 0; j < 128; j++) {
        m1[i][j] = (double)(xorshift(&seed) % 1000) / 100.0;
        m2[i][j] = (double)(xorshift(&seed) % 1000) / 100.0;
      }
    for (int r = 0; r < 3; r++) {
      for (int i = 0; i < 128; i++)
        for (int j = 0; j < 128; j++) {
          double s = 0;
          for (int k = 0; k < 128; k++) s += m1[i][k] * m2[k][j];
          m3[i][j] = s;
        }
      memcpy(m1, m3, sizeof m1);
      for (int i = 0; i < 128; i++)
        for (int j = 0; j < 128; j++) m1[i][j] = m1[i][j] / 1e6;
    }
    uint64_t bits;
    memcpy(&bits, &m1[17][33], sizeof bits);
    sum ^= bits;
  }
  printf("bench-mix %016llx\n", (unsigned long long)sum);
  return 0;
}
