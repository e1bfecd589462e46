import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const tmp = mkdtempSync(join(tmpdir(), 'dtbcmd-'));
const run = (...args: string[]) => spawnSync('node', ['bin/shyper-emu.js', 'dtb', ...args], { encoding: 'utf8' });

describe('shyper-emu dtb', () => {
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
  });
  it('bad board, size, CPU count or missing -o: one line, exit 2', () => {
    for (const [args, msg] of [
      [['--board', 'nope', '-o', '/dev/null'], /unknown board 'nope' \(boards: rk3588, qemu-virt, pi4, tx2\)/],
      [['--board', 'rk3588', '--mem', 'lots', '-o', '/dev/null'], /--mem: 'lots' is not a size/],
      [['--board', 'pi4', '--smp', '9', '-o', '/dev/null'], /has 1 to 4 CPUs/],
      [['--board', 'pi4'], /missing -o/],
      [['--board', 'rk3588', '--gic', '2', '-o', '/dev/null'], /has GICv3/],
    ] as const) {
      const r = run(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
