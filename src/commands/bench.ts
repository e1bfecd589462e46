// `npm run bench`: our figures beside QEMU's in one run (this machine is noisy: compare ratios).
//  1. run-elf on a CPU-bound static program vs qemu-aarch64 (same binary, same output).
//  2. The kit's Linux boot to power-off, natively on qemu-virt, vs qemu-system-aarch64 TCG.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Process } from '../linux-user/process.ts';
import { UsageError } from '../errors.ts';
import { readFileSync } from 'node:fs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KIT = process.env.SHYPER_KIT ?? `${ROOT}../shared/guests`;

function time<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const r = fn();
  return [r, (performance.now() - t) / 1000];
}

function buildBench(): string {
  const src = `${ROOT}test/programs/bench-int.c`;
  const out = `${ROOT}test/programs/build/bench-int`;
  mkdirSync(`${ROOT}test/programs/build`, { recursive: true });
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) execFileSync('aarch64-linux-gnu-gcc', ['-O2', '-static', '-o', out, src]);
  return out;
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '-h' || argv[0] === '--help') {
    process.stdout.write('usage: shyper-emu bench [ITERATIONS]   CPU and boot benchmarks beside QEMU\n');
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

  if (existsSync(`${KIT}/Image`)) {
    const args = ['--board', 'qemu-virt', '--native', '--smp', '1', '--kernel', `${KIT}/Image`, '--initrd', `${KIT}/initramfs.cpio.gz`, '--append', 'shyper.test=1', '--stats', '--timeout', '600'];
    const [b, boot] = time(() => spawnSync('node', [`${ROOT}bin/shyper-emu.js`, ...args], { encoding: 'utf8' }));
    const stats = /stats: (.*)/.exec(b.stderr)?.[1] ?? b.stderr.trim();
    const [qb, qboot] = time(() =>
      spawnSync('qemu-system-aarch64', ['-M', 'virt,gic-version=3', '-cpu', 'cortex-a76', '-smp', '1', '-m', '512', '-nographic', '-kernel', `${KIT}/Image`, '-initrd', `${KIT}/initramfs.cpio.gz`, '-append', 'console=ttyAMA0 shyper.test=1'], { encoding: 'utf8', timeout: 120_000 }));
    const ok = b.stdout.includes('test done') && qb.stdout.includes('test done') ? 'both reached test done' : 'A BOOT FAILED';
    lines.push(`boot  kit Linux to power-off (qemu-virt, 1 CPU): shyper-emu ${boot.toFixed(2)} s (${stats}), qemu-system-aarch64 ${qboot.toFixed(2)} s, ratio ${(boot / qboot).toFixed(1)}x (${ok})`);
  } else {
    lines.push(`boot  skipped: no kit at ${KIT} (set SHYPER_KIT)`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
