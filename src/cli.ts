// shyper-emu command-line entry: picks the subcommand, maps errors to exit codes (DESIGN.md):
// 0 clean power-off / expectations met, 1 timeout / panic / failed expectation, 2 usage or image
// error (one line). Exit 3 is the safety net for our own bugs only: every error a user or a guest
// can cause is handled where it happens; what still escapes is reported as a bug, in one line.
import { UsageError } from './errors.ts';
import { ConfigError } from '../hypervisor/config.ts';
import { diagnostic } from './linux-user/host-io.ts';
import { jitSettingsError } from '../emulator/arm64/jit/settings.ts';
import { setRamAdvice, setRamDiscard } from '../emulator/arm64/jit/guest-memory.ts';
import { adviseHugePages, discardPages } from './huge-pages.ts';

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  'run-elf': async () => (await import('./commands/run-elf.ts')).main,
  dtb: async () => (await import('./commands/dtb.ts')).main,
  bench: async () => (await import('./commands/bench.ts')).main,
};

async function main(argv: string[]): Promise<number> {
  if (jitSettingsError !== null) throw new UsageError(jitSettingsError);
  // Guest RAM on huge pages where the host allows it (src/huge-pages.ts).
  setRamAdvice(adviseHugePages);
  // Guest RAM zeroed for reuse (a VM reset or removed) is given back to the host instead.
  setRamDiscard(discardPages);
  const name = argv[0];
  const sub = name !== undefined && Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (sub) return (await sub())(argv.slice(1));
  return (await import('./commands/boot.ts')).main(argv);
}

/** Our stdout or stderr reader went away (`| head -1`): end quietly, as a program killed by SIGPIPE would. */
function isClosedPipe(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

let exiting = false;
function fail(err: unknown): void {
  if (exiting) return;
  exiting = true;
  if (err instanceof UsageError || err instanceof ConfigError) {
    diagnostic(`shyper-emu: ${err.message}`);
    process.exit(2);
  }
  if (isClosedPipe(err)) process.exit(0);
  const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  diagnostic(`shyper-emu: internal error (a bug in shyper-emu, please report it with the command line; SHYPER_DEBUG=1 shows where): ${msg}`);
  if (process.env.SHYPER_DEBUG) console.error(err);
  process.exit(3);
}

// Errors on our own output streams arrive asynchronously as 'error' events; one nobody listens
// to (the boot's Terminal listens to stdout while it runs) becomes an uncaught exception, which
// would print a stack trace. A closed reader ends the run quietly; the rest is the safety net.
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

main(process.argv.slice(2)).then((code) => process.exit(code), fail);
