// The guest's descriptor table (Linux's fdtable) over open file descriptions (struct file):
// descriptors 0-2 are the host's standard streams, never closed on the host; the rest are host
// files and directories the guest opened, read-only. dup'ed descriptors share a description (its
// offset and status flags), as in Linux; close-on-exec is per descriptor.
import { closeSync, fstatSync, openSync, readdirSync } from 'node:fs';
import { isatty } from 'node:tty';
import { resolve } from 'node:path';
import { E, Errno } from './errno.ts';

export const AT_FDCWD = -100;
/** asm-generic/fcntl.h as arm64 uses it. */
export const O = { ACCMODE: 3, RDONLY: 0, WRONLY: 1, RDWR: 2, CREAT: 0x40, TRUNC: 0x200, APPEND: 0x400, NONBLOCK: 0x800, DIRECTORY: 0x4000, LARGEFILE: 0x20000, CLOEXEC: 0x80000 };
/** RLIMIT_NOFILE: the descriptor table size (Linux's default soft limit). */
export const NOFILE = 1024;

/** An open file description (shared by dup'ed descriptors: offset and status flags). */
export interface Description {
  /** 'stream': one of the host's standard streams (never closed); 'file'/'dir': opened by the guest. */
  kind: 'stream' | 'file' | 'dir';
  host: number;
  path: string;
  pos: number;
  dir: string[] | null;
  flags: number;
  refs: number;
}

export interface Slot {
  d: Description;
  cloexec: boolean;
}

export class FileTable {
  private readonly fds = new Map<number, Slot>();

  constructor() {
    for (const fd of [0, 1, 2]) {
      const flags = (isatty(fd) ? O.RDWR : fd === 0 ? O.RDONLY : O.WRONLY) | O.LARGEFILE;
      this.fds.set(fd, { d: { kind: 'stream', host: fd, path: `/dev/fd/${fd}`, pos: -1, dir: null, flags, refs: 1 }, cloexec: false });
    }
  }

  /** The open descriptors, in order. */
  descriptors(): number[] {
    return [...this.fds.keys()].sort((a, b) => a - b);
  }

  has(fd: number): boolean {
    return this.fds.has(fd);
  }

  slot(fd: number): Slot {
    const s = this.fds.get(fd);
    if (!s) throw new Errno(E.BADF);
    return s;
  }

  lowestFree(from: number): number {
    let fd = from;
    while (this.fds.has(fd)) fd++;
    if (fd >= NOFILE) throw new Errno(E.MFILE);
    return fd;
  }

  install(d: Description, fd: number, cloexec: boolean): number {
    d.refs++;
    this.fds.set(fd, { d, cloexec });
    return fd;
  }

  close(fd: number): number {
    const s = this.slot(fd);
    this.fds.delete(fd);
    if (--s.d.refs === 0 && s.d.kind !== 'stream') closeSync(s.d.host);
    return 0;
  }

  hostPath(dirfd: number, path: string): string {
    if (path.startsWith('/') || dirfd === AT_FDCWD) return path;
    const s = this.slot(dirfd);
    if (s.d.kind !== 'dir') throw new Errno(E.NOTDIR);
    return resolve(s.d.path, path);
  }

  openat(dirfd: number, path: string, flags: number): number {
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

  fcntl(fd: number, cmd: number, arg: number): number {
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

  lseek(fd: number, off: number, whence: number): number {
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
}
