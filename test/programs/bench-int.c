// CPU-bound integer workload for `npm run bench` (CoreMark-like mix: linked list, matrix,
// state machine, CRC), deterministic output so both emulators are checked to agree.
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#define N 64
static int32_t A[N][N], B[N][N], C[N][N];
struct node { struct node *next; int32_t v; };
static struct node pool[4096];

static uint32_t crc16(uint32_t crc, uint8_t d) {
  for (int i = 0; i < 8; i++) { uint32_t x = (crc ^ d) & 1; crc >>= 1; if (x) crc ^= 0xa001; d >>= 1; }
  return crc;
}

int main(int argc, char **argv) {
  int iters = argc > 1 ? atoi(argv[1]) : 30;
  uint32_t crc = 0;
  for (int it = 0; it < iters; it++) {
    for (int i = 0; i < N; i++) for (int j = 0; j < N; j++) { A[i][j] = (i * 31 + j * 17 + it) & 0xff; B[i][j] = (i ^ j) + it; }
    for (int i = 0; i < N; i++) for (int j = 0; j < N; j++) { int32_t s = 0; for (int k = 0; k < N; k++) s += A[i][k] * B[k][j]; C[i][j] = s; }
    for (int i = 0; i < N; i++) crc = crc16(crc, (uint8_t)C[i][(i * 7) % N]);
    for (int i = 0; i < 4096; i++) { pool[i].v = (i * 2654435761u + it) >> 7; pool[i].next = &pool[(i * 1103 + 7) % 4096]; }
    struct node *p = &pool[0]; int32_t acc = 0;
    for (int i = 0; i < 20000; i++) { acc += p->v & 0xffff; p = p->next; }
    crc = crc16(crc, (uint8_t)acc);
    const char *s = "0x1f 123 -45 +7 abc 99.5e3 --1 0b101";
    int state = 0, count[4] = {0};
    for (int r = 0; r < 50; r++) for (const char *c = s; *c; c++) {
      switch (state) {
        case 0: state = (*c >= '0' && *c <= '9') ? 1 : (*c == '+' || *c == '-') ? 2 : 0; break;
        case 1: state = (*c >= '0' && *c <= '9') ? 1 : (*c == ' ') ? 0 : 3; break;
        case 2: state = (*c >= '0' && *c <= '9') ? 1 : 3; break;
        default: state = (*c == ' ') ? 0 : 3;
      }
      count[state]++;
    }
    crc = crc16(crc, (uint8_t)(count[1] ^ count[3]));
  }
  printf("bench crc %08x\n", crc);
  return 0;
}
