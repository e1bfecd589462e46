// Reading the translator's figures back from a run: the `jit:` line of --stats
// (jit/settings.ts jitStatsLine) and the records a translation cache file holds (jit/persist.ts).
import { readFileSync } from 'node:fs';
import { TranslationCache } from '../../emulator/arm64/jit/persist.ts';

/** A figure of the `jit:` line (`name=N`), NaN when absent. */
export function jitFigure(stderr: string, name: string): number {
  return Number(new RegExp(` ${name}=(\\d+)`).exec(stderr)?.[1]);
}

/** The records a translation cache file holds (read with the version string its header names). */
export function cacheRecords(file: string): number {
  const buf = readFileSync(file);
  return new TranslationCache(file, buf.toString('utf8', 12, 12 + buf.readUInt32LE(8))).loaded.length;
}
