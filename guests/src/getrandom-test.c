// /bin/shyper-getrandom in the kit's initramfs: asks the kernel for 16 random bytes the way
// early userspace does (getrandom(2) with flags 0: it blocks until the CRNG is initialised) and
// prints "shyper-guest: getrandom ok (N us)", N being how long the call took (CLOCK_MONOTONIC).
// /init runs it right after "boot ok" when shyper.test=1 is on the command line; with the device
// tree's /chosen/rng-seed trusted (CONFIG_RANDOM_TRUST_BOOTLOADER=y) the CRNG is ready before
// /init starts and the call returns at once.
//
// Freestanding (no libc, raw syscalls) so that it adds ~1 KiB to the initramfs instead of the
// ~600 KiB of a static glibc program, which the kernel would unpack on every boot.
// Built by guests/build-kit.sh: aarch64-linux-gnu-gcc -static -nostdlib -ffreestanding -Os.

typedef unsigned long u64;

enum { SYS_write = 64, SYS_exit = 93, SYS_clock_gettime = 113, SYS_getrandom = 278, CLOCK_MONOTONIC = 1 };

struct timespec {
  long tv_sec;
  long tv_nsec;
};

static long syscall3(long nr, long a, long b, long c) {
  register long x8 __asm__("x8") = nr;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory", "cc");
  return x0;
}

static char *put(char *p, const char *s) {
  while (*s) *p++ = *s++;
  return p;
}

static char *putdec(char *p, long v) {
  char tmp[24];
  int n = 0;
  if (v < 0) {
    *p++ = '-';
    v = -v;
  }
  do tmp[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
  while (n) *p++ = tmp[--n];
  return p;
}

static int run(void) {
  unsigned char buf[16];
  struct timespec t0, t1;
  char line[96], *p = line;
  syscall3(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&t0, 0);
  long n = syscall3(SYS_getrandom, (long)buf, sizeof buf, 0);
  syscall3(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&t1, 0);
  if (n != (long)sizeof buf) {
    p = putdec(put(p, "shyper-guest: getrandom failed: "), n);
  } else {
    long us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
    p = put(putdec(put(p, "shyper-guest: getrandom ok ("), us), " us)");
  }
  *p++ = '\n';
  syscall3(SYS_write, 1, (long)line, p - line);
  return n == (long)sizeof buf ? 0 : 1;
}

void _start(void) {
  syscall3(SYS_exit, run(), 0, 0);
  for (;;) {
  }
}
