// Fuzzing the inputs a user or a hostile program controls (issue 14), bounded in count and time
// so it runs with every `npm test`. Two layers:
//  - in-process, thousands of cases: mutated ELFs run for a while, programs making random system
//    calls with boundary arguments, mutated and random device trees, kernel headers, gzip data,
//    command lines, random kernels on every board. The only exceptions allowed out are the ones
//    the CLI turns into exit 2 (UsageError, ImageError, FdtError).
//  - spawned, a few dozen cases: the real command line with fuzzed files and arguments; exit code
//    in {0,1,2} (run-elf: the guest's status or 128+signal), at most one stderr line on errors,
//    never a stack trace or the exit-3 safety net, bounded host memory (peak RSS).
// The generator is seeded: SHYPER_FUZZ_SEED=N picks another series, SHYPER_FUZZ_SCALE=K runs K
// times as many cases. Failures print the seed and the case.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { boards } from '../../boards/index.ts';
import { ImageError, maybeGunzip, parseImageHeader, planLayout } from '../../emulator/boot/linux-image.ts';
import { HostConsole } from '../../emulator/devices/console.ts';
import { boardTree } from '../../emulator/fdt/board-tree.ts';
import { Fdt, FdtError } from '../../emulator/fdt/fdt.ts';
import { Machine } from '../../emulator/machine.ts';
import { ConfigError, parseVmConfig } from '../../hypervisor/config.ts';
import { parseBootArgs } from '../../src/commands/boot.ts';
import { UsageError } from '../../src/errors.ts';
import { checkMachineShape, getBoard } from '../../src/options.ts';
import { Process } from '../../src/linux-user/process.ts';
import { CODE_BASE, DATA_BASE, exitCall, makeElf, movImm, SVC0 } from './elf-writer.ts';
import { type CliResult, STACK } from './run-cli.ts';

const SEED = Number(process.env.SHYPER_FUZZ_SEED ?? 20261124);
const SCALE = Number(process.env.SHYPER_FUZZ_SCALE ?? 1);
const n = (k: number): number => Math.max(1, Math.round(k * SCALE));

/** xorshift32: a reproducible series per purpose. */
class Rand {
  private s: number;
  constructor(seed: number, salt: string) {
    let h = seed ^ 0x9e3779b9;
    for (const c of salt) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
    this.s = h >>> 0 || 1;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.u32() % n;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  bytes(len: number): Uint8Array {
    return Uint8Array.from({ length: len }, () => this.u32() & 0xff);
  }
  /** 64-bit values where bugs live: 0, ±1, powers of two and their neighbours, random. */
  edge(): bigint {
    const p = BigInt(this.int(65));
    switch (this.int(8)) {
      case 0: return 0n;
      case 1: return BigInt.asUintN(64, -1n);
      case 2: return 1n << p;
      case 3: return BigInt.asUintN(64, (1n << p) - 1n);
      case 4: return BigInt.asUintN(64, -(1n << p));
      case 5: return BigInt(this.int(4096));
      case 6: return BigInt(this.u32());
      default: return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
    }
  }
  /** A copy of `data` with a few random changes: bytes, 16/32/64-bit fields set to edge values, cuts. */
  mutate(data: Uint8Array, focus = data.length): Uint8Array {
    let out = data.slice();
    const k = 1 + this.int(4);
    for (let i = 0; i < k; i++) {
      const dv = new DataView(out.buffer);
      const at = this.int(Math.max(1, Math.min(focus, out.length) - 8));
      switch (this.int(6)) {
        case 0: out[at] = this.u32() & 0xff; break;
        case 1: dv.setUint16(at, Number(this.edge() & 0xffffn), this.int(2) === 0); break;
        case 2: dv.setUint32(at, Number(this.edge() & 0xffffffffn), this.int(2) === 0); break;
        case 3: dv.setBigUint64(at, this.edge(), this.int(2) === 0); break;
        case 4: out = out.slice(0, this.int(out.length + 1)); break;
        default: out[at] ^= 1 << this.int(8);
      }
      if (out.length < 16) break;
    }
    return out;
  }
}

const userError = (e: unknown): boolean => e instanceof UsageError || e instanceof ImageError || e instanceof FdtError || e instanceof ConfigError;

const CONFIGS = Object.keys(boards).map((b) => ({ board: b, text: readFileSync(`boards/vms/${b}.json`, 'utf8') }));

/** A config with a few values replaced by hostile ones (JSON stays valid), or its text mangled. */
function mutateConfig(r: Rand, text: string): string {
  if (r.int(4) === 0) return Buffer.from(r.mutate(new Uint8Array(Buffer.from(text)))).toString('latin1');
  const hostile = (): unknown =>
    r.pick<() => unknown>([
      () => Number(BigInt.asIntN(64, r.edge())),
      () => `0x${r.edge().toString(16)}`,
      () => r.pick(['', '__proto__', 'constructor', '/dev/zero', '../../../../etc/passwd', 'x'.repeat(10000), '0b', '-1', '1e309', 'NaN']),
      () => null,
      () => [],
      () => ({}),
      () => r.int(2) === 0,
      () => Array.from({ length: r.int(40) }, () => r.int(1000)),
    ])();
  const doc = JSON.parse(text) as unknown;
  const slots: [Record<string, unknown> | unknown[], string | number][] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach((x, i) => (slots.push([v, i]), walk(x)));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (slots.push([v as Record<string, unknown>, k]), walk(x));
  };
  walk(doc);
  for (let k = 1 + r.int(3); k > 0 && slots.length; k--) {
    const [obj, key] = r.pick(slots);
    if (r.int(5) === 0 && !Array.isArray(obj)) delete (obj as Record<string, unknown>)[key as string];
    else (obj as Record<string | number, unknown>)[key] = hostile();
  }
  if (r.int(6) === 0 && Array.isArray(doc)) while (doc.length < 20) doc.push(doc[0]);
  return JSON.stringify(doc);
}
const where = (what: string, i: number): string => `${what} #${i} (SHYPER_FUZZ_SEED=${SEED})`;

function tinyElf(): Uint8Array {
  // write(1, "ok\n", 3); exit(0)
  const msg = new Uint8Array(8192);
  msg.set([0x6f, 0x6b, 0x0a]);
  return makeElf(Uint32Array.from([...movImm(0, 1n), ...movImm(1, BigInt(DATA_BASE)), ...movImm(2, 3n), ...movImm(8, 64n), SVC0, ...exitCall(0)]), msg);
}

// System calls worth calling at random (all of what run-elf implements, a few it does not).
const SYSCALLS = [17, 23, 24, 25, 29, 48, 56, 57, 61, 62, 63, 64, 65, 66, 67, 78, 79, 80, 95, 96, 98, 99, 101, 113, 114, 115, 122, 123, 124, 132, 134, 135, 153, 160, 166, 167, 169, 172, 173, 174, 178, 179, 214, 215, 216, 222, 226, 233, 260, 261, 278, 293, 220, 999];
// Paths the data page offers (openat/newfstatat/readlinkat/faccessat); nothing that blocks.
const PATHS = ['/', '.', '/dev/zero', '/dev/null', '/proc/self/exe', 'package.json', 'test', '/nonexistent', ''];

/** A program making `calls` random system calls with edge-value arguments, then exit(0). */
function syscallProgram(r: Rand, calls: number): Uint8Array {
  const data = new Uint8Array(16384);
  PATHS.forEach((p, i) => data.set(Buffer.from(p + '\0'), i * 64));
  for (let i = 1024; i < data.length; i++) data[i] = r.u32() & 0xff;
  const ptrs = [BigInt(DATA_BASE), BigInt(DATA_BASE + 4096), BigInt(DATA_BASE + 16384 - 8), BigInt(CODE_BASE), 0n, ...PATHS.map((_, i) => BigInt(DATA_BASE + i * 64))];
  const code: number[] = [];
  for (let c = 0; c < calls; c++) {
    const nr = r.int(20) === 0 ? BigInt(r.int(512)) : BigInt(r.pick(SYSCALLS));
    for (let a = 0; a < 6; a++) code.push(...movImm(a, r.int(3) === 0 ? r.pick(ptrs) : r.int(3) === 0 ? BigInt(r.int(8)) : r.edge()));
    code.push(...movImm(8, nr), SVC0);
  }
  code.push(...exitCall(0));
  return makeElf(Uint32Array.from(code), data);
}

function runInProcess(image: Uint8Array, name: string, maxInstructions: number): { code: number | null; out: number } {
  let p: Process;
  try {
    p = new Process(image, name, [name], ['PATH=/bin'], 'cortex-a76', { memBytes: 64 << 20 });
  } catch (e) {
    if (userError(e)) return { code: 2, out: 0 };
    throw e;
  }
  let out = 0;
  p.sys.output = (_fd, d) => void (out += d.length);
  p.sys.input = () => new Uint8Array(0);
  p.sys.report = () => {};
  return { code: p.runFor(maxInstructions), out };
}

describe(`fuzz, in-process (seed ${SEED})`, { timeout: 600_000 }, () => {
  it('mutated ELF headers: refused as usage errors, or loaded and run without host exceptions', () => {
    const r = new Rand(SEED, 'elf');
    const base = tinyElf();
    let loaded = 0;
    for (let i = 0; i < n(250); i++) {
      const img = r.mutate(base, 64 + 2 * 56);
      try {
        if (runInProcess(img, `elf${i}`, 20_000).code !== 2) loaded++;
      } catch (e) {
        throw new Error(`${where('ELF', i)}: ${(e as Error).stack}`);
      }
    }
    expect(loaded).toBeGreaterThan(0);
  });

  it('programs making random system calls with edge-value arguments', () => {
    const r = new Rand(SEED, 'syscalls');
    for (let i = 0; i < n(60); i++) {
      const img = syscallProgram(r, 40);
      try {
        const res = runInProcess(img, `sys${i}`, 2_000_000);
        expect(res.code === null || (res.code >= 0 && res.code <= 255), where('syscalls', i)).toBe(true);
      } catch (e) {
        throw new Error(`${where('syscalls', i)}: ${(e as Error).stack}`);
      }
    }
  });

  it('device trees: mutated board trees and random blobs decode or throw FdtError, never anything else', () => {
    const r = new Rand(SEED, 'dtb');
    const trees = Object.values(boards).map((b) => boardTree(b, { smp: 1, memBytes: b.memory.defaultSize, gic: b.gic.version }).encode());
    let decoded = 0;
    for (let i = 0; i < n(3000); i++) {
      const blob = i % 10 === 0 ? r.bytes(r.int(200)) : r.mutate(r.pick(trees));
      try {
        Fdt.decode(blob).encode();
        decoded++;
      } catch (e) {
        if (!(e instanceof FdtError)) throw new Error(`${where('DTB', i)}: ${(e as Error).stack}`);
      }
    }
    expect(decoded).toBeGreaterThan(0);
  });

  it('kernel headers and gzip data: ImageError or a layout inside RAM', () => {
    const r = new Rand(SEED, 'image');
    const hdr = new Uint8Array(4096);
    new DataView(hdr.buffer).setBigUint64(16, 1n << 20n, true);
    new DataView(hdr.buffer).setUint32(0x38, 0x644d5241, true);
    const gz = gzipSync(hdr);
    for (let i = 0; i < n(3000); i++) {
      try {
        const img = i % 3 === 0 ? maybeGunzip(r.mutate(gz), 1 << 20) : r.mutate(hdr, 64);
        const h = parseImageHeader(img);
        const ram = r.pick([16, 64, 1024]) << 20;
        const l = planLayout(0x40000000, ram, h, r.int(1 << 22), 0x200000);
        expect(l.kernelAddr >= 0x40000000 && l.dtbAddr + 0x200000 <= 0x40000000 + ram, where('image', i)).toBe(true);
      } catch (e) {
        if (!(e instanceof ImageError)) throw new Error(`${where('image', i)}: ${(e as Error).stack}`);
      }
    }
  });

  it('command lines: parsed or a UsageError', () => {
    const r = new Rand(SEED, 'argv');
    const flags = ['--board', '--native', '--kernel', '--initrd', '--dtb', '--append', '--cmdline', '--smp', '--mem', '--gic', '--timeout', '--expect', '--stats', '--config', '--trace', '--gdb', '-h', '--bogus', '--native=1', '--mem=', '--board=__proto__', '--smp=0x10'];
    const values = ['', '0', '1', '-1', '2', '3', '4K', '16M', '1G', '99999999999999999999', '0x', 'NaN', 'Infinity', '1e3', '(', '.*', 'rk3588', 'qemu-virt', '__proto__', 'constructor', 'toString', '\u0000', 'x'.repeat(5000)];
    for (let i = 0; i < n(5000); i++) {
      const argv = Array.from({ length: r.int(7) }, () => (r.int(2) ? r.pick(flags) : r.pick(values)));
      try {
        const o = parseBootArgs(argv);
        if (o === 'help') continue;
        checkMachineShape(getBoard(o.board), o);
      } catch (e) {
        if (!(e instanceof UsageError)) throw new Error(`${where('argv', i)} ${JSON.stringify(argv)}: ${(e as Error).stack}`);
      }
    }
  });

  it('VM configs: mutated board VM sets parse or throw ConfigError', () => {
    const r = new Rand(SEED, 'config');
    for (let i = 0; i < n(1500); i++) {
      const c = r.pick(CONFIGS);
      const text = mutateConfig(r, c.text);
      try {
        parseVmConfig(text, boards[c.board]!, { label: 'fuzz.json', imageDir: 'boards/vms' });
      } catch (e) {
        if (!(e instanceof ConfigError)) throw new Error(`${where('config', i)} ${text.slice(0, 2000)}: ${(e as Error).stack}`);
      }
    }
  });

  it('random kernels on every board (random code at EL1 for a few slices, sometimes a mutated tree)', () => {
    const r = new Rand(SEED, 'machine');
    const names = Object.keys(boards);
    for (let i = 0; i < n(names.length); i++) {
      const b = boards[names[i % names.length]!]!;
      const img = r.bytes(65536);
      const dv = new DataView(img.buffer);
      dv.setBigUint64(8, 0n, true);
      dv.setBigUint64(16, 1n << 20n, true);
      dv.setBigUint64(24, 0n, true);
      dv.setUint32(0x38, 0x644d5241, true);
      const tree = i % 2 ? r.mutate(boardTree(b, { smp: 1, memBytes: 64 << 20, gic: b.gic.version }).encode()) : undefined;
      try {
        const m = new Machine({ board: b, smp: 1, memBytes: 64 << 20, console: new HostConsole(() => {}) });
        m.traceSink = () => {};
        m.loadLinux({ kernel: img, dtb: tree, cmdline: 'console=ttyS0' });
        for (let k = 0; k < 10; k++) {
          const state = m.runFor(5);
          if (state === 'idle') m.advanceIdle(Infinity);
          else if (state !== 'running') break;
        }
      } catch (e) {
        if (!userError(e)) throw new Error(`${where(`kernel on ${b.name}`, i)}: ${(e as Error).stack}`);
      }
    }
  });
});

// ---- the real command line ----

const tmp = mkdtempSync(join(tmpdir(), 'fuzz-'));

/** Spawn the CLI; sample the child's peak RSS (VmHWM) while it runs. */
function spawnCli(args: string[]): Promise<CliResult & { peakKiB: number }> {
  return new Promise((resolve) => {
    const p = spawn('node', ['bin/shyper-emu.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakKiB = 0;
    p.stdout.on('data', (d) => {
      if (stdout.length < 1 << 16) stdout += d;
    });
    p.stderr.on('data', (d) => {
      if (stderr.length < 1 << 16) stderr += d;
    });
    const sample = (): void => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
        if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
      } catch {
        // exited
      }
    };
    const sampler = setInterval(sample, 50);
    const killer = setTimeout(() => p.kill('SIGKILL'), 90_000);
    p.on('close', (code, signal) => {
      clearInterval(sampler);
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, peakKiB });
    });
  });
}

/** Our own diagnostic lines that are not error reports (guest behaviour traces). */
const TRACE = /^shyper-emu: cpu\d+ el\d UNDEFINED at |^shyper-emu: unsupported system call /;

describe(`fuzz, the command line (seed ${SEED})`, { timeout: 900_000 }, () => {
  it('fuzzed files and arguments: documented exit codes, one line, no stack trace, bounded memory', async () => {
    const r = new Rand(SEED, 'cli');
    const file = (name: string, data: Uint8Array | string): string => {
      const f = join(tmp, name);
      writeFileSync(f, data);
      return f;
    };
    const kernelOf = (i: number): string => {
      const img = r.bytes(8192 + r.int(65536));
      const dv = new DataView(img.buffer);
      if (r.int(4)) {
        dv.setBigUint64(8, r.int(3) ? 0n : r.edge(), true);
        dv.setBigUint64(16, r.int(3) ? 1n << 20n : r.edge(), true);
        dv.setBigUint64(24, 0n, true);
        dv.setUint32(0x38, 0x644d5241, true);
      }
      return file(`k${i}${r.int(3) ? '' : '.gz'}`, r.int(4) ? img : gzipSync(img));
    };
    const boardNames = Object.keys(boards);
    const cases: { kind: 'boot' | 'run-elf' | 'dtb'; args: string[] }[] = [];
    const hostile = 'test/programs/build/hostile';
    for (let i = 0; i < n(8); i++) {
      // run-elf: mutated small programs, random system calls, mutated real binaries
      const img = i % 3 === 0 ? syscallProgram(r, 30) : i % 3 === 1 || !existsSync(hostile) ? r.mutate(tinyElf(), 64 + 2 * 56) : r.mutate(new Uint8Array(readFileSync(hostile)), 4096);
      cases.push({ kind: 'run-elf', args: ['run-elf', file(`e${i}`, img), ...(i % 3 === 2 ? [r.pick(['segv', 'fds', 'lengths', 'x'])] : [])] });
    }
    for (let i = 0; i < n(8); i++) {
      // boots: random kernels, mutated trees, random initrds, on random boards and sizes
      const b = boards[r.pick(boardNames)]!;
      const args = ['--native', '--board', b.name, '--smp', '1', '--mem', r.pick(['16M', '64M', '256M']), '--timeout', '2', '--kernel', kernelOf(i)];
      if (r.int(2)) args.push('--dtb', file(`t${i}.dtb`, r.int(5) ? r.mutate(boardTree(b, { smp: 1, memBytes: b.memory.defaultSize, gic: b.gic.version }).encode()) : r.bytes(r.int(4096))));
      if (r.int(2)) args.push('--initrd', file(`i${i}`, r.bytes(r.int(1 << 16))));
      if (r.int(3) === 0) args.push('--gic', r.pick(['2', '3']));
      cases.push({ kind: 'boot', args });
    }
    for (let i = 0; i < n(4); i++) {
      // config files: random bytes, or JSON-looking text with bad values
      const c = r.pick(CONFIGS);
      const text = r.int(5) ? mutateConfig(r, c.text) : Buffer.from(r.bytes(r.int(2048)));
      cases.push({ kind: 'boot', args: ['--board', c.board, '--config', file(`c${i}.json`, text), '--timeout', '2'] });
    }
    for (let i = 0; i < n(4); i++) {
      const tokens = ['--board', r.pick(['rk3588', 'pi4', '__proto__', 'qemu-virt', '']), '--smp', r.pick(['0', '1', '2', '99', 'x']), '--mem', r.pick(['4K', '16M', '17M', '1G', '0x1000000', '-1']), '--gic', r.pick(['2', '3', '4'])];
      const args: string[] = [];
      for (let k = 0; k < tokens.length; k += 2) if (r.int(2)) args.push(tokens[k]!, tokens[k + 1]!);
      cases.push({ kind: 'dtb', args: ['dtb', ...args, '-o', join(tmp, `d${i}.dtb`)] });
    }
    const results: (CliResult & { peakKiB: number })[] = [];
    for (let k = 0; k < cases.length; k += 2) results.push(...(await Promise.all(cases.slice(k, k + 2).map((c) => spawnCli(c.args)))));
    results.forEach((res, i) => {
      const c = cases[i]!;
      const what = `${where('CLI', i)}: shyper-emu ${c.args.join(' ')}\nstderr: ${res.stderr}`;
      expect(res.signal, what).toBeNull();
      expect(res.stderr, what).not.toMatch(STACK);
      expect(res.stderr, what).not.toContain('internal error');
      expect(res.peakKiB, what).toBeLessThan(1536 * 1024);
      if (c.kind === 'run-elf') {
        expect(res.code! >= 0 && res.code! <= 255, what).toBe(true);
        if (res.code === 2 && !res.stdout) expect(res.stderr.split('\n').filter((l) => l && !TRACE.test(l)).length, what).toBeLessThanOrEqual(1);
        return;
      }
      expect([0, 1, 2], what).toContain(res.code);
      const lines = res.stderr.split('\n').filter((l) => l && !TRACE.test(l));
      if (res.code !== 0) expect(lines.length, what).toBeLessThanOrEqual(1);
    });
  });
});
