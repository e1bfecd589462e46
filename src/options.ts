// Parsing of option values shared by the subcommands; errors are the user's (exit 2).
import { UsageError } from './errors.ts';
import { boards } from '../boards/index.ts';
import type { BoardDescription } from '../boards/types.ts';

export function getBoard(name: string): BoardDescription {
  const b = boards[name];
  if (!b) throw new UsageError(`unknown board '${name}' (boards: ${Object.keys(boards).join(', ')})`);
  return b;
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
