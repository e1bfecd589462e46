// Hostile and careless programs for run-elf (test/linux-user/hostile.test.ts): one binary, the
// first argument picks the behaviour. Each mode prints what the system calls answered so the
// test can compare with what Linux answers.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *what, long r) {
  printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerrorname_np(errno) : "");
}

// The raw system call (no glibc checks in between): result or -errno.
static long raw(long n, long a, long b, long c, long d, long e, long f) {
  long r = syscall(n, a, b, c, d, e, f);
  return r == -1 ? -errno : r;
}

static void rawreport(const char *what, long r) {
  if (r < 0 && r > -4096) printf("%s = -%s\n", what, strerrorname_np((int)-r));
  else printf("%s = %ld\n", what, r);
}

// A page followed by an unmapped page: copies running past it stop there.
static char *guarded_page(void) {
  char *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(p + 4096, 4096);
  memset(p, 'x', 4096);
  return p;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  if (!strcmp(mode, "closedup")) {
    // What perror() does inside glibc: dup, fdopen, fclose. The host's stdout/stderr survive.
    close(dup(1));
    close(dup(2));
    int fd = dup(1);
    FILE *f = fdopen(fd, "w");
    fputs("through a dup\n", f);
    fclose(f);
    errno = ENOENT;
    perror("perror");
    if (fork() < 0) perror("fork");
    close(1);
    int again = dup(2); // lowest free descriptor: 1 again, now onto stderr
    printf("fd %d\n", again);
    fflush(stdout);
    fprintf(stderr, "stderr still open\n");
    return 0;
  }
  if (!strcmp(mode, "fds")) {
    rawreport("close(-1)", raw(SYS_close, -1, 0, 0, 0, 0, 0));
    rawreport("close(1<<30)", raw(SYS_close, 1 << 30, 0, 0, 0, 0, 0));
    rawreport("dup3(1,1,0)", raw(SYS_dup3, 1, 1, 0, 0, 0, 0));
    rawreport("dup3(1,1<<30,0)", raw(SYS_dup3, 1, 1 << 30, 0, 0, 0, 0));
    rawreport("dup3(1,5,0x1234)", raw(SYS_dup3, 1, 5, 0x1234, 0, 0, 0));
    rawreport("fcntl(1,F_DUPFD,1<<30)", raw(SYS_fcntl, 1, F_DUPFD, 1 << 30, 0, 0, 0));
    rawreport("fcntl(1,F_DUPFD,10)", raw(SYS_fcntl, 1, F_DUPFD, 10, 0, 0, 0));
    rawreport("fcntl(10,F_GETFD)", raw(SYS_fcntl, 10, F_GETFD, 0, 0, 0, 0));
    rawreport("fcntl(1,0x7777)", raw(SYS_fcntl, 1, 0x7777, 0, 0, 0, 0));
    rawreport("write(-5)", raw(SYS_write, -5, (long)"x", 1, 0, 0, 0));
    // Descriptors are unsigned int: the upper bits are ignored (2^40 + 77 is 77).
    rawreport("write(2^40+77 as fd)", raw(SYS_write, (1L << 40) + 77, (long)"x", 1, 0, 0, 0));
    rawreport("write(1,NULL,10)", raw(SYS_write, 1, 0, 10, 0, 0, 0));
    rawreport("read(0,NULL,10)", raw(SYS_read, 0, 0, 10, 0, 0, 0));
    rawreport("read(1<<20)", raw(SYS_read, 1 << 20, 0, 10, 0, 0, 0));
    rawreport("writev(1,NULL,-1)", raw(SYS_writev, 1, 0, -1, 0, 0, 0));
    rawreport("writev(1,NULL,1<<20)", raw(SYS_writev, 1, 0, 1 << 20, 0, 0, 0));
    rawreport("openat(bad dirfd, relative)", raw(SYS_openat, 77, (long)"x", O_RDONLY, 0, 0, 0));
    rawreport("openat(NULL path)", raw(SYS_openat, AT_FDCWD, 0, O_RDONLY, 0, 0, 0));
    int n = 0;
    while (open("/", O_RDONLY | O_DIRECTORY) >= 0) n++;
    printf("opened %d more, then %s\n", n, strerrorname_np(errno));
    return 0;
  }
  if (!strcmp(mode, "memory")) {
    void *m = mmap(NULL, 1ULL << 40, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    report("mmap 1 TiB", m == MAP_FAILED ? -1 : 0);
    rawreport("mmap len -4096", raw(SYS_mmap, 0, -4096L, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    rawreport("mmap len 0", raw(SYS_mmap, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    rawreport("mmap fixed at 2^48", raw(SYS_mmap, 1L << 48, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
    rawreport("mmap fixed unaligned", raw(SYS_mmap, 0x10001, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
    rawreport("mmap no type", raw(SYS_mmap, 0, 4096, PROT_READ, MAP_ANONYMOUS, -1, 0));
    rawreport("mmap bad prot", raw(SYS_mmap, 0, 4096, 0x4000, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    rawreport("mmap bad fd", raw(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, 999, 0));
    int dir = open("/", O_RDONLY | O_DIRECTORY);
    rawreport("mmap a directory", raw(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, dir, 0));
    // [2^46, 2^46 + 2^45): nothing is mapped there (program, stack and mmap area lie elsewhere).
    rawreport("munmap 2^45 bytes", raw(SYS_munmap, 1L << 46, 1L << 45, 0, 0, 0, 0));
    rawreport("munmap len -1", raw(SYS_munmap, 0x100000000L, -1L, 0, 0, 0, 0));
    rawreport("munmap unaligned", raw(SYS_munmap, 0x100000001L, 4096, 0, 0, 0, 0));
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    rawreport("mprotect 1 TiB", raw(SYS_mprotect, (long)p, 1L << 40, PROT_READ, 0, 0, 0));
    rawreport("mprotect len -4096", raw(SYS_mprotect, (long)p, -4096L, PROT_READ, 0, 0, 0));
    rawreport("mremap to 2^46", raw(SYS_mremap, (long)p, 4096, 1L << 46, MREMAP_MAYMOVE, 0, 0));
    rawreport("mremap len -4096", raw(SYS_mremap, (long)p, 4096, -4096L, MREMAP_MAYMOVE, 0, 0));
    rawreport("mremap unmapped", raw(SYS_mremap, 0x200000000L, 4096, 8192, MREMAP_MAYMOVE, 0, 0));
    p[0] = 42;
    char *q = mremap(p, 4096, 1 << 20, MREMAP_MAYMOVE);
    printf("mremap grow keeps data: %d\n", q != MAP_FAILED && q[0] == 42);
    void *b0 = sbrk(0);
    report("sbrk(1 TiB)", sbrk(1L << 40) == (void *)-1 ? -1 : 0);
    report("brk(2^63)", raw(SYS_brk, 1L << 62, 0, 0, 0, 0, 0) == (long)b0 ? 0 : -1);
    report("sbrk still works", sbrk(4096) == b0 ? 0 : -1);
    return 0;
  }
  if (!strcmp(mode, "malloc")) {
    // Allocate until the emulated memory runs out: NULL, not a crash of the emulator.
    size_t mib = 0;
    for (;;) {
      char *p = malloc(1 << 20);
      if (!p) break;
      p[0] = 1; // the emulator maps eagerly: no need to touch every page
      mib++;
    }
    printf("malloc gave out after %s MiB: %s\n", mib > 500 ? "hundreds of" : "too few", strerrorname_np(errno));
    return 0;
  }
  if (!strcmp(mode, "lengths")) {
    char *p = guarded_page();
    rawreport("write(1, page, 2^40)", raw(SYS_write, 1, (long)p, 1L << 40, 0, 0, 0));
    rawreport("write(1, page, -1)", raw(SYS_write, 1, (long)p, -1L, 0, 0, 0));
    fflush(stdout);
    printf("\n");
    rawreport("getrandom(page, 2^40)", raw(SYS_getrandom, (long)p, 1L << 40, 0, 0, 0, 0));
    rawreport("getrandom(page, 16, bad flags)", raw(SYS_getrandom, (long)p, 16, 0x100, 0, 0, 0));
    rawreport("getrandom(NULL, 16)", raw(SYS_getrandom, 0, 16, 0, 0, 0, 0));
    rawreport("sched_getaffinity(0, 0)", raw(SYS_sched_getaffinity, 0, 0, (long)p, 0, 0, 0));
    rawreport("sched_getaffinity(0, 3)", raw(SYS_sched_getaffinity, 0, 3, (long)p, 0, 0, 0));
    rawreport("sched_getaffinity(0, 2^40)", raw(SYS_sched_getaffinity, 0, 1L << 40, (long)p, 0, 0, 0));
    rawreport("sched_getaffinity(0, -8)", raw(SYS_sched_getaffinity, 0, -8L, (long)p, 0, 0, 0));
    rawreport("sched_getaffinity(12345, 8)", raw(SYS_sched_getaffinity, 12345, 8, (long)p, 0, 0, 0));
    rawreport("read(0, page, 2^40)", raw(SYS_read, 0, (long)p, 1L << 40, 0, 0, 0));
    rawreport("rt_sigaction(0)", raw(SYS_rt_sigaction, 0, 0, 0, 8, 0, 0));
    rawreport("rt_sigaction(SIGKILL, act)", raw(SYS_rt_sigaction, SIGKILL, (long)p, 0, 8, 0, 0));
    rawreport("rt_sigaction(1, setsize 9)", raw(SYS_rt_sigaction, 1, 0, 0, 9, 0, 0));
    rawreport("kill(99999, SIGTERM)", raw(SYS_kill, 99999, SIGTERM, 0, 0, 0, 0));
    rawreport("kill(self, 1000)", raw(SYS_kill, getpid(), 1000, 0, 0, 0, 0));
    rawreport("kill(self, SIGCHLD)", raw(SYS_kill, getpid(), SIGCHLD, 0, 0, 0, 0));
    rawreport("prlimit64(resource 99)", raw(SYS_prlimit64, 0, 99, 0, 0, 0, 0));
    return 0;
  }
  if (!strcmp(mode, "yes")) {
    // Like yes(1): only a closed reader stops it.
    for (;;) fputs("y\n", stdout);
  }
  if (!strcmp(mode, "yes-ignoring-sigpipe")) {
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
      if (write(1, "y\n", 2) < 0) {
        fprintf(stderr, "write: %s\n", strerrorname_np(errno));
        return 7;
      }
    }
  }
  if (!strcmp(mode, "bigout")) {
    // Several MiB in large writes: every byte must arrive.
    static char buf[1 << 20];
    for (int i = 0; i < (int)sizeof buf; i++) buf[i] = 'a' + i % 26;
    for (int k = 0; k < 4; k++) {
      size_t off = 0;
      while (off < sizeof buf) {
        ssize_t n = write(1, buf + off, sizeof buf - off);
        if (n <= 0) return 9;
        off += n;
      }
    }
    return 0;
  }
  if (!strcmp(mode, "segv")) *(volatile int *)0 = 1;
  if (!strcmp(mode, "jump")) ((void (*)(void))0xdead0000)();
  if (!strcmp(mode, "trap")) __builtin_trap();
  if (!strcmp(mode, "bus")) {
    static long words[2];
    long v;
    __asm__ volatile("ldxr %0, [%1]" : "=r"(v) : "r"((char *)words + 1));
    return (int)v;
  }
  if (!strcmp(mode, "abort")) abort();
  if (!strcmp(mode, "term")) raise(SIGTERM);
  fprintf(stderr, "unknown mode '%s'\n", mode);
  return 100;
}
