// Parsing of option values shared by the subcommands; errors are the user's (exit 2).
import { UsageError } from './errors.ts';
import { boards } from '../boards/index.ts';
import type { BoardDescription } from '../boards/types.ts';

/** The board named `name`: only the board table's own keys count (not `__proto__`, `toString`...). */
export function getBoard(name: string): BoardDescription {
  const b = Object.hasOwn(boards, name) ? boards[name] : undefined;
  if (!b) throw new UsageError(`unknown board '${name}' (boards: ${Object.keys(boards).join(', ')})`);
  return b;
}

/**
 * What a machine of board `b` can be: 1..N CPUs, 16 MiB..max RAM in 4 KiB units, a GIC version
 * the board has. The same rules as the Machine's own (emulator/machine.ts), checked up front so
 * every command (boot, dtb) refuses the same options with the same line.
 */
export function checkMachineShape(b: BoardDescription, o: { smp?: number; mem?: number; gic?: 2 | 3 }): void {
  if (o.smp !== undefined && (o.smp < 1 || o.smp > b.cpus.length)) throw new UsageError(`--smp ${o.smp}: board ${b.name} has 1 to ${b.cpus.length} CPUs`);
  if (o.mem !== undefined && (o.mem > b.memory.maxSize || o.mem < 16 * 2 ** 20 || o.mem % 4096 !== 0)) {
    throw new UsageError(`--mem: board ${b.name} takes 16 MiB to ${b.memory.maxSize / 2 ** 20} MiB of RAM in 4 KiB units`);
  }
  if (o.gic !== undefined && !b.gic.versions.includes(o.gic)) throw new UsageError(`--gic ${o.gic}: board ${b.name} has GICv${b.gic.versions.join('/v')}`);
}

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 };

/** "512M", "2G", "1048576", "0x20000000" → bytes. */
export function parseSize(text: string, flag: string): number {
  const m = /^(0x[0-9a-f]+|\d+)([KMG]?)(i?B)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${flag}: '${text}' is not a size (e.g. 512M, 2G)`);
  const v = Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
  if (!Number.isSafeInteger(v) || v <= 0) throw new UsageError(`${flag}: '${text}' is not a usable size`);
  return v;
}

export function parseCount(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${flag}: '${text}' is not a positive number`);
  return Number(text);
}

/** "--seed N": a 64-bit seed, decimal or 0x-hex. */
export function parseSeed(text: string, flag = '--seed'): bigint {
  const t = text.trim();
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(t) || BigInt(t) >= 1n << 64n) throw new UsageError(`${flag}: '${text}' is not a seed (0 to 2^64-1, decimal or 0x hex)`);
  return BigInt(t);
}
