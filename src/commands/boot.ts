// `shyper-emu [--board B] [--native] ...`: boot a board (DESIGN.md "Command line").
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.ts';
import { INPUT_LIMITS, readInput } from '../input.ts';
import { checkMachineShape, getBoard, parseSize } from '../options.ts';

import { Machine } from '../../emulator/machine.ts';
import { ImageError } from '../../emulator/boot/linux-image.ts';
import { FdtError } from '../../emulator/fdt/fdt.ts';
import { Terminal } from '../terminal.ts';

export const HELP = `usage: shyper-emu [options]                      boot a board
       shyper-emu run-elf [--stats] PROG [ARGS...]   run a static AArch64 Linux program at EL0
       shyper-emu dtb --board B [--smp N] [--mem SIZE] [--gic 2|3] -o FILE
       shyper-emu bench                              CPU and boot benchmarks beside QEMU

Boot options:
  --board NAME       rk3588 (default), qemu-virt, pi4, tx2
  --native           boot one Linux directly on the board, no hypervisor (the baseline)
  --kernel FILE      arm64 Linux Image (.gz accepted); default: the images shipped in guests/
  --initrd FILE      initramfs (cpio, .gz accepted)
  --dtb FILE         use this device tree instead of the generated one
  --append STR       add to the board's default kernel command line
  --cmdline STR      replace the kernel command line
  --smp N            number of CPUs (default: all of the board's)
  --mem SIZE         RAM size, e.g. 512M, 2G (default: the board's)
  --gic 2|3          GIC version where the board offers both (qemu-virt)
  --timeout SEC      give up after SEC seconds of wall time (exit 1)
  --expect REGEX     succeed (exit 0) once the console output has matched every REGEX given
  --stats            print "stats: instructions=N seconds=S mips=M ..." on stderr at the end
  -h, --help         this text

Exit status: 0 guest powered off (or every --expect matched), 1 timeout / guest panic / failed
expectation, 2 usage, config or image error. Ctrl-A x quits an interactive session.`;

export interface BootOptions {
  board: string;
  native: boolean;
  kernel?: string;
  initrd?: string;
  dtb?: string;
  append: string[];
  cmdline?: string;
  smp?: number;
  mem?: number;
  gic?: 2 | 3;
  timeoutSec?: number;
  expect: RegExp[];
  stats: boolean;
}

export function parseBootArgs(argv: string[]): BootOptions | 'help' {
  const o: BootOptions = { board: 'rk3588', native: false, append: [], expect: [], stats: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    const noValue = (): void => {
      if (inline !== undefined) throw new UsageError(`${flag} takes no value (got '${a}')`);
    };
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-h':
      case '--help':
        noValue();
        return 'help';
      case '--board':
        o.board = value();
        break;
      case '--native':
        noValue();
        o.native = true;
        break;
      case '--kernel':
        o.kernel = value();
        break;
      case '--initrd':
        o.initrd = value();
        break;
      case '--dtb':
        o.dtb = value();
        break;
      case '--append':
        o.append.push(value());
        break;
      case '--cmdline':
        o.cmdline = value();
        break;
      case '--smp': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--smp: '${v}' is not a CPU count`);
        o.smp = Number(v);
        break;
      }
      case '--mem':
        o.mem = parseSize(value(), '--mem');
        break;
      case '--gic': {
        const v = value();
        if (v !== '2' && v !== '3') throw new UsageError(`--gic: '${v}' is not 2 or 3`);
        o.gic = Number(v) as 2 | 3;
        break;
      }
      case '--timeout': {
        const v = value();
        if (!/^\d+(\.\d+)?$/.test(v)) throw new UsageError(`--timeout: '${v}' is not a number of seconds`);
        o.timeoutSec = Number(v);
        break;
      }
      case '--expect': {
        const v = value();
        try {
          o.expect.push(new RegExp(v));
        } catch {
          throw new UsageError(`--expect: '${v}' is not a valid regular expression`);
        }
        break;
      }
      case '--stats':
        noValue();
        o.stats = true;
        break;
      case '--config':
      case '--trace':
      case '--gdb':
        throw new UsageError(`${flag} is not available yet in this version`);
      default:
        throw new UsageError(`unknown option '${a}' (try --help)`);
    }
  }
  return o;
}

const GUESTS = fileURLToPath(new URL('../../guests/', import.meta.url));

/** An input file, refused (exit 2) past its size limit before it is read whole (src/input.ts). */
function readImage(path: string, what: 'kernel' | 'initrd' | 'dtb'): Uint8Array {
  return readInput(path, what, INPUT_LIMITS[what]);
}

export async function main(argv: string[]): Promise<number> {
  const opts = parseBootArgs(argv);
  if (opts === 'help') {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const board = getBoard(opts.board);
  checkMachineShape(board, { smp: opts.smp, mem: opts.mem, gic: opts.gic });
  const kernelPath = opts.kernel ?? `${GUESTS}Image.gz`;
  const initrdPath = opts.initrd ?? (opts.kernel === undefined ? `${GUESTS}initramfs.cpio.gz` : undefined);
  const kernel = readImage(kernelPath, 'kernel');
  const initrd = initrdPath !== undefined ? readImage(initrdPath, 'initrd') : undefined;
  const dtb = opts.dtb !== undefined ? readImage(opts.dtb, 'dtb') : undefined;

  let outputText = '';
  let matched = 0;
  let finish: ((code: number, why: string) => void) | null = null;
  const term = new Terminal({
    onQuit: () => finish?.(0, 'quit'),
    // The reader of our output went away (`| head -1`): end quietly, as after Ctrl-A x.
    onOutputClosed: () => finish?.(matched < opts.expect.length ? 1 : 0, matched < opts.expect.length ? `output closed before it matched /${opts.expect[matched]!.source}/` : 'quit'),
    input: true,
    onOutput: (b) => {
      if (opts.expect.length === 0 && b !== 0x0a) {
        outputText += String.fromCharCode(b);
        if (outputText.length > 4096) outputText = outputText.slice(-2048);
        return;
      }
      outputText += String.fromCharCode(b);
      if (b === 0x0a || outputText.length > 8192) {
        while (matched < opts.expect.length && opts.expect[matched]!.test(outputText)) {
          matched++;
          outputText = '';
        }
        if (opts.expect.length > 0 && matched === opts.expect.length) finish?.(0, 'expectations met');
        if (/Kernel panic - not syncing/.test(outputText)) finish?.(1, 'guest kernel panic');
        if (outputText.length > 8192) outputText = outputText.slice(-4096);
      }
    },
  });

  let machine: Machine;
  try {
    machine = new Machine({ board, smp: opts.smp, memBytes: opts.mem, gicVersion: opts.gic, console: term.console });
    machine.loadLinux({
      kernel,
      initrd,
      dtb,
      cmdline: opts.cmdline ?? [board.defaultCmdline, ...opts.append].filter((s) => s.length > 0).join(' '),
    });
  } catch (e) {
    term.close();
    if (e instanceof ImageError) throw new UsageError(e.message);
    if (e instanceof FdtError) throw new UsageError(`dtb '${opts.dtb}': ${e.message}`);
    throw e;
  }
  if (!opts.native) {
    // The hypervisor (MVM + GVMs) is not part of this version yet: boot natively and say so
    // (after the images loaded: an image error is then the only line).
    process.stderr.write('shyper-emu: the hypervisor is not available yet; booting natively (--native)\n');
  }

  const started = performance.now();
  const result = await new Promise<{ code: number; why: string }>((resolve) => {
    finish = (code, why) => {
      finish = null;
      machine.stop();
      resolve({ code, why });
    };
    const deadline = opts.timeoutSec !== undefined ? started + opts.timeoutSec * 1000 : Infinity;
    const step = (): void => {
      if (finish === null) return;
      const state = machine.runFor(25);
      term.flush();
      if (finish === null) return;
      if (state === 'poweroff') return finish(opts.expect.length > 0 && matched < opts.expect.length ? 1 : 0, opts.expect.length > 0 && matched < opts.expect.length ? `guest powered off before output matched /${opts.expect[matched]!.source}/` : 'poweroff');
      if (state === 'reset') return finish(0, 'guest reset');
      if (state === 'hang') return finish(1, 'all CPUs idle with nothing left to wake them');
      if (performance.now() > deadline) {
        return finish(1, opts.expect.length > matched ? `timeout after ${opts.timeoutSec} s waiting for /${opts.expect[matched]!.source}/` : `timeout after ${opts.timeoutSec} s`);
      }
      setImmediate(step);
    };
    setImmediate(step);
  });
  term.close();
  const seconds = (performance.now() - started) / 1000;
  if (result.code !== 0 || (result.why !== 'poweroff' && result.why !== 'expectations met' && result.why !== 'quit')) {
    process.stderr.write(`shyper-emu: ${result.why}\n`);
  }
  if (opts.stats) {
    const n = machine.instructions();
    process.stderr.write(`stats: instructions=${n} seconds=${seconds.toFixed(3)} mips=${(n / seconds / 1e6).toFixed(1)} virtual_ms=${(machine.virtualNs() / 1e6).toFixed(3)}\n`);
  }
  return result.code;
}
