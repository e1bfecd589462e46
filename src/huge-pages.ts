// Guest RAM on transparent huge pages, as QEMU asks for its guest RAM (qemu_madvise with
// QEMU_MADV_HUGEPAGE). Most Linux hosts set THP to `madvise`: only memory a process marks with
// madvise(MADV_HUGEPAGE) gets 2 MiB pages. Without them every first touch of a 4 KiB page of the
// guest's RAM is a page fault of the host: a kit boot took ~36 K faults in all, ~26 K with the
// mark (the rest are V8's heap, files, threads; kit boot -4..6% on the 2-core machine, where a
// fault costs ~11 us). Node has no
// madvise, so it is called through koffi; where that cannot be done (another OS, no prebuilt
// koffi for this machine) RAM stays on small pages, which only costs time.
import { createRequire } from 'node:module';

/** Linux's MADV_HUGEPAGE (the same number on every architecture). */
const MADV_HUGEPAGE = 14;

type Madvise = (addr: ArrayBuffer, len: number, advice: number) => number;

let madvise: Madvise | null | undefined;

function loadMadvise(): Madvise | null {
  if (process.platform !== 'linux') return null;
  try {
    // (createRequire: koffi is CommonJS with a native part, loaded from node_modules as is.)
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    // glibc names its C library libc.so.6; musl's is libc.so.
    for (const name of ['libc.so.6', 'libc.so']) {
      try {
        return koffi.load(name).func('int madvise(void *addr, size_t len, int advice)') as Madvise;
      } catch {
        // try the next name
      }
    }
  } catch {
    // no koffi for this machine
  }
  return null;
}

/**
 * Ask the host kernel for huge pages under `buffer` (a wasm memory's or a large ArrayBuffer's
 * page-aligned backing store), before its pages are first touched. Returns whether the kernel
 * accepted the advice; false also where it cannot be given. Never throws.
 */
export function adviseHugePages(buffer: ArrayBuffer): boolean {
  if (madvise === undefined) madvise = loadMadvise();
  if (madvise === null || buffer.byteLength === 0) return false;
  try {
    return madvise(buffer, buffer.byteLength, MADV_HUGEPAGE) === 0;
  } catch {
    return false;
  }
}
