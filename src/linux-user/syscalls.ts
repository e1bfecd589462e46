// Linux system calls for user-mode programs (arch/arm64 uses the generic syscall table,
// include/uapi/asm-generic/unistd.h): number in x8, arguments x0-x5, result or -errno in x0.
// Host files are opened read-only. Time is virtual (derived from the instruction count), so a run
// is reproducible.
//
// Hostile programs are expected: every argument is validated the way Linux validates it and
// answered with the errno Linux gives (lengths are size_t: "negative" is huge; copies are bounded
// by MAX_RW_COUNT and done in chunks; memory runs out with ENOMEM). Guest descriptors are a table
// of their own over open file descriptions: closing a guest descriptor never closes one of the
// host's standard streams. A host error inside a call becomes the guest's errno.
import { closeSync, fstatSync, lstatSync, openSync, readlinkSync, readdirSync, statSync, type Stats, existsSync } from 'node:fs';
import { hostname, version } from 'node:os';
import { isatty } from 'node:tty';
import { resolve } from 'node:path';
import type { Cpu } from '../../emulator/arm64/cpu.ts';
import { EC } from '../../emulator/arm64/ec.ts';
import { type AddressSpace, EfaultError, PAGE, PROT_READ, PROT_WRITE, TASK_SIZE } from './address-space.ts';
import { emulateMrs, type UserCpu } from './cpuid.ts';
import { diagnostic, errnoOf, readSome, writeAll } from './host-io.ts';

export const E = {
  PERM: 1, NOENT: 2, SRCH: 3, BADF: 9, CHILD: 10, AGAIN: 11, NOMEM: 12, ACCES: 13, FAULT: 14, EXIST: 17,
  NODEV: 19, NOTDIR: 20, ISDIR: 21, INVAL: 22, MFILE: 24, NOTTY: 25, SPIPE: 29, ROFS: 30, PIPE: 32,
  RANGE: 34, NAMETOOLONG: 36, NOSYS: 38,
} as const;
const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_EMPTY_PATH = 0x1000;
/** asm-generic/fcntl.h as arm64 uses it. */
const O = { ACCMODE: 3, RDONLY: 0, WRONLY: 1, RDWR: 2, CREAT: 0x40, TRUNC: 0x200, APPEND: 0x400, NONBLOCK: 0x800, DIRECTORY: 0x4000, LARGEFILE: 0x20000, CLOEXEC: 0x80000 };
/** Linux's cap on one read/write (INT_MAX rounded down to a page). */
const MAX_RW_COUNT = 0x7ffff000;
/** Host memory touched per step of a large copy. */
const CHUNK = 1 << 20;
/** RLIMIT_NOFILE: the descriptor table size (Linux's default soft limit). */
export const NOFILE = 1024;
const UIO_MAXIOV = 1024;
const PATH_MAX = 4096;
const PID = 1000;
const SIG = { HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, SEGV: 11, PIPE: 13, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, WINCH: 28 };
const SIG_DFL = 0n;
const SIG_IGN = 1n;
/** Signals whose default action is to ignore (or to stop, which a lone process cannot). */
const DEFAULT_IGNORED = new Set([SIG.CHLD, SIG.CONT, SIG.STOP, SIG.TSTP, SIG.TTIN, SIG.TTOU, SIG.URG, SIG.WINCH]);
const SIGNAMES: Record<number, string> = { 4: 'SIGILL', 5: 'SIGTRAP', 7: 'SIGBUS', 11: 'SIGSEGV' };

/** An open file description (shared by dup'ed descriptors: offset and status flags). */
interface Description {
  /** 'stream': one of the host's standard streams (never closed); 'file'/'dir': opened by the guest. */
  kind: 'stream' | 'file' | 'dir';
  host: number;
  path: string;
  pos: number;
  dir: string[] | null;
  flags: number;
  refs: number;
}

interface Slot {
  d: Description;
  cloexec: boolean;
}

/** Raised inside a call to answer -errno (validation failures deep in a helper). */
class Errno extends Error {
  constructor(readonly errno: number) {
    super(`errno ${errno}`);
  }
}

export class Syscalls {
  exitCode: number | null = null;
  private readonly fds = new Map<number, Slot>();
  private readonly warned = new Set<number>();
  private randomState = 0x12345678;
  /** rt_sigaction state: the 32-byte struct sigaction per signal (1..64), absent = SIG_DFL. */
  private readonly actions = new Map<number, Uint8Array>();
  private sigmask = 0n;

  /** Where guest writes to the standard streams go (default: the host's own descriptors). */
  output: ((fd: number, data: Uint8Array) => void) | null = null;
  /** Where guest reads of the standard streams come from (default: the host's descriptors). */
  input: ((max: number) => Uint8Array) | null = null;
  /** Where fault reports ("SIGSEGV at ...") and warnings go (default: the host's stderr). */
  report: (line: string) => void = diagnostic;

  constructor(private readonly as: AddressSpace, private readonly exe: string, private readonly userCpu: UserCpu) {
    for (const fd of [0, 1, 2]) {
      const flags = (isatty(fd) ? O.RDWR : fd === 0 ? O.RDONLY : O.WRONLY) | O.LARGEFILE;
      this.fds.set(fd, { d: { kind: 'stream', host: fd, path: `/dev/fd/${fd}`, pos: -1, dir: null, flags, refs: 1 }, cloexec: false });
    }
  }

  flush(): void {}

  /** Open guest descriptors (tests). */
  get openDescriptors(): number[] {
    return [...this.fds.keys()].sort((a, b) => a - b);
  }

  /** Synchronous exceptions from EL0: SVC is a system call, the rest are fatal signals. */
  exception(cpu: Cpu, ec: number, iss: number, far: number): void {
    if (ec === EC.SVC64) {
      const n = Number(cpu.getX(8));
      let ret: number | bigint;
      try {
        ret = this.call(cpu, n);
      } catch (e) {
        if (e instanceof EfaultError) ret = -E.FAULT;
        else if (e instanceof Errno) ret = -e.errno;
        else {
          const errno = errnoOf(e);
          if (errno === undefined) throw e;
          ret = -errno;
        }
      }
      if (this.exitCode === null) cpu.setX(0, BigInt(ret));
      return;
    }
    if (ec === EC.UNKNOWN) {
      const w = cpu.fetchWord(cpu.pc);
      const mrs = emulateMrs(w >>> 0, this.userCpu);
      if (mrs !== null) {
        // The kernel's MRS emulation: write Xt (XZR discards) and step past the instruction.
        if (mrs.rt !== 31) cpu.setX(mrs.rt, mrs.value);
        cpu.nextPc = cpu.pc + 4;
        return;
      }
    }
    this.fault(cpu, ec, iss, far);
  }

  /** A fatal signal from an exception: one line naming the PC and the instruction word. */
  private fault(cpu: Cpu, ec: number, iss: number, far: number): void {
    const fetch = ec === EC.IABT_LOWER || ec === EC.IABT_SAME || ec === EC.PC_ALIGN;
    const pc = fetch ? far : cpu.pc;
    const fsc = iss & 0x3f;
    let sig: number;
    if (ec === EC.BRK64) sig = SIG.TRAP;
    else if (ec === EC.PC_ALIGN || ec === EC.SP_ALIGN) sig = SIG.BUS;
    else if (ec === EC.DABT_LOWER || ec === EC.DABT_SAME || ec === EC.IABT_LOWER || ec === EC.IABT_SAME) {
      // Alignment faults and synchronous external aborts are SIGBUS (arch/arm64/mm/fault.c).
      sig = fsc === 0x21 || fsc === 0x10 ? SIG.BUS : SIG.SEGV;
    } else sig = SIG.ILL;
    const hex = (v: number): string => `0x${BigInt.asUintN(64, BigInt(Math.trunc(v))).toString(16)}`;
    const w = this.as.peekWord(pc);
    const insn = w === undefined ? 'insn=unreadable' : `insn=0x${(w >>> 0).toString(16).padStart(8, '0')}`;
    let line = `shyper-emu: ${SIGNAMES[sig]} at pc=${hex(pc)} ${insn}`;
    if (sig === SIG.SEGV || sig === SIG.BUS) line += ` address=${hex(far)}`;
    if (sig === SIG.TRAP) line += ` (BRK #${iss & 0xffff})`;
    this.report(line);
    this.die(cpu, 128 + sig);
  }

  private die(cpu: Cpu, code: number): void {
    this.exitCode = code;
    cpu.halted = true;
    cpu.exitRequest = 1;
  }

  // ---- arguments ----

  /** Register i as a signed 64-bit value (approximate above 2^53: only ever compared). */
  private x(cpu: Cpu, i: number): number {
    return Number(BigInt.asIntN(64, cpu.getX(i)));
  }
  /** Register i as an unsigned 64-bit value (size_t, pointers). */
  private u(cpu: Cpu, i: number): number {
    return Number(cpu.getX(i));
  }
  /** Register i as a C unsigned int. */
  private u32(cpu: Cpu, i: number): number {
    return Number(cpu.getX(i) & 0xffffffffn);
  }
  /** Register i as a C int (descriptors, flags, signal numbers). */
  private int(cpu: Cpu, i: number): number {
    return Number(BigInt.asIntN(32, cpu.getX(i)));
  }

  private slot(fd: number): Slot {
    const s = this.fds.get(fd);
    if (!s) throw new Errno(E.BADF);
    return s;
  }

  private readPath(va: number): string {
    const bytes: number[] = [];
    for (let i = 0; ; i++) {
      if (i >= PATH_MAX) throw new Errno(E.NAMETOOLONG);
      const b = this.as.read(va + i, 1)[0]!;
      if (b === 0) break;
      bytes.push(b);
    }
    return Buffer.from(bytes).toString('utf8');
  }

  private call(cpu: Cpu, n: number): number | bigint {
    const x = (i: number): number => this.x(cpu, i);
    const u = (i: number): number => this.u(cpu, i);
    const int = (i: number): number => this.int(cpu, i);
    const u32 = (i: number): number => this.u32(cpu, i);
    const as = this.as;
    switch (n) {
      case 63: // read
        return this.read(int(0), u(1), u(2), -1);
      case 67: // pread64
        if (x(3) < 0) return -E.INVAL;
        return this.read(int(0), u(1), u(2), x(3));
      case 64: // write
        return this.write(int(0), u(1), u(2));
      case 65: // readv
      case 66: // writev
        return this.vector(int(0), u(1), x(2), n === 66);
      case 56: // openat
        return this.openat(int(0), this.readPath(u(1)), int(2));
      case 57: // close
        return this.close(int(0));
      case 80: // fstat
        return this.putStat(u(1), this.fstat(this.slot(int(0)).d));
      case 79: {
        // newfstatat
        const flags = int(3);
        if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800 /* AT_NO_AUTOMOUNT */)) return -E.INVAL;
        const path = this.readPath(u(1));
        if (path === '') {
          if (!(flags & AT_EMPTY_PATH)) return -E.NOENT;
          if (int(0) === AT_FDCWD) return this.putStat(u(2), statSync('.'));
          return this.putStat(u(2), this.fstat(this.slot(int(0)).d));
        }
        const hp = this.hostPath(int(0), path);
        return this.putStat(u(2), flags & AT_SYMLINK_NOFOLLOW ? lstatSync(hp) : statSync(hp));
      }
      case 62: // lseek
        return this.lseek(int(0), x(1), int(2));
      case 61: // getdents64
        return this.getdents(int(0), u(1), u(2));
      case 78: {
        // readlinkat
        const path = this.readPath(u(1));
        const size = int(3);
        if (size <= 0) return -E.INVAL;
        const target = path === '/proc/self/exe' ? resolve(this.exe) : readlinkSync(this.hostPath(int(0), path));
        const b = Buffer.from(target).subarray(0, size);
        as.write(u(2), b);
        return b.length;
      }
      case 48: {
        // faccessat
        const mode = int(2);
        if (mode & ~7) return -E.INVAL;
        return existsSync(this.hostPath(int(0), this.readPath(u(1)))) ? (mode & 2 ? -E.ROFS : 0) : -E.NOENT;
      }
      case 17: {
        // getcwd
        const b = Buffer.from(process.cwd() + '\0');
        if (b.length > u(1)) return -E.RANGE;
        as.write(u(0), b);
        return b.length;
      }
      case 214: // brk
        return this.brk(u(0));
      case 222: // mmap
        return this.mmap(u(0), u(1), int(2), int(3), int(4), x(5));
      case 215: // munmap
        return this.munmap(u(0), u(1));
      case 226: // mprotect
        return this.mprotect(u(0), u(1), int(2));
      case 216: // mremap
        return this.mremap(u(0), u(1), u(2), int(3), u(4));
      case 233: // madvise
        return u(0) % PAGE ? -E.INVAL : 0;
      case 93: // exit
      case 94: // exit_group
        this.die(cpu, x(0) & 0xff);
        return 0;
      case 96: // set_tid_address
        return PID;
      case 99: // set_robust_list
        return u(1) === 24 ? 0 : -E.INVAL;
      case 293: // rseq
        return -E.NOSYS;
      case 261: // prlimit64
        return this.prlimit(int(0), int(1), u(2), u(3));
      case 134: // rt_sigaction
        return this.sigaction(int(0), u(1), u(2), u(3));
      case 135: // rt_sigprocmask
        return this.sigprocmask(int(0), u(1), u(2), u(3));
      case 132: // sigaltstack
        return 0;
      case 113: // clock_gettime
      case 169: {
        // gettimeofday
        if (n === 113 && (int(0) < 0 || int(0) > 11)) return -E.INVAL;
        const dst = n === 113 ? u(1) : u(0);
        if (n === 169 && dst === 0) return 0;
        const ns = this.nowNs(cpu);
        const b = new Uint8Array(16);
        const dv = new DataView(b.buffer);
        dv.setBigUint64(0, BigInt(Math.floor(ns / 1e9)), true);
        dv.setBigUint64(8, BigInt(n === 113 ? ns % 1e9 : Math.floor((ns % 1e9) / 1000)), true);
        as.write(dst, b);
        return 0;
      }
      case 114: // clock_getres
        if (int(0) < 0 || int(0) > 11) return -E.INVAL;
        if (u(1)) as.write(u(1), Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]));
        return 0;
      case 101: // nanosleep
      case 115: // clock_nanosleep
        return 0;
      case 172: // getpid
      case 178: // gettid
        return PID;
      case 173: // getppid
        return PID - 1;
      case 174:
      case 175:
      case 176:
      case 177:
        return 0;
      case 160: // uname
        return this.uname(u(0));
      case 29: // ioctl
        this.slot(int(0));
        return -E.NOTTY;
      case 278: // getrandom
        return this.getrandom(u(0), u(1), int(2));
      case 123: {
        // sched_getaffinity: one CPU, an 8-byte mask
        const pid = int(0);
        if (pid !== 0 && pid !== PID) return -E.SRCH;
        const len = u32(1);
        if (len < 8 || len % 8 !== 0) return -E.INVAL;
        as.write(u(2), Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0));
        return 8;
      }
      case 122: {
        // sched_setaffinity: CPU 0 must be in the mask
        const pid = int(0);
        if (pid !== 0 && pid !== PID) return -E.SRCH;
        if (u32(1) === 0) return -E.INVAL;
        return (as.read(u(2), 1)[0]! & 1) === 0 ? -E.INVAL : 0;
      }
      case 98: // futex (single thread: nothing to wait for)
        return (x(1) & 127) === 0 ? -E.AGAIN : 0;
      case 129: // kill
        return this.kill(cpu, int(0), int(1));
      case 130: // tkill
        return this.kill(cpu, int(0), int(1));
      case 131: // tgkill
        if (int(0) !== PID) return int(0) <= 0 ? -E.INVAL : -E.SRCH;
        return this.kill(cpu, int(1), int(2));
      case 25: // fcntl
        return this.fcntl(int(0), int(1), x(2));
      case 23: {
        // dup
        const s = this.slot(int(0));
        return this.install(s.d, this.lowestFree(0), false);
      }
      case 24: {
        // dup3
        const [oldfd, newfd, flags] = [int(0), int(1), int(2)];
        if (flags & ~O.CLOEXEC) return -E.INVAL;
        if (oldfd === newfd) return -E.INVAL;
        const s = this.slot(oldfd);
        if (newfd < 0 || newfd >= NOFILE) return -E.BADF;
        if (this.fds.has(newfd)) this.close(newfd);
        return this.install(s.d, newfd, (flags & O.CLOEXEC) !== 0);
      }
      case 179: {
        // sysinfo: a 1 GiB machine, up for the virtual time elapsed
        const b = new Uint8Array(112);
        const dv = new DataView(b.buffer);
        dv.setBigInt64(0, BigInt(Math.floor(cpu.instret / 1e9)), true);
        dv.setBigUint64(32, BigInt(as.mem.size), true); // totalram
        dv.setBigUint64(40, BigInt(as.freePages * PAGE), true); // freeram
        dv.setUint16(80, 1, true); // procs
        dv.setUint32(104, 1, true); // mem_unit
        as.write(u(0), b);
        return 0;
      }
      case 166: // umask
        return 0o22;
      case 167: // prctl
        return 0;
      case 124: // sched_yield
        return 0;
      case 153: // times
        return Math.floor(this.nowNs(cpu) / 1e7);
      case 260: // wait4
      case 95: // waitid
        return -E.CHILD;
      default:
        if (!this.warned.has(n) && this.warned.size < 16) {
          this.warned.add(n);
          this.report(`shyper-emu: unsupported system call ${n} (returning -ENOSYS)`);
        }
        return -E.NOSYS;
    }
  }

  /** Virtual time: 1 ns per instruction after a fixed epoch (2026-01-01). */
  private nowNs(cpu: Cpu): number {
    return 1767225600e9 + cpu.instret;
  }

  // ---- descriptors ----

  private lowestFree(from: number): number {
    let fd = from;
    while (this.fds.has(fd)) fd++;
    if (fd >= NOFILE) throw new Errno(E.MFILE);
    return fd;
  }

  private install(d: Description, fd: number, cloexec: boolean): number {
    d.refs++;
    this.fds.set(fd, { d, cloexec });
    return fd;
  }

  private close(fd: number): number {
    const s = this.slot(fd);
    this.fds.delete(fd);
    if (--s.d.refs === 0 && s.d.kind !== 'stream') closeSync(s.d.host);
    return 0;
  }

  private hostPath(dirfd: number, path: string): string {
    if (path.startsWith('/') || dirfd === AT_FDCWD) return path;
    const s = this.slot(dirfd);
    if (s.d.kind !== 'dir') throw new Errno(E.NOTDIR);
    return resolve(s.d.path, path);
  }

  private fstat(d: Description): Stats {
    return fstatSync(d.host);
  }

  private openat(dirfd: number, path: string, flags: number): number {
    if (path === '') return -E.NOENT;
    if ((flags & O.ACCMODE) !== O.RDONLY || flags & (O.CREAT | O.TRUNC)) return -E.ROFS; // read-only access to host files
    const hp = this.hostPath(dirfd, path);
    const fd = this.lowestFree(0);
    const host = openSync(hp, 'r');
    try {
      const isDir = fstatSync(host).isDirectory();
      if (flags & O.DIRECTORY && !isDir) throw new Errno(E.NOTDIR);
      const d: Description = { kind: isDir ? 'dir' : 'file', host, path: hp, pos: 0, dir: isDir ? readdirSync(hp) : null, flags: (flags & (O.NONBLOCK | O.DIRECTORY)) | O.LARGEFILE, refs: 0 };
      return this.install(d, fd, (flags & O.CLOEXEC) !== 0);
    } catch (e) {
      closeSync(host);
      throw e;
    }
  }

  private fcntl(fd: number, cmd: number, arg: number): number {
    const s = this.slot(fd);
    switch (cmd) {
      case 0: // F_DUPFD
      case 1030: // F_DUPFD_CLOEXEC
        if (arg < 0 || arg >= NOFILE) return -E.INVAL;
        return this.install(s.d, this.lowestFree(arg), cmd === 1030);
      case 1: // F_GETFD
        return s.cloexec ? 1 : 0;
      case 2: // F_SETFD
        s.cloexec = (arg & 1) !== 0;
        return 0;
      case 3: // F_GETFL
        return s.d.flags;
      case 4: // F_SETFL: only the status flags Linux lets change
        s.d.flags = (s.d.flags & ~(O.APPEND | O.NONBLOCK)) | (arg & (O.APPEND | O.NONBLOCK));
        return 0;
      case 5: // F_GETLK
      case 6: // F_SETLK
      case 7: // F_SETLKW
        return 0;
      default:
        return -E.INVAL;
    }
  }

  private lseek(fd: number, off: number, whence: number): number {
    const d = this.slot(fd).d;
    if (d.kind === 'stream') return -E.SPIPE;
    let base: number;
    if (whence === 0) base = 0;
    else if (whence === 1) base = d.pos;
    else if (whence === 2) base = d.kind === 'dir' ? d.dir!.length + 2 : fstatSync(d.host).size;
    else return -E.INVAL;
    const np = base + off;
    if (!(np >= 0) || np > Number.MAX_SAFE_INTEGER) return -E.INVAL;
    d.pos = np;
    return np;
  }

  // ---- reads and writes ----

  /** How many of `len` bytes at `va` are accessible for `prot` (stops at the first bad page). */
  private accessible(va: number, len: number, prot: number): number {
    let n = 0;
    while (n < len) {
      const p = this.as.protOf(va + n);
      if (p < 0 || (p & prot) === 0 || va + n >= TASK_SIZE) break;
      n += PAGE - ((va + n) % PAGE);
    }
    return Math.min(n, len);
  }

  private read(fd: number, buf: number, count: number, at: number): number {
    const d = this.slot(fd).d;
    if (d.kind === 'dir') return -E.ISDIR;
    const len = Math.min(count, MAX_RW_COUNT, CHUNK);
    if (len === 0) return 0;
    // Read no more than the guest can take: data read from a pipe cannot be put back.
    const room = this.accessible(buf, len, PROT_WRITE);
    if (room === 0) return -E.FAULT;
    let data: Uint8Array;
    if (d.kind === 'stream' && this.input) data = this.input(room);
    else {
      const tmp = Buffer.alloc(room);
      const n = readSome(d.host, tmp, at >= 0 ? at : d.pos >= 0 ? d.pos : null, (d.flags & O.NONBLOCK) !== 0);
      data = tmp.subarray(0, n);
    }
    if (at < 0 && d.pos >= 0) d.pos += data.length;
    this.as.write(buf, data);
    return data.length;
  }

  private write(fd: number, buf: number, count: number): number {
    const d = this.slot(fd).d;
    if (d.kind !== 'stream') return -E.BADF; // guest files are open read-only
    const len = Math.min(count, MAX_RW_COUNT);
    let done = 0;
    while (done < len) {
      let data: Uint8Array;
      try {
        data = this.as.read(buf + done, Math.min(CHUNK, len - done));
      } catch (e) {
        if (!(e instanceof EfaultError)) throw e;
        // The readable prefix goes out; a write with nothing readable is EFAULT.
        const ok = this.accessible(buf + done, Math.min(CHUNK, len - done), PROT_READ);
        if (ok === 0) return done > 0 ? done : -E.FAULT;
        data = this.as.read(buf + done, ok);
      }
      const r = this.emit(d, data);
      if (r < 0) return done > 0 ? done : r;
      done += r;
      if (r < data.length) break;
    }
    return done;
  }

  /** Bytes to a standard stream: all of them, or -EPIPE / SIGPIPE when the reader is gone. */
  private emit(d: Description, data: Uint8Array): number {
    if (this.output) {
      this.output(d.host, data);
      return data.length;
    }
    let r;
    try {
      r = writeAll(d.host, data);
    } catch (e) {
      const errno = errnoOf(e);
      if (errno === undefined) throw e;
      return -errno;
    }
    if (r.epipe) {
      if (r.n > 0) return r.n;
      return this.sigpipe();
    }
    return r.n;
  }

  /** A write to a pipe without readers: SIGPIPE, whose default action ends the process quietly. */
  private sigpipe(): number {
    const h = this.handler(SIG.PIPE);
    if (h === SIG_DFL && !this.blocked(SIG.PIPE) && this.cpu) this.die(this.cpu, 128 + SIG.PIPE);
    return -E.PIPE;
  }

  /** The CPU of the running call (set by vector/exception paths). */
  private get cpu(): Cpu | null {
    return this.as.cpu;
  }

  private vector(fd: number, iovp: number, cnt: number, isWrite: boolean): number {
    this.slot(fd);
    if (cnt < 0 || cnt > UIO_MAXIOV) return -E.INVAL;
    if (cnt === 0) return 0;
    const raw = this.as.read(iovp, cnt * 16);
    const dv = new DataView(raw.buffer);
    const iov: [number, number][] = [];
    let total = 0;
    for (let i = 0; i < cnt; i++) {
      const len = dv.getBigInt64(i * 16 + 8, true);
      if (len < 0n) return -E.INVAL;
      const l = Number(len);
      total += l;
      if (total > Number.MAX_SAFE_INTEGER) return -E.INVAL;
      iov.push([Number(dv.getBigUint64(i * 16, true)), l]);
    }
    let done = 0;
    for (const [base, len] of iov) {
      if (len === 0) continue;
      const want = Math.min(len, MAX_RW_COUNT - done);
      if (want <= 0) break;
      const r = isWrite ? this.write(fd, base, want) : this.read(fd, base, want, -1);
      if (r < 0) return done > 0 ? done : r;
      done += r;
      if (r < want || this.exitCode !== null) break;
    }
    return done;
  }

  // ---- memory ----

  private brk(want: number): number {
    const as = this.as;
    if (want < as.brkStart || want > TASK_SIZE) return as.brk;
    const top = Math.ceil(as.brk / PAGE) * PAGE;
    const need = Math.ceil(want / PAGE) * PAGE;
    if (need > top) {
      if (!as.isFree(top, need - top)) return as.brk;
      if (!as.map(top, need - top, PROT_READ | PROT_WRITE)) return as.brk;
    } else if (need < top) {
      as.unmap(need, top - need);
    }
    as.brk = want;
    return want;
  }

  private checkProt(prot: number): number {
    // PROT_READ|WRITE|EXEC, arm64's PROT_BTI (0x10); PROT_SEM (0x8) is accepted and meaningless.
    if (prot & ~0x1f) throw new Errno(E.INVAL);
    return (prot & 7) | (prot & 7 ? PROT_READ : 0);
  }

  private mmap(addr: number, len: number, protArg: number, flags: number, fd: number, off: number): number {
    const as = this.as;
    const MAP_FIXED = 0x10;
    const MAP_ANON = 0x20;
    const MAP_FIXED_NOREPLACE = 0x100000;
    if (len === 0) return -E.INVAL;
    const type = flags & 0xf;
    if (type < 1 || type > 3) return -E.INVAL;
    const prot = this.checkProt(protArg);
    if (off < 0 || off % PAGE !== 0) return -E.INVAL;
    const size = Math.ceil(len / PAGE) * PAGE;
    if (size > TASK_SIZE) return -E.NOMEM;
    const fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0;
    const anon = (flags & MAP_ANON) !== 0;
    if (fixed && (addr % PAGE !== 0)) return -E.INVAL;
    if (fixed && addr + size > TASK_SIZE) return -E.NOMEM;
    let file: Description | null = null;
    if (!anon) {
      file = this.slot(fd).d;
      if (file.kind !== 'file' || !this.fstat(file).isFile()) return -E.NODEV;
      if (type !== 2 && protArg & PROT_WRITE) return -E.ACCES; // shared writable needs O_RDWR
    }
    if (flags & MAP_FIXED_NOREPLACE && !(flags & MAP_FIXED) && !as.isFree(addr, size)) return -E.EXIST;
    let va: number;
    if (fixed) va = addr;
    else if (addr > 0 && addr % PAGE === 0 && addr + size <= TASK_SIZE && as.isFree(addr, size)) va = addr;
    else va = as.findFree(size);
    if (va < 0) return -E.NOMEM;
    // Pages that will be freed by replacing a fixed range count as available.
    const replaced = fixed ? as.mappedPagesIn(va, size) : 0;
    if (size / PAGE > as.freePages + replaced) return -E.NOMEM;
    if (fixed) as.unmap(va, size);
    if (!as.map(va, size, PROT_READ | PROT_WRITE)) return -E.NOMEM;
    if (file) {
      const fileSize = this.fstat(file).size;
      const end = Math.min(size, Math.max(0, fileSize - off));
      const tmp = Buffer.alloc(Math.min(CHUNK, end));
      for (let done = 0; done < end; ) {
        const n = readSome(file.host, tmp.subarray(0, Math.min(tmp.length, end - done)), off + done);
        if (n === 0) break;
        as.poke(va + done, tmp.subarray(0, n));
        done += n;
      }
    }
    as.protect(va, size, prot);
    return va;
  }

  private munmap(addr: number, len: number): number {
    if (addr % PAGE !== 0 || len === 0) return -E.INVAL;
    const size = Math.ceil(len / PAGE) * PAGE;
    if (addr + size > TASK_SIZE) return -E.INVAL;
    this.as.unmap(addr, size);
    return 0;
  }

  private mprotect(addr: number, len: number, protArg: number): number {
    if (addr % PAGE !== 0) return -E.INVAL;
    const prot = this.checkProt(protArg);
    if (len === 0) return 0;
    const size = Math.ceil(len / PAGE) * PAGE;
    if (addr + size > TASK_SIZE) return -E.NOMEM;
    return this.as.protect(addr, size, prot) ? 0 : -E.NOMEM;
  }

  private mremap(old: number, oldLen: number, newLen: number, flags: number, newAddr: number): number {
    const as = this.as;
    const MAYMOVE = 1;
    const FIXED = 2;
    const DONTUNMAP = 4;
    if (old % PAGE !== 0) return -E.INVAL;
    if (flags & ~(MAYMOVE | FIXED | DONTUNMAP)) return -E.INVAL;
    if (flags & (FIXED | DONTUNMAP) && !(flags & MAYMOVE)) return -E.INVAL;
    if (flags & DONTUNMAP) return -E.INVAL; // private anonymous moves only; not emulated
    const oldSize = Math.ceil(oldLen / PAGE) * PAGE;
    const newSize = Math.ceil(newLen / PAGE) * PAGE;
    if (newSize === 0 || newSize > TASK_SIZE || oldSize > TASK_SIZE) return -E.INVAL;
    if (oldSize === 0) return -E.INVAL; // duplicating a private mapping
    if (!as.isMapped(old, oldSize)) return -E.FAULT;
    const prot = as.protOf(old + oldSize - PAGE);
    if (flags & FIXED) {
      if (newAddr % PAGE !== 0 || newAddr + newSize > TASK_SIZE) return -E.INVAL;
      if (newAddr < old + oldSize && old < newAddr + newSize) return -E.INVAL;
      const keep = Math.min(oldSize, newSize);
      if (newSize - keep > as.freePages + as.mappedPagesIn(newAddr, newSize)) return -E.NOMEM;
      as.unmap(newAddr, newSize);
      as.unmap(old + keep, oldSize - keep);
      as.move(old, keep, newAddr);
      if (newSize > keep && !as.map(newAddr + keep, newSize - keep, prot)) return -E.NOMEM;
      return newAddr;
    }
    if (newSize <= oldSize) {
      as.unmap(old + newSize, oldSize - newSize);
      return old;
    }
    const extra = newSize - oldSize;
    if (extra / PAGE > as.freePages) return -E.NOMEM;
    if (old + newSize <= TASK_SIZE && as.isFree(old + oldSize, extra)) {
      as.map(old + oldSize, extra, prot);
      return old;
    }
    if (!(flags & MAYMOVE)) return -E.NOMEM;
    const to = as.findFree(newSize);
    if (to < 0) return -E.NOMEM;
    as.move(old, oldSize, to);
    as.map(to + oldSize, extra, prot);
    return to;
  }

  private getrandom(buf: number, count: number, flags: number): number {
    if (flags & ~7) return -E.INVAL;
    const len = Math.min(count, 1 << 25);
    let done = 0;
    while (done < len) {
      const n = Math.min(PAGE - ((buf + done) % PAGE), len - done);
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        this.randomState = (Math.imul(this.randomState, 1103515245) + 12345) >>> 0;
        b[i] = this.randomState >>> 24;
      }
      try {
        this.as.write(buf + done, b);
      } catch (e) {
        if (e instanceof EfaultError) return done > 0 ? done : -E.FAULT;
        throw e;
      }
      done += n;
    }
    return done;
  }

  private prlimit(pid: number, resource: number, newp: number, oldp: number): number {
    if (pid !== 0 && pid !== PID) return -E.SRCH;
    if (resource < 0 || resource >= 16) return -E.INVAL;
    if (newp) this.as.read(newp, 16);
    if (oldp) {
      const b = new Uint8Array(16);
      const dv = new DataView(b.buffer);
      const INF = 0xffffffffffffffffn;
      const [cur, max] = resource === 3 ? [8n << 20n, INF] : resource === 7 ? [BigInt(NOFILE), BigInt(NOFILE)] : [INF, INF];
      dv.setBigUint64(0, cur, true);
      dv.setBigUint64(8, max, true);
      this.as.write(oldp, b);
    }
    return 0;
  }

  // ---- signals (recorded, not delivered: the default action or nothing) ----

  private handler(sig: number): bigint {
    const a = this.actions.get(sig);
    return a ? new DataView(a.buffer).getBigUint64(0, true) : SIG_DFL;
  }

  private blocked(sig: number): boolean {
    return ((this.sigmask >> BigInt(sig - 1)) & 1n) !== 0n;
  }

  private sigaction(sig: number, act: number, oact: number, setsize: number): number {
    if (setsize !== 8) return -E.INVAL;
    if (sig < 1 || sig > 64) return -E.INVAL;
    const next = act ? this.as.read(act, 32) : null;
    if (next && (sig === SIG.KILL || sig === SIG.STOP)) return -E.INVAL;
    if (oact) this.as.write(oact, this.actions.get(sig) ?? new Uint8Array(32));
    if (next) this.actions.set(sig, next);
    return 0;
  }

  private sigprocmask(how: number, set: number, oset: number, setsize: number): number {
    if (setsize !== 8) return -E.INVAL;
    let next = this.sigmask;
    if (set) {
      const v = new DataView(this.as.read(set, 8).buffer).getBigUint64(0, true);
      if (how === 0) next |= v;
      else if (how === 1) next &= ~v;
      else if (how === 2) next = v;
      else return -E.INVAL;
    }
    if (oset) {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, this.sigmask, true);
      this.as.write(oset, b);
    }
    // SIGKILL and SIGSTOP cannot be blocked.
    this.sigmask = next & ~((1n << BigInt(SIG.KILL - 1)) | (1n << BigInt(SIG.STOP - 1)));
    return 0;
  }

  /** kill/tkill/tgkill: only this process exists (pid 1000); its default action applies. */
  private kill(cpu: Cpu, pid: number, sig: number): number {
    if (sig < 0 || sig > 64) return -E.INVAL;
    if (pid !== PID && pid !== 0 && pid !== -1 && pid !== -PID) return -E.SRCH;
    if (sig === 0 || pid === -1) return 0; // -1: every process but the caller
    if (sig !== SIG.KILL && (this.blocked(sig) || this.handler(sig) === SIG_IGN)) return 0;
    if (sig !== SIG.KILL && this.handler(sig) === SIG_DFL && DEFAULT_IGNORED.has(sig)) return 0;
    this.die(cpu, 128 + sig);
    return 0;
  }

  // ---- results ----

  private putStat(buf: number, s: Stats): number {
    const b = new Uint8Array(128);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, BigInt(s.dev), true);
    dv.setBigUint64(8, BigInt(s.ino), true);
    dv.setUint32(16, s.mode, true);
    dv.setUint32(20, s.nlink, true);
    dv.setUint32(24, s.uid, true);
    dv.setUint32(28, s.gid, true);
    dv.setBigUint64(32, BigInt(s.rdev), true);
    dv.setBigInt64(48, BigInt(s.size), true);
    dv.setInt32(56, s.blksize, true);
    dv.setBigInt64(64, BigInt(s.blocks), true);
    const t = (o: number, ms: number): void => {
      dv.setBigInt64(o, BigInt(Math.floor(ms / 1000)), true);
      dv.setBigInt64(o + 8, BigInt(Math.floor((ms % 1000) * 1e6)), true);
    };
    t(72, s.atimeMs);
    t(88, s.mtimeMs);
    t(104, s.ctimeMs);
    this.as.write(buf, b);
    return 0;
  }

  private getdents(fd: number, buf: number, count: number): number {
    const d = this.slot(fd).d;
    if (d.kind !== 'dir') return -E.NOTDIR;
    const len = Math.min(count, MAX_RW_COUNT, CHUNK);
    const out: number[] = [];
    const entries = ['.', '..', ...d.dir!];
    while (d.pos < entries.length) {
      const name = Buffer.from(entries[d.pos]! + '\0');
      const reclen = Math.ceil((19 + name.length) / 8) * 8;
      if (out.length + reclen > len) {
        if (out.length === 0) return -E.INVAL; // buffer too small for one entry
        break;
      }
      const rec = new Uint8Array(reclen);
      const dv = new DataView(rec.buffer);
      dv.setBigUint64(0, BigInt(d.pos + 1), true);
      dv.setBigUint64(8, BigInt(d.pos + 1), true);
      dv.setUint16(16, reclen, true);
      rec[18] = 0; // DT_UNKNOWN: callers stat
      rec.set(name, 19);
      for (const b of rec) out.push(b);
      d.pos++;
    }
    this.as.write(buf, Uint8Array.from(out));
    return out.length;
  }

  private uname(buf: number): number {
    const fields = ['Linux', hostname(), '6.1.0', version(), 'aarch64', '(none)'];
    const b = new Uint8Array(65 * 6);
    fields.forEach((s, i) => b.set(Buffer.from(s).subarray(0, 64), i * 65));
    this.as.write(buf, b);
    return 0;
  }
}
