// `npm run bench`: our figures beside QEMU's in one run (this machine is noisy: compare ratios).
//  1. run-elf on a CPU-bound static program vs qemu-aarch64 (same binary, same output).
//  2. The kit's Linux boot to power-off, natively on qemu-virt, vs qemu-system-aarch64 TCG.
//  3. Host CPU used by the default board idling at its shell prompt.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Process } from '../linux-user/process.ts';
import { EMULATOR, emulatorEnv, vmBootFigure, vmOverheadFigure } from './bench-hypervisor.ts';
import { UsageError } from '../errors.ts';
import { latencyLines } from './bench-latency.ts';
import { netFigure } from './bench-net.ts';
import { diskFigures } from './bench-disk.ts';
import { jitSettings, jitStats } from '../../emulator/arm64/jit/settings.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// The images shipped in guests/ (SHYPER_KIT: another kit folder, with Image.gz or Image).
const KIT = process.env.SHYPER_KIT ?? `${ROOT}guests`;

function time<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const r = fn();
  return [r, (performance.now() - t) / 1000];
}

function buildBench(name = 'bench-int'): string {
  const src = `${ROOT}test/programs/${name}.c`;
  const out = `${ROOT}test/programs/build/${name}`;
  mkdirSync(`${ROOT}test/programs/build`, { recursive: true });
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) {
    try {
      execFileSync('aarch64-linux-gnu-gcc', ['-O2', '-static', '-o', out, src], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      // A machine without the cross compiler: the user's setup, not our bug (one line, exit 2).
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'aarch64-linux-gnu-gcc is not installed' : `aarch64-linux-gnu-gcc failed: ${String((e as { stderr?: Buffer }).stderr ?? '').split('\n')[0]}`;
      throw new UsageError(`bench: cannot build ${src}: ${why}`);
    }
  }
  return out;
}

export async function main(argv: string[]): Promise<number> {
  // Figures are of cold runs, here and in every boot spawned from here, unless a line says warm:
  // the translation cache (jit/persist.ts) of earlier runs would make them depend on history.
  jitSettings.cacheFile = null;
  process.env.SHYPER_JIT_CACHE = '0';
  if ((argv[0] === 'vm' || argv[0] === 'idle' || argv[0] === 'net' || argv[0] === 'disk') && argv.length > 1) throw new UsageError(`bench ${argv[0]}: unexpected argument '${argv[1]}'`);
  if (argv[0] === 'vm') {
    // `bench vm`: only the hypervisor figures.
    process.stdout.write((await vmOverheadFigure()) + '\n' + (await vmBootFigure()) + '\n');
    return 0;
  }
  if (argv[0] === 'net') {
    // `bench net`: only the network figure.
    process.stdout.write((await netFigure()) + '\n');
    return 0;
  }
  if (argv[0] === 'disk') {
    // `bench disk`: only the disk figures (issue #10).
    process.stdout.write((await diskFigures()).join('\n') + '\n');
    return 0;
  }
  if (argv[0] === 'idle') {
    // `bench idle`: only the idle figure.
    process.stdout.write((await idleFigure()) + '\n');
    return 0;
  }
  if (argv[0] === 'jit' && argv.length <= 2) {
    // `bench jit [ITERATIONS]`: only the translator's figures.
    const lines = [...jitFigures(buildBench(), argv[1] ?? '100'), mixFigure(buildBench('bench-mix')), callsFigure(buildBench('bench-calls')), ...kitBootLines()];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  }
  if (argv[0] === '-h' || argv[0] === '--help') {
    process.stdout.write("usage: shyper-emu bench [ITERATIONS|jit [ITERATIONS]|vm|idle|net|disk]   CPU, translator, boot, VM, network and disk figures beside QEMU (jit: the translator's figures, CPU and boot; vm, idle, net, disk: those figures only)\n");
    return 0;
  }
  if (argv.length > 1 || (argv[0] !== undefined && !/^[1-9]\d{0,8}$/.test(argv[0]))) {
    throw new UsageError(`bench: expected at most one argument, an iteration count (got '${argv.join(' ')}')`);
  }
  const iters = argv[0] ?? '100';
  const prog = buildBench();
  const lines: string[] = [];

  // In-process so the figure is the CPU's, not Node's start-up.
  let out = '';
  const p = new Process(new Uint8Array(readFileSync(prog)), prog, [prog, iters], []);
  p.sys.output = (_fd, data) => void (out += Buffer.from(data).toString());
  const [, ours] = time(() => p.run());
  const insns = p.cpu.instret;
  const [q, qemu] = time(() => spawnSync('qemu-aarch64', [prog, iters], { encoding: 'utf8' }));
  const agree = q.stdout === out ? 'outputs agree' : `OUTPUTS DIFFER: ours ${JSON.stringify(out)} qemu ${JSON.stringify(q.stdout)}`;
  lines.push(`cpu   bench-int: ${insns} instructions, shyper-emu ${ours.toFixed(2)} s = ${(insns / ours / 1e6).toFixed(1)} MIPS, qemu-aarch64 ${qemu.toFixed(2)} s, ratio ${(ours / qemu).toFixed(1)}x (${agree})`);
  lines.push(...jitFigures(prog, iters));
  lines.push(mixFigure(buildBench('bench-mix')));
  lines.push(callsFigure(buildBench('bench-calls')));
  lines.push(...kitBootLines());
  lines.push(await idleFigure());
  lines.push(await vmOverheadFigure());
  lines.push(await vmBootFigure());
  lines.push(...(await latencyLines())); // interrupt latency (bench-latency.ts)
  lines.push(await netFigure());
  lines.push(...(await diskFigures())); // disk throughput, mediated vCPU time (bench-disk.ts)
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

/**
 * The kit boot's lines on 1 and 4 CPUs (or one line saying there is no kit), then the same boot
 * with Debian's generic kernel on 1 CPU when scripts/get-debian-kernel.sh has fetched it.
 */
function kitBootLines(): string[] {
  const kernel = [`${KIT}/Image.gz`, `${KIT}/Image`].find((f) => existsSync(f));
  if (kernel === undefined) return [`boot  skipped: no kit at ${KIT} (set SHYPER_KIT)`];
  const lines = ['1', '4'].flatMap((smp) => bootFigures('kit Linux', '', kernel, smp));
  const generic = `${ROOT}test/programs/build/debian-vmlinuz`;
  if (existsSync(generic)) lines.push(...bootFigures("Debian's generic kernel", ' kernel=generic', generic, '1'));
  else lines.push('boot  Debian generic kernel skipped: run scripts/get-debian-kernel.sh');
  return lines;
}

/** Boots of each kind timed per figure (the median is reported): this machine's wall times vary by tens of percent (3 until session 20: one slow run in three moved the kit figure by ~10%). */
const BOOT_RUNS = 5;
/** Runs of ours before those: until V8's code cache of the bundle has settled (bin/bundle.js SETTLED_RUNS + 1). */
const UNMEASURED_RUNS = 3;

/**
 * `boot  <what> to power-off (qemu-virt, N CPUs): ...` beside qemu-system-aarch64 TCG on the
 * same images (wall time of the whole process, start-up included, as a user sees it; the median
 * of BOOT_RUNS runs each, alternating, after unmeasured runs: the first run of a build compiles
 * the whole bundle (bin/bundle.js makes V8's code cache of it at its exit), ~100 ms more start-up
 * than any later run, and the next two serialize the cache again at exit to see whether it grew
 * (~20 ms each; later runs of the same kind do not: SETTLED_RUNS), the first decompresses the
 * kernel for the kernel cache (bin/prefetch.js), and either program's files come from disk. The
 * figure is the steady state of a user's repeated boots), then
 * `boot-warmup: smp=N<tag> ...`: the translator's work in that boot (pages, compile time, RSS).
 */
function bootFigures(what: string, tag: string, kernel: string, smp: string): string[] {
  // qemu-system-aarch64 takes a gzipped arm64 Image as well.
  const args = ['--board', 'qemu-virt', '--native', '--smp', smp, '--kernel', kernel, '--initrd', `${KIT}/initramfs.cpio.gz`, '--append', 'shyper.test=1', '--stats', '--timeout', '600'];
  const qemuArgs = ['-M', 'virt,gic-version=3', '-cpu', 'cortex-a76', '-smp', smp, '-m', '512', '-nographic', '-kernel', kernel, '-initrd', `${KIT}/initramfs.cpio.gz`, '-append', 'console=ttyAMA0 shyper.test=1'];
  const ours = () => spawnSync('node', [...EMULATOR, ...args], { encoding: 'utf8', env: emulatorEnv() });
  const qemuRun = () => spawnSync('qemu-system-aarch64', qemuArgs, { encoding: 'utf8', timeout: 120_000 });
  for (let i = 0; i < UNMEASURED_RUNS; i++) ours();
  qemuRun();
  const oursRuns: [ReturnType<typeof ours>, number][] = [];
  const qemuRuns: [ReturnType<typeof qemuRun>, number][] = [];
  for (let i = 0; i < BOOT_RUNS; i++) {
    oursRuns.push(time(ours));
    qemuRuns.push(time(qemuRun));
  }
  const median = <T>(runs: [T, number][]): [T, number] => [...runs].sort((x, y) => x[1] - y[1])[runs.length >> 1]!;
  const [b, boot] = median(oursRuns);
  const [, qboot] = median(qemuRuns);
  // Warm: the same boot again with the translation cache the first of two runs filled.
  const cacheDir = mkdtempSync(join(tmpdir(), 'shyper-bench-'));
  const env = emulatorEnv({ SHYPER_JIT_CACHE: join(cacheDir, 'jit-cache.bin') });
  spawnSync('node', [...EMULATOR, ...args], { encoding: 'utf8', env });
  const [w, warm] = time(() => spawnSync('node', [...EMULATOR, ...args], { encoding: 'utf8', env }));
  rmSync(cacheDir, { recursive: true, force: true });
  const cached = /cached=(\d+)/.exec(w.stderr)?.[1] ?? '?';
  const warmStats = /stats: instructions=(\d+)/.exec(w.stderr)?.[1] === /stats: instructions=(\d+)/.exec(b.stderr)?.[1] ? 'same instructions' : 'INSTRUCTIONS DIFFER';
  const warmOut = w.stdout === b.stdout ? 'same output' : 'OUTPUT DIFFERS';
  const stats = /stats: (.*)/.exec(b.stderr)?.[1] ?? b.stderr.trim();
  const jit = /jit: (.*)/.exec(b.stderr)?.[1] ?? 'no jit line';
  const ok = [...oursRuns, ...qemuRuns].every(([r]) => r.stdout.includes('test done')) ? 'both reached test done' : 'A BOOT FAILED';
  return [
    `boot  ${what} to power-off (qemu-virt, ${smp} CPU${smp === '1' ? '' : 's'}): shyper-emu ${boot.toFixed(2)} s (${stats}), qemu-system-aarch64 ${qboot.toFixed(2)} s, ratio ${(boot / qboot).toFixed(2)}x (${ok}; medians of ${BOOT_RUNS})`,
    `boot-warmup: smp=${smp}${tag} ${jit}`,
    `boot-warm: smp=${smp}${tag} shyper-emu ${warm.toFixed(2)} s with the translation cache of an earlier run (cached=${cached} pages, ${warmStats}, ${warmOut}), qemu-system-aarch64 ${qboot.toFixed(2)} s, ratio ${(warm / qboot).toFixed(1)}x`,
  ];
}

/** bench-int in-process on the interpreter, then with the translator, beside qemu-aarch64. */
function runBenchInt(prog: string, iters: string, jit: boolean): { out: string; insns: number; s: number } {
  const saved = jitSettings.enabled;
  jitSettings.enabled = jit;
  try {
    let out = '';
    const p = new Process(new Uint8Array(readFileSync(prog)), prog, [prog, iters], []);
    p.sys.output = (_fd, data) => void (out += Buffer.from(data).toString());
    const [, s] = time(() => p.run());
    return { out, insns: p.cpu.instret, s };
  } finally {
    jitSettings.enabled = saved;
  }
}

/**
 * `jit: mips=... interp-mips=... qemu-ratio=...` and `jit-warmup: translate-ms=... pages=...
 * rss-mb=...`: the same program, same run, on the interpreter, the translator and qemu-aarch64.
 */
function jitFigures(prog: string, iters: string): string[] {
  const interp = runBenchInt(prog, iters, false);
  const p0 = jitStats.pages;
  const ms0 = jitStats.translateMs;
  const jit = runBenchInt(prog, iters, true);
  const [q, qemu] = time(() => spawnSync('qemu-aarch64', [prog, iters], { encoding: 'utf8' }));
  const agree = jit.out === interp.out && q.stdout === jit.out ? 'outputs agree' : 'OUTPUTS DIFFER';
  const mips = (r: { insns: number; s: number }) => (r.insns / r.s / 1e6).toFixed(1);
  return [
    `jit: mips=${mips(jit)} interp-mips=${mips(interp)} qemu-ratio=${(jit.s / qemu).toFixed(1)}x speedup=${(interp.s / jit.s).toFixed(2)}x (bench-int ${jit.insns} instructions, qemu-aarch64 ${qemu.toFixed(2)} s, ${agree})`,
    `jit-warmup: translate-ms=${(jitStats.translateMs - ms0).toFixed(0)} pages=${jitStats.pages - p0} rss-mb=${Math.round(process.resourceUsage().maxRSS / 1024)} threshold=${jitSettings.threshold} warmup=${jitSettings.warmup}`,
  ];
}

/** `jit-mix: ...`: the CPU-bound mix (hashing, sorting, bytecode, matrix), same shape. */
function mixFigure(prog: string): string {
  const interp = runBenchInt(prog, '1', false);
  const ms0 = jitStats.translateMs;
  const p0 = jitStats.pages;
  const jit = runBenchInt(prog, '1', true);
  const warm = `translate-ms=${(jitStats.translateMs - ms0).toFixed(0)} pages=${jitStats.pages - p0}`;
  const [q, qemu] = time(() => spawnSync('qemu-aarch64', [prog, '1'], { encoding: 'utf8' }));
  const agree = jit.out === interp.out && q.stdout === jit.out ? 'outputs agree' : 'OUTPUTS DIFFER';
  const mips = (r: { insns: number; s: number }) => (r.insns / r.s / 1e6).toFixed(1);
  return `jit-mix: mips=${mips(jit)} interp-mips=${mips(interp)} qemu-ratio=${(jit.s / qemu).toFixed(1)}x speedup=${(interp.s / jit.s).toFixed(2)}x (bench-mix ${jit.insns} instructions, qemu-aarch64 ${qemu.toFixed(2)} s, ${agree}, ${warm})`;
}

/**
 * `jit-calls: ...`: kernel-style code (test/programs/bench-calls.c: small functions calling each
 * other across pages), on the translator and qemu-aarch64; `declined=` the pages left to the wasm
 * interpreter (jit/settings.ts DEFER_HEAT). (No interpreter run: ~240 M instructions.)
 */
function callsFigure(prog: string): string {
  const p0 = jitStats.pages;
  const d0 = jitStats.deferred;
  const jit = runBenchInt(prog, '3000', true);
  const [q, qemu] = time(() => spawnSync('qemu-aarch64', [prog, '3000'], { encoding: 'utf8' }));
  const agree = q.stdout === jit.out ? 'outputs agree' : 'OUTPUTS DIFFER';
  return `jit-calls: mips=${(jit.insns / jit.s / 1e6).toFixed(1)} qemu-ratio=${(jit.s / qemu).toFixed(2)}x (bench-calls ${jit.insns} instructions, shyper-emu ${jit.s.toFixed(2)} s, qemu-aarch64 ${qemu.toFixed(2)} s, ${agree}, pages=${jitStats.pages - p0} declined=${jitStats.deferred - d0})`;
}

/** CPU seconds (user + system) the process `pid` has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name: utime and stime are fields 14 and 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * `idle: cpu=X% ...`: boot the default board (rk3588, 8 CPUs, the images in guests/) natively,
 * wait for its shell prompt, then measure the host CPU the emulator process uses over 5 s while
 * the guest sits idle at the prompt (100 % = one host core).
 */
async function idleFigure(seconds = 5): Promise<string> {
  const p = spawn('node', [...EMULATOR, '--board', 'rk3588', '--native', '--timeout', '900'], { stdio: ['pipe', 'pipe', 'pipe'], env: emulatorEnv() });
  let out = '';
  const t0 = performance.now();
  const prompt = await new Promise<boolean>((resolve) => {
    p.stdout.on('data', (d) => {
      out += d;
      if (/boot ok[\s\S]*# (\x1b\[6n)?$/.test(out)) resolve(true);
    });
    p.on('close', () => resolve(false));
  });
  if (!prompt || p.pid === undefined) return `idle: skipped (no shell prompt: ${out.slice(-200).replace(/\s+/g, ' ')})`;
  const bootS = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 500));
  const c0 = cpuSeconds(p.pid);
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const used = cpuSeconds(p.pid) - c0;
  const wall = (performance.now() - w0) / 1000;
  p.kill('SIGKILL');
  return `idle: cpu=${((100 * used) / wall).toFixed(1)}% of one host core (rk3588, 8 CPUs, at the shell prompt for ${wall.toFixed(1)} s after a ${bootS.toFixed(1)} s boot)`;
}
