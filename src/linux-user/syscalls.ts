// Linux system calls for user-mode programs (arch/arm64 uses the generic syscall table,
// include/uapi/asm-generic/unistd.h): number in x8, arguments x0-x5, result or -errno in x0.
// Host files are opened read-only. Time is virtual (derived from the instruction count), so a run
// is reproducible.
//
// Hostile programs are expected: every argument is validated the way Linux validates it and
// answered with the errno Linux gives (lengths are size_t: "negative" is huge; copies are bounded
// by MAX_RW_COUNT and done in chunks; memory runs out with ENOMEM). Guest descriptors are a table
// of their own over open file descriptions (fd-table.ts): closing a guest descriptor never closes
// one of the host's standard streams. A host error inside a call becomes the guest's errno.
import { fstatSync, lstatSync, readlinkSync, statSync, type Stats, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Cpu } from '../../emulator/arm64/cpu.ts';
import { EC } from '../../emulator/arm64/ec.ts';
import { type AddressSpace, EfaultError, PAGE, PROT_READ, PROT_WRITE, TASK_SIZE } from './address-space.ts';
import { emulateMrs, type UserCpu } from './cpuid.ts';
import { diagnostic, errnoOf, readSome, writeAll } from './host-io.ts';
import { E, Errno } from './errno.ts';
import * as mm from './mm.ts';
import { SIG, SIGNAMES, Signals } from './signals.ts';
import { direntBytes, statBytes, utsnameBytes } from './structs.ts';
import { AT_FDCWD, type Description, FileTable, NOFILE, O } from './fd-table.ts';

const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_EMPTY_PATH = 0x1000;
/** Linux's cap on one read/write (INT_MAX rounded down to a page). */
const MAX_RW_COUNT = 0x7ffff000;
/** Host memory touched per step of a large copy. */
const CHUNK = 1 << 20;
const UIO_MAXIOV = 1024;
const PATH_MAX = 4096;
const PID = 1000;

export class Syscalls {
  exitCode: number | null = null;
  private readonly files = new FileTable();
  private readonly warned = new Set<number>();
  private randomState = 0x12345678;
  private readonly signals = new Signals();

  /** Where guest writes to the standard streams go (default: the host's own descriptors). */
  output: ((fd: number, data: Uint8Array) => void) | null = null;
  /** Where guest reads of the standard streams come from (default: the host's descriptors). */
  input: ((max: number) => Uint8Array) | null = null;
  /** Where fault reports ("SIGSEGV at ...") and warnings go (default: the host's stderr). */
  report: (line: string) => void = diagnostic;

  constructor(private readonly as: AddressSpace, private readonly exe: string, private readonly userCpu: UserCpu) {}

  flush(): void {}

  /** Open guest descriptors (tests). */
  get openDescriptors(): number[] {
    return this.files.descriptors();
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
        return this.files.openat(int(0), this.readPath(u(1)), int(2));
      case 57: // close
        return this.files.close(int(0));
      case 80: // fstat
        return this.putStat(u(1), this.fstat(this.files.slot(int(0)).d));
      case 79: {
        // newfstatat
        const flags = int(3);
        if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800 /* AT_NO_AUTOMOUNT */)) return -E.INVAL;
        const path = this.readPath(u(1));
        if (path === '') {
          if (!(flags & AT_EMPTY_PATH)) return -E.NOENT;
          if (int(0) === AT_FDCWD) return this.putStat(u(2), statSync('.'));
          return this.putStat(u(2), this.fstat(this.files.slot(int(0)).d));
        }
        const hp = this.files.hostPath(int(0), path);
        return this.putStat(u(2), flags & AT_SYMLINK_NOFOLLOW ? lstatSync(hp) : statSync(hp));
      }
      case 62: // lseek
        return this.files.lseek(int(0), x(1), int(2));
      case 61: // getdents64
        return this.getdents(int(0), u(1), u(2));
      case 78: {
        // readlinkat
        const path = this.readPath(u(1));
        const size = int(3);
        if (size <= 0) return -E.INVAL;
        const target = path === '/proc/self/exe' ? resolve(this.exe) : readlinkSync(this.files.hostPath(int(0), path));
        const b = Buffer.from(target).subarray(0, size);
        as.write(u(2), b);
        return b.length;
      }
      case 48: {
        // faccessat
        const mode = int(2);
        if (mode & ~7) return -E.INVAL;
        return existsSync(this.files.hostPath(int(0), this.readPath(u(1)))) ? (mode & 2 ? -E.ROFS : 0) : -E.NOENT;
      }
      case 17: {
        // getcwd
        const b = Buffer.from(process.cwd() + '\0');
        if (b.length > u(1)) return -E.RANGE;
        as.write(u(0), b);
        return b.length;
      }
      case 214: // brk
        return mm.brk(this.as, u(0));
      case 222: // mmap
        return mm.mmap(this.as, u(0), u(1), int(2), int(3), x(5), () => this.mapFile(int(4)));
      case 215: // munmap
        return mm.munmap(this.as, u(0), u(1));
      case 226: // mprotect
        return mm.mprotect(this.as, u(0), u(1), int(2));
      case 216: // mremap
        return mm.mremap(this.as, u(0), u(1), u(2), int(3), u(4));
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
        return this.signals.sigaction(this.as, int(0), u(1), u(2), u(3));
      case 135: // rt_sigprocmask
        return this.signals.sigprocmask(this.as, int(0), u(1), u(2), u(3));
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
        this.files.slot(int(0));
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
        return this.files.fcntl(int(0), int(1), x(2));
      case 23: {
        // dup
        const s = this.files.slot(int(0));
        return this.files.install(s.d, this.files.lowestFree(0), false);
      }
      case 24: {
        // dup3
        const [oldfd, newfd, flags] = [int(0), int(1), int(2)];
        if (flags & ~O.CLOEXEC) return -E.INVAL;
        if (oldfd === newfd) return -E.INVAL;
        const s = this.files.slot(oldfd);
        if (newfd < 0 || newfd >= NOFILE) return -E.BADF;
        if (this.files.has(newfd)) this.files.close(newfd);
        return this.files.install(s.d, newfd, (flags & O.CLOEXEC) !== 0);
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

  private fstat(d: Description): Stats {
    return fstatSync(d.host);
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
    const d = this.files.slot(fd).d;
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
    const d = this.files.slot(fd).d;
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
      r = writeAll(d.host, data, (d.flags & O.NONBLOCK) !== 0);
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
    if (this.signals.takesDefault(SIG.PIPE) && this.cpu) this.die(this.cpu, 128 + SIG.PIPE);
    return -E.PIPE;
  }

  /** The CPU of the running call (set by vector/exception paths). */
  private get cpu(): Cpu | null {
    return this.as.cpu;
  }

  private vector(fd: number, iovp: number, cnt: number, isWrite: boolean): number {
    this.files.slot(fd);
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

  /** The file behind an mmap'ed descriptor: its host descriptor and size, or -errno. */
  private mapFile(fd: number): mm.MappedFile | number {
    const d = this.files.slot(fd).d;
    if (d.kind !== 'file' || !this.fstat(d).isFile()) return -E.NODEV;
    return { host: d.host, size: this.fstat(d).size };
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

  /** kill/tkill/tgkill: only this process exists (pid 1000); its default action applies. */
  private kill(cpu: Cpu, pid: number, sig: number): number {
    if (sig < 0 || sig > 64) return -E.INVAL;
    if (pid !== PID && pid !== 0 && pid !== -1 && pid !== -PID) return -E.SRCH;
    if (sig === 0 || pid === -1) return 0; // -1: every process but the caller
    if (this.signals.kills(sig)) this.die(cpu, 128 + sig);
    return 0;
  }

  // ---- results (the structs' layouts: structs.ts) ----

  private putStat(buf: number, s: Stats): number {
    this.as.write(buf, statBytes(s));
    return 0;
  }

  private getdents(fd: number, buf: number, count: number): number {
    const d = this.files.slot(fd).d;
    if (d.kind !== 'dir') return -E.NOTDIR;
    const r = direntBytes(['.', '..', ...d.dir!], d.pos, Math.min(count, MAX_RW_COUNT, CHUNK));
    if (r === null) return -E.INVAL; // buffer too small for one entry
    d.pos = r.next;
    this.as.write(buf, r.bytes);
    return r.bytes.length;
  }

  private uname(buf: number): number {
    this.as.write(buf, utsnameBytes());
    return 0;
  }
}
