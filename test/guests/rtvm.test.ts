// guests/rtvm: the committed binaries are what build.sh makes from the sources (checked when the
// same cross compiler is installed), and each board's build boots natively from its arm64 Image
// header and reports latencies on the board's UART.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../emulator/machine.ts';
import { HostConsole } from '../../emulator/devices/console.ts';
import { parseImageHeader } from '../../emulator/boot/linux-image.ts';
import { boards } from '../../boards/index.ts';
import { parseReport } from '../../src/rt-latency.ts';

const DIR = fileURLToPath(new URL('../../guests/rtvm/', import.meta.url));
const BINS = ['rtvm-rk3588.bin', 'rtvm-qemu-virt.bin', 'idle.bin'];

function compiler(): string | null {
  try {
    return execFileSync('aarch64-linux-gnu-gcc', ['--version'], { encoding: 'utf8' }).split('\n')[0]!;
  } catch {
    return null;
  }
}

describe('guests/rtvm', () => {
  const cc = compiler();
  const built = readFileSync(join(DIR, 'toolchain.txt'), 'utf8').trim();
  it.skipIf(cc !== built)(`build.sh rebuilds the committed binaries byte for byte${cc === built ? '' : ` (SKIPPED: needs ${built}, have ${cc ?? 'no aarch64-linux-gnu-gcc'})`}`, () => {
    const out = mkdtempSync(join(tmpdir(), 'rtvm-'));
    try {
      execFileSync('sh', [join(DIR, 'build.sh'), out], { stdio: 'pipe' });
      for (const b of BINS) expect(Buffer.compare(readFileSync(join(out, b)), readFileSync(join(DIR, b))), b).toBe(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('each binary is an arm64 Image (booting.rst header)', () => {
    for (const b of BINS) expect(parseImageHeader(new Uint8Array(readFileSync(join(DIR, b)))).textOffset, b).toBe(0);
  });

  it('qemu-virt build, natively: PL011 output, 38.4 cycles per 62.5 MHz tick, a few dozen cycles of latency', () => {
    let out = '';
    const m = new Machine({ board: boards['qemu-virt']!, smp: 1, console: new HostConsole((b) => (out += String.fromCharCode(b))) });
    m.loadLinux({ kernel: new Uint8Array(readFileSync(join(DIR, 'rtvm-qemu-virt.bin'))), cmdline: '' });
    for (let i = 0; i < 20_000 && !/report 1: hist/.test(out); i++) m.runSlice();
    expect(out).toMatch(/rtvm: qemu-virt mpidr 0x80000000 midr 0x414fd0b0 cntfrq 62500000 Hz, 38\.\d\d cycles\/tick, period 6250 ticks, 32 periods\/report/);
    const r = out.split('\n').map(parseReport).find((x) => x !== null)!;
    expect(r.n).toBe(1);
    expect(r.min).toBeGreaterThan(0);
    expect(r.max).toBeLessThan(64);
  });
});
