// src/huge-pages.ts: the host kernel is the oracle. After the advice, the mapping under a wasm
// memory carries the `hg` flag (VM_HUGEPAGE) in /proc/self/smaps, which is what lets THP's
// `madvise` mode back it with 2 MiB pages.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { adviseHugePages, koffiLoadedAs } from '../../src/huge-pages.ts';

/** Sizes in KiB of this process's mappings whose VmFlags include `hg`. */
function hugeAdvisedMappings(): number[] {
  const sizes: number[] = [];
  let size = 0;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const m = /^Size:\s+(\d+) kB/.exec(line);
    if (m) size = Number(m[1]);
    if (line.startsWith('VmFlags:') && line.split(/\s+/).includes('hg')) sizes.push(size);
  }
  return sizes;
}

const thp = existsSync('/sys/kernel/mm/transparent_hugepage/enabled');

describe('huge pages for guest RAM', () => {
  it.skipIf(!thp).each([false, true])('marks a wasm memory VM_HUGEPAGE (Linux with THP; shared %s)', (shared) => {
    const pages = shared ? 1235 : 1234; // 64 KiB each: ~77 MiB, a size no other mapping of the test has
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared });
    const kib = (pages * 65536) / 1024;
    const before = hugeAdvisedMappings().filter((s) => s >= kib).length;
    expect(adviseHugePages(memory.buffer)).toBe(true);
    // The memory's pages lie inside V8's reservation (guard regions around it), so the mapping
    // that carries the flag is at least the memory's size.
    expect(hugeAdvisedMappings().filter((s) => s >= kib).length).toBeGreaterThan(before);
    // The memory still works.
    new Uint8Array(memory.buffer).fill(7, 0, 1 << 22);
    expect(new Uint8Array(memory.buffer)[(1 << 22) - 1]).toBe(7);
  });

  it('gives no advice for an empty buffer and never throws', () => {
    expect(adviseHugePages(new ArrayBuffer(0))).toBe(false);
    // A small buffer from the JS heap is not page aligned: the kernel refuses, quietly.
    expect(() => adviseHugePages(new ArrayBuffer(100))).not.toThrow();
  });
});

describe('koffi for madvise', () => {
  it.skipIf(process.platform !== 'linux' || !['x64', 'arm64'].includes(process.arch))('loads glibc\'s prebuilt native part directly, not through koffi\'s entry', () => {
    adviseHugePages(new ArrayBuffer(0)); // (the first call loads koffi)
    expect(koffiLoadedAs).toBe('prebuilt');
  });
});
