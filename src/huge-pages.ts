// Guest RAM on transparent huge pages, as QEMU asks for its guest RAM (qemu_madvise with
// QEMU_MADV_HUGEPAGE). Most Linux hosts set THP to `madvise`: only memory a process marks with
// madvise(MADV_HUGEPAGE) gets 2 MiB pages. Without them every first touch of a 4 KiB page of the
// guest's RAM is a page fault of the host: a kit boot took ~36 K faults in all, ~26 K with the
// mark (the rest are V8's heap, files, threads; kit boot -4..6% on the 2-core machine, where a
// fault costs ~11 us). Node has no
// madvise, so it is called through koffi; where that cannot be done (another OS, no prebuilt
// koffi for this machine) RAM stays on small pages, which only costs time.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Linux's MADV_HUGEPAGE and MADV_DONTNEED (the same numbers on every architecture). */
const MADV_HUGEPAGE = 14;
const MADV_DONTNEED = 4;

type Madvise = (addr: ArrayBuffer, len: number, advice: number) => number;
type Koffi = typeof import('koffi');

let madvise: Madvise | null | undefined;

/** How koffi was loaded, for the test: 'prebuilt' (its glibc build directly), 'package' (through its entry), or null. */
export let koffiLoadedAs: 'prebuilt' | 'package' | null = null;

/**
 * koffi's native part for glibc Linux on x64 or arm64, loaded directly: koffi's own entry finds it
 * by reading node's ELF header for the C library's name and resolving several packages, ~8 ms of
 * every start on a 2-core machine (of ~10 ms for all of koffi). Null anywhere else (musl, another
 * platform, a koffi whose layout or version differs), which then goes through koffi's entry.
 */
function loadPrebuiltKoffi(require: NodeJS.Require): Koffi | null {
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64')) return null;
  try {
    const entry = require.resolve('koffi');
    const fromKoffi = createRequire(entry);
    const prebuilt = dirname(fromKoffi.resolve(`@koromix/koffi-linux-${process.arch}/package.json`));
    const native = fromKoffi(join(prebuilt, `linux_${process.arch}`, 'koffi.node')) as Koffi & { version?: string };
    // (koffi's entry makes the same check: its JavaScript and native parts of one release.)
    const { version } = JSON.parse(readFileSync(join(dirname(entry), 'package.json'), 'utf8')) as { version: string };
    return native.version === version ? native : null;
  } catch {
    return null; // not glibc's build here (dlopen refused it), or not where this koffi keeps it
  }
}

function loadMadvise(): Madvise | null {
  if (process.platform !== 'linux') return null;
  try {
    // (createRequire: koffi is CommonJS with a native part, loaded from node_modules as is.)
    const require = createRequire(import.meta.url);
    let koffi = loadPrebuiltKoffi(require);
    koffiLoadedAs = koffi !== null ? 'prebuilt' : 'package';
    koffi ??= require('koffi') as Koffi;
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
    // (Through a view: koffi takes a SharedArrayBuffer, as a shared wasm memory's is, only so.)
    return madvise(new Uint8Array(buffer) as unknown as ArrayBuffer, buffer.byteLength, MADV_HUGEPAGE) === 0;
  } catch {
    return false;
  }
}

/**
 * Give the pages under `view` (whole pages of a wasm memory, which V8 maps privately) back to
 * the host: they read as zeros from then on and hold no memory until touched again
 * (madvise MADV_DONTNEED). False where that cannot be done. Never throws.
 */
export function discardPages(view: Uint8Array): boolean {
  if (madvise === undefined) madvise = loadMadvise();
  if (madvise === null || view.byteLength === 0) return false;
  try {
    return madvise(view as unknown as ArrayBuffer, view.byteLength, MADV_DONTNEED) === 0;
  } catch {
    return false;
  }
}
