// `shyper-emu run-elf [--stats] [--cpu CORE] PROG [ARGS...]`: a static AArch64 Linux program at
// EL0 with Linux system calls emulated (like qemu-aarch64 user mode). Its exit status becomes ours;
// a program killed by a signal ends with 128 + the signal number, as a shell reports it.
// --cpu picks the core (default cortex-a76): its instructions, AT_HWCAP and ID registers.
// --interpreter (or SHYPER_JIT=0) runs the interpreter alone, without the WebAssembly translator;
// --no-jit-cache leaves the translation cache on disk alone (jit/persist.ts);
// --stats also reports the translator's work (pages translated, time spent translating).
import { UsageError } from '../errors.ts';
import { INPUT_LIMITS, readInput } from '../input.ts';
import { Process, USER_CPUS, type UserCpuName } from '../linux-user/process.ts';
import { diagnostic } from '../linux-user/host-io.ts';
import { jitSettings, jitStatsLine } from '../../emulator/arm64/jit/settings.ts';

const USAGE = `usage: shyper-emu run-elf [--stats] [--interpreter] [--no-jit-cache] [--cpu ${USER_CPUS.join('|')}] PROG [ARGS...]`;

export async function main(argv: string[]): Promise<number> {
  let stats = false;
  let core: UserCpuName = 'cortex-a76';
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    if (argv[i] === '--stats') stats = true;
    else if (argv[i] === '--interpreter') jitSettings.enabled = false;
    else if (argv[i] === '--no-jit-cache') jitSettings.cacheFile = null;
    else if (argv[i] === '--cpu' || argv[i]!.startsWith('--cpu=')) {
      const name = argv[i] === '--cpu' ? argv[++i] : argv[i]!.slice(6);
      if (!USER_CPUS.includes(name as UserCpuName)) throw new UsageError(`run-elf: --cpu: one of ${USER_CPUS.join(', ')}`);
      core = name as UserCpuName;
    } else if (argv[i] === '--') {
      i++;
      break;
    } else throw new UsageError(`run-elf: unknown option '${argv[i]}'`);
  }
  const prog = argv[i];
  if (prog === undefined) throw new UsageError(USAGE);
  const image = readInput(prog, 'run-elf:', INPUT_LIMITS.elf);
  const env = ['PATH=/usr/bin:/bin', 'HOME=/', 'LANG=C'];
  const p = new Process(image, prog, argv.slice(i), env, core);
  const t0 = performance.now();
  const code = p.run();
  const s = (performance.now() - t0) / 1000;
  if (stats) {
    const n = p.cpu.instret;
    diagnostic(`stats: instructions=${n} seconds=${s.toFixed(3)} mips=${(n / s / 1e6).toFixed(1)}`);
    diagnostic(jitStatsLine());
  }
  return code;
}
