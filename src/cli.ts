// shyper-emu command-line entry: picks the subcommand, maps errors to exit codes (DESIGN.md):
// 0 clean power-off / expectations met, 1 timeout / panic / failed expectation, 2 usage or image error.
import { UsageError } from './errors.ts';
import { ConfigError } from '../hypervisor/config.ts';

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  'run-elf': async () => (await import('./commands/run-elf.ts')).main,
  dtb: async () => (await import('./commands/dtb.ts')).main,
  bench: async () => (await import('./commands/bench.ts')).main,
};

async function main(argv: string[]): Promise<number> {
  const sub = argv[0] !== undefined ? commands[argv[0]] : undefined;
  if (sub) return (await sub())(argv.slice(1));
  return (await import('./commands/boot.ts')).main(argv);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`shyper-emu: ${err.message}\n`);
      process.exit(2);
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`shyper-emu: internal error: ${msg}\n`);
    if (process.env.SHYPER_DEBUG) console.error(err);
    process.exit(3);
  },
);
