import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Fdt } from '../../emulator/fdt/fdt.ts';
import { describeOracle } from '../oracles.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dtbcmd-'));
const run = (...args: string[]) => spawnSync('node', ['bin/shyper-emu.js', 'dtb', ...args], { encoding: 'utf8' });

describeOracle('shyper-emu dtb, read by dtc', ['dtc'], () => {
  it('writes a tree dtc accepts, with the CPUs and memory asked for', () => {
    const f = join(tmp, 'virt.dtb');
    const r = run('--board', 'qemu-virt', '--smp', '2', '--mem', '256M', '--gic', '2', '-o', f);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const dts = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', f], { encoding: 'utf8' });
    expect(dts.status).toBe(0);
    expect(dts.stdout).toContain('reg = <0x00 0x40000000 0x00 0x10000000>;');
    expect((dts.stdout.match(/device_type = "cpu"/g) ?? []).length).toBe(2);
    expect(dts.stdout).toContain('compatible = "arm,cortex-a15-gic";');
    expect(dts.stdout).toMatch(/rng-seed = <(0x[0-9a-f]+ ){7}0x[0-9a-f]+>;/);
    expect(dts.stdout).toMatch(/kaslr-seed = <0x[0-9a-f]+ 0x[0-9a-f]+>;/);
  });
});

describe('shyper-emu dtb', () => {
  it('--seed N picks the boot seeds: the same seed, the same tree', () => {
    const seeds = (...args: string[]) => {
      const f = join(tmp, `s${Math.random().toString(36).slice(2)}.dtb`);
      const r = run('--board', 'pi4', ...args, '-o', f);
      expect(r.status).toBe(0);
      const c = Fdt.decode(new Uint8Array(readFileSync(f))).node('/chosen')!;
      return Buffer.concat([c.get('rng-seed')!, c.get('kaslr-seed')!]).toString('hex');
    };
    expect(seeds('--seed', '7')).toBe(seeds('--seed', '0x7'));
    expect(seeds()).toBe(seeds('--seed', '0'));
    expect(seeds('--seed', '7')).not.toBe(seeds('--seed', '8'));
    expect(seeds('--seed', '18446744073709551615')).toHaveLength(80);
  });
  it('bad board, size, CPU count, seed or missing -o: one line, exit 2', () => {
    for (const [args, msg] of [
      [['--board', 'nope', '-o', '/dev/null'], /unknown board 'nope' \(boards: rk3588, qemu-virt, pi4, tx2\)/],
      [['--board', 'rk3588', '--mem', 'lots', '-o', '/dev/null'], /--mem: 'lots' is not a size/],
      [['--board', 'pi4', '--smp', '9', '-o', '/dev/null'], /has 1 to 4 CPUs/],
      [['--board', 'pi4'], /missing -o/],
      [['--board', 'rk3588', '--gic', '2', '-o', '/dev/null'], /has GICv3/],
      [['--board', 'pi4', '--seed', '18446744073709551616', '-o', '/dev/null'], /--seed: '18446744073709551616' is not a seed/],
      [['--board', 'pi4', '--seed', '-1', '-o', '/dev/null'], /--seed: '-1' is not a seed/],
    ] as const) {
      const r = run(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
