// Blocking I/O on the host's descriptors from synchronous code. Node (or whoever shares the
// descriptor) may have made a pipe or terminal O_NONBLOCK: a guest's write must still complete,
// so EAGAIN waits and retries; EPIPE (the reader went away) is reported to the caller, which
// gives the guest SIGPIPE semantics. Any other host error is thrown for errnoOf() to translate.
import { constants } from 'node:os';
import { readSync, writeSync } from 'node:fs';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Sleep the whole thread for `ms` (no busy wait; there is nothing else for it to do). */
export function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Linux errno of a host error (Node's ErrnoException), or undefined for anything else. */
export function errnoOf(e: unknown): number | undefined {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string') return undefined;
  const n = (constants.errno as Record<string, number>)[code];
  return typeof n === 'number' ? n : undefined;
}

export interface WriteResult {
  /** Bytes written. */
  n: number;
  /** The reader is gone (EPIPE) after `n` bytes. */
  epipe: boolean;
}

/**
 * Write all of `data` to host descriptor `fd`, waiting out EAGAIN (unless `nonblock`: the guest
 * asked for O_NONBLOCK, so a full pipe ends the write). Other errors throw (after 0 bytes) or end
 * the write (after some).
 */
export function writeAll(fd: number, data: Uint8Array, nonblock = false): WriteResult {
  let off = 0;
  let wait = 1;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off, data.length - off);
      wait = 1;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' && !nonblock) {
        sleepMs(wait);
        wait = Math.min(wait * 2, 20);
        continue;
      }
      if (code === 'EPIPE') return { n: off, epipe: true };
      if (off > 0) return { n: off, epipe: false };
      throw e;
    }
  }
  return { n: off, epipe: false };
}

/**
 * One read from host descriptor `fd` into `buf` at `position` (null: the descriptor's own offset).
 * EAGAIN waits unless `nonblock`; end of file is 0. Other errors throw.
 */
export function readSome(fd: number, buf: Uint8Array, position: number | null, nonblock = false): number {
  let wait = 1;
  for (;;) {
    try {
      return readSync(fd, buf, 0, buf.length, position);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EOF') return 0;
      if (code === 'EAGAIN' && !nonblock) {
        sleepMs(wait);
        wait = Math.min(wait * 2, 20);
        continue;
      }
      throw e;
    }
  }
}

/** A diagnostic line on the host's stderr that can never throw (stderr may be a closed pipe). */
export function diagnostic(line: string): void {
  try {
    writeAll(2, Buffer.from(line.endsWith('\n') ? line : line + '\n'));
  } catch {
    // Nowhere left to say it.
  }
}
