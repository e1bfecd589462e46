// Oracle suites: tests that need a tool from outside npm — QEMU (user or system mode), Unicorn,
// dtc, the aarch64 cross toolchain, Debian's busybox and generic kernel — to compare against or to build inputs.
// `describeOracle(name, needs, fn)` is `describe(name, fn)` when every tool is there. When one
// is missing the suite is skipped (its body is not even collected, so nothing runs a missing
// tool) and recorded; test/oracle-setup.ts prints one line at the end of the run naming every
// skipped suite. Under SHYPER_REQUIRE_ORACLES=1 (.ci/run sets it) a missing tool fails the suite
// instead. Debian packages: see .ci/run.
import { execFileSync } from 'node:child_process';
import { accessSync, appendFileSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';
import { describe, expect, inject, it, type TestOptions } from 'vitest';

export type Oracle = 'qemu-aarch64' | 'qemu-system-aarch64' | 'dtc' | 'cross-as' | 'cross-gcc' | 'unicorn' | 'busybox' | 'debian-kernel';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** The Unicorn 2 library the ISA oracle loads (test/oracle/unicorn.ts); SHYPER_LIBUNICORN overrides. */
export const LIBUNICORN = process.env.SHYPER_LIBUNICORN ?? 'libunicorn.so.2';
/** Unicorn's register numbering is read from this header (Debian's libunicorn-dev). */
export const UNICORN_ARM64_H = process.env.SHYPER_UNICORN_ARM64_H ?? '/usr/include/unicorn/arm64.h';
/** Debian's busybox-static for arm64, fetched by scripts/get-busybox.sh. */
export const BUSYBOX = join(ROOT, 'test/programs/build/busybox');
/** Debian's generic arm64 kernel Image, fetched by scripts/get-debian-kernel.sh. */
export const DEBIAN_KERNEL = join(ROOT, 'test/programs/build/debian-vmlinuz');

function onPath(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

const commands = (pkg: string, ...cmds: string[]) => (): string[] => cmds.filter((c) => !onPath(c)).map((c) => `${c} (${pkg})`);

const CHECKS: Record<Oracle, () => string[]> = {
  'qemu-aarch64': commands('qemu-user', 'qemu-aarch64'),
  'qemu-system-aarch64': commands('qemu-system-arm', 'qemu-system-aarch64'),
  dtc: commands('device-tree-compiler', 'dtc'),
  'cross-as': commands('binutils-aarch64-linux-gnu', 'aarch64-linux-gnu-as', 'aarch64-linux-gnu-objcopy', 'aarch64-linux-gnu-objdump', 'aarch64-linux-gnu-nm'),
  'cross-gcc': commands('gcc-aarch64-linux-gnu', 'aarch64-linux-gnu-gcc'),
  unicorn: () => {
    const missing: string[] = [];
    try {
      koffi.load(LIBUNICORN);
    } catch {
      missing.push(`${LIBUNICORN} (libunicorn2)`);
    }
    if (!existsSync(UNICORN_ARM64_H)) missing.push(`${UNICORN_ARM64_H} (libunicorn-dev)`);
    return missing;
  },
  busybox: () => (existsSync(BUSYBOX) ? [] : ['test/programs/build/busybox (scripts/get-busybox.sh)']),
  'debian-kernel': () => (existsSync(DEBIAN_KERNEL) ? [] : ['test/programs/build/debian-vmlinuz (scripts/get-debian-kernel.sh)']),
};

const cache = new Map<Oracle, string[]>();

/** What is missing for these oracles ([] when all are there), e.g. "dtc (device-tree-compiler)". */
export function missingFor(needs: readonly Oracle[]): string[] {
  const out: string[] = [];
  for (const n of needs) {
    if (!cache.has(n)) cache.set(n, CHECKS[n]());
    for (const m of cache.get(n)!) if (!out.includes(m)) out.push(m);
  }
  return out;
}

export const requireOracles = (): boolean => process.env.SHYPER_REQUIRE_ORACLES === '1';

/** The record oracle-setup.ts reads: one JSON line per skipped suite. */
export interface SkipRecord {
  file: string;
  suite: string;
  missing: string[];
}

function record(suite: string, missing: string[]): void {
  let dir: string | undefined;
  try {
    dir = inject('oracleSkipDir');
  } catch {
    dir = undefined; // run without test/oracle-setup.ts (another config): nothing to report to
  }
  if (!dir) return;
  const testPath = expect.getState().testPath;
  const file = testPath ? relative(ROOT, testPath) : '?';
  const rec: SkipRecord = { file, suite, missing };
  appendFileSync(join(dir, `${process.pid}.jsonl`), JSON.stringify(rec) + '\n');
}

/**
 * describe(), for a suite that needs the given oracles. Without them: skipped and recorded, or
 * failed under SHYPER_REQUIRE_ORACLES=1.
 */
export function describeOracle(name: string, needs: readonly Oracle[], fn: () => void): void;
export function describeOracle(name: string, needs: readonly Oracle[], options: TestOptions, fn: () => void): void;
export function describeOracle(name: string, needs: readonly Oracle[], a: TestOptions | (() => void), b?: () => void): void {
  const options = typeof a === 'function' ? {} : a;
  const fn = typeof a === 'function' ? a : b!;
  const missing = missingFor(needs);
  if (missing.length === 0) {
    describe(name, options, fn);
    return;
  }
  const what = `needs ${missing.join(', ')}`;
  if (requireOracles()) {
    describe(name, () => {
      it(what, () => {
        throw new Error(`oracle suite '${name}' cannot run (SHYPER_REQUIRE_ORACLES=1): missing ${missing.join(', ')}`);
      });
    });
    return;
  }
  record(name, missing);
  describe.skip(name, () => {
    it(`(oracle suite skipped: ${what})`, () => {});
  });
}

const dumped = new Map<number, Uint8Array>();
/**
 * The device tree QEMU generates for `-M virt,gic-version=N -cpu cortex-a76 -smp 4 -m 512` (the
 * reference for the qemu-virt board and the FDT codec), dumped by qemu-system-aarch64 at test
 * time. Only inside describeOracle(..., ['qemu-system-aarch64'], ...).
 */
export function qemuVirtDtb(gic: 2 | 3): Uint8Array {
  let blob = dumped.get(gic);
  if (!blob) {
    const dir = mkdtempSync(join(tmpdir(), 'qemu-dtb-'));
    const file = join(dir, `qemu-virt-gicv${gic}-smp4.dtb`);
    execFileSync('qemu-system-aarch64', ['-M', `virt,gic-version=${gic},dumpdtb=${file}`, '-cpu', 'cortex-a76', '-smp', '4', '-m', '512', '-display', 'none'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 60_000,
    });
    blob = new Uint8Array(readFileSync(file));
    rmSync(dir, { recursive: true, force: true });
    dumped.set(gic, blob);
  }
  return blob;
}
