// `shyper-emu dtb --board B [--smp N] [--mem SIZE] [--gic 2|3] [--seed N] -o FILE`: write a
// board's tree, the one a boot with the same options generates (bootargs and initrd aside).
import { writeFileSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import { checkMachineShape, getBoard, parseCount, parseSeed, parseSize } from '../options.ts';
import { boardTree } from '../../emulator/fdt/board-tree.ts';
import { DEFAULT_SEED, Rng } from '../../emulator/rng.ts';

export async function main(argv: string[]): Promise<number> {
  let board = 'rk3588';
  let smp: number | undefined;
  let mem: number | undefined;
  let gic: 2 | 3 | undefined;
  let seed = DEFAULT_SEED;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--board') board = value();
    else if (a === '--smp') smp = parseCount(value(), '--smp');
    else if (a === '--mem') mem = parseSize(value(), '--mem');
    else if (a === '--seed') seed = parseSeed(value());
    else if (a === '--gic') {
      const v = value();
      if (v !== '2' && v !== '3') throw new UsageError(`--gic: '${v}' is not 2 or 3`);
      gic = Number(v) as 2 | 3;
    } else if (a === '-o' || a === '--output') out = value();
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: shyper-emu dtb --board B [--smp N] [--mem SIZE] [--gic 2|3] [--seed N] -o FILE\n');
      return 0;
    } else throw new UsageError(`dtb: unknown option '${a}'`);
  }
  const b = getBoard(board);
  if (out === undefined) throw new UsageError('dtb: missing -o FILE');
  // The same limits as a boot (a tree for a machine that cannot boot is no use).
  checkMachineShape(b, { smp, mem, gic });
  const n = smp ?? b.cpus.length;
  const bytes = mem ?? b.memory.defaultSize;
  const v = gic ?? b.gic.version;
  try {
    writeFileSync(out, boardTree(b, { smp: n, memBytes: bytes, gic: v, rng: new Rng(seed, 'chosen') }).encode());
  } catch (e) {
    throw new UsageError(`cannot write '${out}': ${(e as Error).message}`);
  }
  return 0;
}
