// Loops GCC auto-vectorises at -O3, and glibc's string routines over many sizes/alignments.
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <stdlib.h>

static uint8_t buf[4096 + 64], buf2[4096 + 64];
static float fa[1024], fb[1024];
static int32_t ia[1024], ib[1024];

static int cmp(const void *a, const void *b) { int x = *(const int *)a, y = *(const int *)b; return (x > y) - (x < y); }

int main(void) {
  for (int i = 0; i < 1024; i++) { fa[i] = i * 0.5f; fb[i] = (1024 - i) * 0.25f; ia[i] = i * 2654435761u; ib[i] = i ^ 0x5a5a; }
  float dot = 0; for (int i = 0; i < 1024; i++) dot += fa[i] * fb[i];
  for (int i = 0; i < 1024; i++) fa[i] = 2.0f * fa[i] + fb[i];
  int64_t isum = 0; for (int i = 0; i < 1024; i++) { ia[i] = ia[i] > ib[i] ? ia[i] - ib[i] : ib[i] - ia[i]; isum += ia[i]; }
  unsigned hist[256] = {0};
  for (int i = 0; i < 4096; i++) { buf[i] = (uint8_t)(i * 31 + (i >> 3)); hist[buf[i]]++; }
  printf("dot %.9g saxpy %.9g isum %lld hist %u %u\n", dot, fa[1023], (long long)isum, hist[7], hist[200]);
  unsigned long h = 0;
  for (int align = 0; align < 16; align++) {
    for (int n = 0; n < 300; n += 7) {
      memset(buf2 + align, 'a' + (n % 26), n);
      buf2[align + n] = 0;
      memcpy(buf + 1, buf2 + align, n + 1);
      h = h * 31 + strlen((char *)buf2 + align) + memcmp(buf + 1, buf2 + align, n + 1);
      char *c = strchr((char *)buf2 + align, 'q');
      h = h * 7 + (c ? (unsigned long)(c - (char *)buf2) : 1);
      h ^= (unsigned long)(memchr(buf2 + align, 0, n + 1) != NULL);
    }
  }
  printf("strings %lu\n", h);
  int arr[500]; for (int i = 0; i < 500; i++) arr[i] = (i * 7919) % 997 - 500;
  qsort(arr, 500, sizeof(int), cmp);
  printf("sorted %d %d %d\n", arr[0], arr[250], arr[499]);
  char out[256]; snprintf(out, sizeof out, "%5d|%-5s|%08.3f|%x|%o|%c|%%|%p", 42, "ab", 3.14159, 255, 8, 'z', (void *)0);
  puts(out);
  return 0;
}
