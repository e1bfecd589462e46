// Linux system calls for user-mode programs (arch/arm64 uses the generic syscall table,
// include/uapi/asm-generic/unistd.h): number in x8, arguments x0-x5, result or -errno in x0.
// Host files are opened read-only. Time is virtual (derived from the instruction count), so a run
// is reproducible.
import { closeSync, fstatSync, openSync, readSync, readlinkSync, readdirSync, statSync, writeSync, type Stats, existsSync } from 'node:fs';
import { hostname, version } from 'node:os';
import { resolve } from 'node:path';
import type { Cpu } from '../../emulator/arm64/cpu.ts';
import { EC } from '../../emulator/arm64/ec.ts';
import { type AddressSpace, EfaultError, PAGE, PROT_READ, PROT_WRITE } from './address-space.ts';
import { emulateMrs, type UserCpu } from './cpuid.ts';

const E = { PERM: 1, NOENT: 2, BADF: 9, AGAIN: 11, NOMEM: 12, ACCES: 13, FAULT: 14, EXIST: 17, NOTDIR: 20, ISDIR: 21, INVAL: 22, NOTTY: 25, SPIPE: 29, RANGE: 34, NOSYS: 38, ROFS: 30 } as const;
const AT_FDCWD = -100;

interface OpenFile {
  host: number;
  path: string;
  pos: number;
  dir: string[] | null;
}

export class Syscalls {
  exitCode: number | null = null;
  private readonly files = new Map<number, OpenFile>();
  private readonly warned = new Set<number>();
  private randomState = 0x12345678;

  /** Where guest writes to fds 1 and 2 go (default: the host's own stdout/stderr). */
  output: ((fd: number, data: Uint8Array) => void) | null = null;

  constructor(private readonly as: AddressSpace, private readonly exe: string, private readonly userCpu: UserCpu) {
    for (const fd of [0, 1, 2]) this.files.set(fd, { host: fd, path: `/dev/fd/${fd}`, pos: -1, dir: null });
  }

  flush(): void {}

  /** Synchronous exceptions from EL0: SVC is a system call, the rest are fatal signals. */
  exception(cpu: Cpu, ec: number, _iss: number, far: number): void {
    if (ec === EC.SVC64) {
      const n = Number(cpu.getX(8));
      let ret: number | bigint;
      try {
        ret = this.call(cpu, n);
      } catch (e) {
        if (e instanceof EfaultError) ret = -E.FAULT;
        else throw e;
      }
      if (this.exitCode === null) cpu.setX(0, BigInt(ret));
      return;
    }
    const pc = BigInt.asUintN(64, BigInt(cpu.pc)).toString(16);
    if (ec === EC.UNKNOWN) {
      const w = cpu.fetchWord(cpu.pc);
      const mrs = emulateMrs(w >>> 0, this.userCpu);
      if (mrs !== null) {
        // The kernel's MRS emulation: write Xt (XZR discards) and step past the instruction.
        if (mrs.rt !== 31) cpu.setX(mrs.rt, mrs.value);
        cpu.nextPc = cpu.pc + 4;
        return;
      }
      process.stderr.write(`shyper-emu: SIGILL at pc=0x${pc} insn=0x${(w >>> 0).toString(16).padStart(8, '0')}\n`);
      this.die(cpu, 128 + 4);
    } else if (ec === EC.BRK64) {
      process.stderr.write(`shyper-emu: SIGTRAP (BRK) at pc=0x${pc}\n`);
      this.die(cpu, 128 + 5);
    } else {
      process.stderr.write(`shyper-emu: SIGSEGV at pc=0x${pc} address=0x${BigInt.asUintN(64, BigInt(far)).toString(16)}\n`);
      this.die(cpu, 128 + 11);
    }
  }

  private die(cpu: Cpu, code: number): void {
    this.exitCode = code;
    cpu.halted = true;
    cpu.exitRequest = 1;
  }

  private x(cpu: Cpu, i: number): number {
    return Number(BigInt.asIntN(64, cpu.getX(i)));
  }

  private call(cpu: Cpu, n: number): number | bigint {
    const a = (i: number): number => this.x(cpu, i);
    const as = this.as;
    switch (n) {
      case 63: // read
        return this.read(a(0), a(1), a(2), -1);
      case 67: // pread64
        return this.read(a(0), a(1), a(2), a(3));
      case 64: // write
        return this.write(a(0), as.read(a(1), a(2)));
      case 65: // readv
      case 66: {
        // writev
        let total = 0;
        for (let i = 0; i < a(2); i++) {
          const iov = as.read(a(1) + i * 16, 16);
          const dv = new DataView(iov.buffer);
          const base = Number(dv.getBigUint64(0, true));
          const len = Number(dv.getBigUint64(8, true));
          const r = n === 66 ? this.write(a(0), as.read(base, len)) : this.read(a(0), base, len, -1);
          if (r < 0) return total || r;
          total += r;
          if (r < len) break;
        }
        return total;
      }
      case 56: // openat
        return this.openat(a(0), as.readCString(a(1)), a(2));
      case 57: // close
        if (!this.files.has(a(0))) return -E.BADF;
        if (a(0) > 2) closeSync(this.files.get(a(0))!.host);
        this.files.delete(a(0));
        return 0;
      case 80: {
        // fstat
        const f = this.files.get(a(0));
        if (!f) return -E.BADF;
        return this.putStat(a(1), fstatSync(f.host));
      }
      case 79: {
        // newfstatat
        const path = as.readCString(a(1));
        if (path === '' && a(3) & 0x1000) {
          const f = this.files.get(a(0));
          return f ? this.putStat(a(2), fstatSync(f.host)) : -E.BADF;
        }
        try {
          return this.putStat(a(2), statSync(this.hostPath(a(0), path)));
        } catch {
          return -E.NOENT;
        }
      }
      case 62: {
        // lseek
        const f = this.files.get(a(0));
        if (!f) return -E.BADF;
        if (f.pos < 0) return -E.SPIPE;
        const size = fstatSync(f.host).size;
        const base = a(2) === 0 ? 0 : a(2) === 1 ? f.pos : a(2) === 2 ? size : NaN;
        const np = base + a(1);
        if (!(np >= 0)) return -E.INVAL;
        f.pos = np;
        return np;
      }
      case 61: // getdents64
        return this.getdents(a(0), a(1), a(2));
      case 78: {
        // readlinkat
        const path = as.readCString(a(1));
        let target: string;
        if (path === '/proc/self/exe') target = resolve(this.exe);
        else {
          try {
            target = readlinkSync(this.hostPath(a(0), path));
          } catch {
            return -E.INVAL;
          }
        }
        const b = Buffer.from(target).subarray(0, a(3));
        as.write(a(2), b);
        return b.length;
      }
      case 48: // faccessat
        return existsSync(this.hostPath(a(0), as.readCString(a(1)))) ? (a(2) & 2 ? -E.ROFS : 0) : -E.NOENT;
      case 17: {
        // getcwd
        const b = Buffer.from(process.cwd() + '\0');
        if (b.length > a(1)) return -E.RANGE;
        as.write(a(0), b);
        return b.length;
      }
      case 214: {
        // brk
        const want = a(0);
        if (want < as.brkStart) return as.brk;
        const top = Math.ceil(as.brk / PAGE) * PAGE;
        const need = Math.ceil(want / PAGE) * PAGE;
        if (need > top) {
          if (!this.rangeFree(top, need - top)) return as.brk;
          as.map(top, need - top, PROT_READ | PROT_WRITE);
        }
        as.brk = want;
        return want;
      }
      case 222: // mmap
        return this.mmap(a(0), a(1), a(2), a(3), a(4), a(5));
      case 215: // munmap
        as.unmap(a(0), a(1));
        return 0;
      case 226: // mprotect
        return as.protect(a(0), a(1), a(2) | (a(2) ? PROT_READ : 0)) ? 0 : -E.NOMEM;
      case 216: {
        // mremap
        const [old, oldLen, newLen, flags] = [a(0), a(1), a(2), a(3)];
        if (newLen <= oldLen) {
          as.unmap(old + Math.ceil(newLen / PAGE) * PAGE, oldLen - Math.ceil(newLen / PAGE) * PAGE);
          return old;
        }
        if (!(flags & 1)) return -E.NOMEM;
        const addr = as.findFree(newLen);
        as.map(addr, newLen, PROT_READ | PROT_WRITE);
        as.write(addr, as.read(old, oldLen));
        as.unmap(old, oldLen);
        return addr;
      }
      case 233: // madvise
        return 0;
      case 93: // exit
      case 94: // exit_group
        this.exitCode = a(0) & 0xff;
        cpu.halted = true;
        cpu.exitRequest = 1;
        return 0;
      case 96: // set_tid_address
        return 1000;
      case 99: // set_robust_list
        return 0;
      case 293: // rseq
        return -E.NOSYS;
      case 261: {
        // prlimit64
        if (a(3)) {
          const b = new Uint8Array(16);
          const dv = new DataView(b.buffer);
          const stack = a(1) === 3;
          dv.setBigUint64(0, stack ? 8n << 20n : 0xffffffffffffffffn, true);
          dv.setBigUint64(8, 0xffffffffffffffffn, true);
          as.write(a(3), b);
        }
        return 0;
      }
      case 134: // rt_sigaction
        if (a(2)) as.write(a(2), new Uint8Array(32));
        return 0;
      case 135: // rt_sigprocmask
        if (a(2)) as.write(a(2), new Uint8Array(8));
        return 0;
      case 132: // sigaltstack
        return 0;
      case 113: // clock_gettime
      case 169: {
        // gettimeofday
        const ns = this.nowNs(cpu);
        const b = new Uint8Array(16);
        const dv = new DataView(b.buffer);
        dv.setBigUint64(0, BigInt(Math.floor(ns / 1e9)), true);
        dv.setBigUint64(8, BigInt(n === 113 ? ns % 1e9 : Math.floor((ns % 1e9) / 1000)), true);
        as.write(a(1 - (n === 113 ? 0 : 1)), b);
        return 0;
      }
      case 114: // clock_getres
        if (a(1)) as.write(a(1), Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]));
        return 0;
      case 101: // nanosleep
      case 115: // clock_nanosleep
        return 0;
      case 172: // getpid
      case 178: // gettid
        return 1000;
      case 173: // getppid
        return 999;
      case 174:
      case 175:
      case 176:
      case 177:
        return 0;
      case 160: // uname
        return this.uname(a(0));
      case 29: {
        // ioctl
        const f = this.files.get(a(0));
        if (!f) return -E.BADF;
        return -E.NOTTY;
      }
      case 278: {
        // getrandom (deterministic)
        const b = new Uint8Array(a(1));
        for (let i = 0; i < b.length; i++) {
          this.randomState = (Math.imul(this.randomState, 1103515245) + 12345) >>> 0;
          b[i] = this.randomState >>> 24;
        }
        as.write(a(0), b);
        return b.length;
      }
      case 123: {
        // sched_getaffinity: one CPU
        const b = new Uint8Array(Math.min(a(1), 128));
        b[0] = 1;
        as.write(a(2), b);
        return b.length;
      }
      case 98: // futex (single thread: nothing to wait for)
        return (a(1) & 127) === 0 ? -E.AGAIN : 0;
      case 129: // kill
      case 131: {
        // tgkill: a signal to ourselves, default action
        const sig = n === 131 ? a(2) : a(1);
        if (sig === 0) return 0;
        this.exitCode = 128 + sig;
        cpu.halted = true;
        cpu.exitRequest = 1;
        return 0;
      }
      case 25: // fcntl
        return this.files.has(a(0)) ? 0 : -E.BADF;
      case 23: {
        // dup
        const f = this.files.get(a(0));
        if (!f) return -E.BADF;
        let fd = 0;
        while (this.files.has(fd)) fd++;
        this.files.set(fd, { ...f });
        return fd;
      }
      case 24: {
        // dup3
        const f = this.files.get(a(0));
        if (!f) return -E.BADF;
        this.files.set(a(1), { ...f });
        return a(1);
      }
      case 179: {
        // sysinfo: a 1 GiB machine, up for the virtual time elapsed
        const b = new Uint8Array(112);
        const dv = new DataView(b.buffer);
        dv.setBigInt64(0, BigInt(Math.floor(cpu.instret / 1e9)), true);
        dv.setBigUint64(32, 1n << 30n, true); // totalram
        dv.setBigUint64(40, 1n << 29n, true); // freeram
        dv.setUint16(80, 1, true); // procs
        dv.setUint32(104, 1, true); // mem_unit
        as.write(a(0), b);
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
      default:
        if (!this.warned.has(n)) {
          this.warned.add(n);
          process.stderr.write(`shyper-emu: unsupported system call ${n} (returning -ENOSYS)\n`);
        }
        return -E.NOSYS;
    }
  }

  /** Virtual time: 1 ns per instruction after a fixed epoch (2026-01-01). */
  private nowNs(cpu: Cpu): number {
    return 1767225600e9 + cpu.instret;
  }

  private rangeFree(va: number, len: number): boolean {
    for (let p = va; p < va + len; p += PAGE) if (this.as.isMapped(p, 1)) return false;
    return true;
  }

  private hostPath(dirfd: number, path: string): string {
    if (path.startsWith('/') || dirfd === AT_FDCWD) return path;
    const f = this.files.get(dirfd);
    return f ? resolve(f.path, path) : path;
  }

  private openat(dirfd: number, path: string, flags: number): number {
    const acc = flags & 3;
    if (acc !== 0 || flags & 0x40) return -E.ROFS; // read-only access to host files
    const hp = this.hostPath(dirfd, path);
    let host: number;
    try {
      host = openSync(hp, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'EACCES' ? -E.ACCES : code === 'ENOTDIR' ? -E.NOTDIR : -E.NOENT;
    }
    let fd = 3;
    while (this.files.has(fd)) fd++;
    const isDir = fstatSync(host).isDirectory();
    this.files.set(fd, { host, path: hp, pos: 0, dir: isDir ? readdirSync(hp) : null });
    return fd;
  }

  private read(fd: number, buf: number, len: number, at: number): number {
    const f = this.files.get(fd);
    if (!f) return -E.BADF;
    if (f.dir) return -E.ISDIR;
    const tmp = Buffer.alloc(Math.min(len, 1 << 20));
    let n: number;
    try {
      n = readSync(f.host, tmp, 0, tmp.length, at >= 0 ? at : f.pos >= 0 ? f.pos : null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return -E.AGAIN;
      if ((e as NodeJS.ErrnoException).code === 'EOF') return 0;
      throw e;
    }
    if (at < 0 && f.pos >= 0) f.pos += n;
    this.as.write(buf, tmp.subarray(0, n));
    return n;
  }

  private write(fd: number, data: Uint8Array): number {
    const f = this.files.get(fd);
    if (!f) return -E.BADF;
    if (f.host > 2) return -E.BADF;
    if (this.output) {
      this.output(f.host, data);
      return data.length;
    }
    let off = 0;
    while (off < data.length) off += writeSync(f.host, data, off, data.length - off);
    return data.length;
  }

  private mmap(addr: number, len: number, prot: number, flags: number, fd: number, off: number): number {
    if (len <= 0) return -E.INVAL;
    const fixed = (flags & 0x10) !== 0;
    const anon = (flags & 0x20) !== 0;
    const va = fixed ? addr : this.as.findFree(len);
    if (fixed) this.as.unmap(va, len);
    this.as.map(va, len, prot | (prot ? PROT_READ : 0) | PROT_WRITE);
    if (!anon) {
      const f = this.files.get(fd);
      if (!f) return -E.BADF;
      const tmp = Buffer.alloc(len);
      const n = readSync(f.host, tmp, 0, len, off);
      this.as.write(va, tmp.subarray(0, n));
    }
    this.as.protect(va, len, prot | (prot ? PROT_READ : 0));
    return va;
  }

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

  private getdents(fd: number, buf: number, len: number): number {
    const f = this.files.get(fd);
    if (!f) return -E.BADF;
    if (!f.dir) return -E.NOTDIR;
    const out: number[] = [];
    const entries = ['.', '..', ...f.dir];
    while (f.pos < entries.length) {
      const name = Buffer.from(entries[f.pos]! + '\0');
      const reclen = Math.ceil((19 + name.length) / 8) * 8;
      if (out.length + reclen > len) break;
      const rec = new Uint8Array(reclen);
      const dv = new DataView(rec.buffer);
      dv.setBigUint64(0, BigInt(f.pos + 1), true);
      dv.setBigUint64(8, BigInt(f.pos + 1), true);
      dv.setUint16(16, reclen, true);
      rec[18] = 0; // DT_UNKNOWN: callers stat
      rec.set(name, 19);
      out.push(...rec);
      f.pos++;
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
