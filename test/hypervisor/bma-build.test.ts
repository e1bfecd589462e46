// The committed bare-metal test guest (guests/baremetal/bma.bin) is what its sources build to:
// rebuilt with guests/baremetal/build.sh when the cross toolchain recorded beside the image is
// installed (another compiler version may legitimately produce other bytes), compared byte for
// byte. Without the toolchain the tests use the committed image as it is.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BMA_BIN, GUESTS } from './attack-harness.ts';

function toolchain(): string | null {
  try {
    const gcc = execFileSync('aarch64-linux-gnu-gcc', ['--version'], { encoding: 'utf8' }).split('\n')[0];
    const ld = execFileSync('aarch64-linux-gnu-ld', ['--version'], { encoding: 'utf8' }).split('\n')[0];
    return `${gcc}\n${ld}\n`;
  } catch {
    return null;
  }
}

const recorded = readFileSync(`${BMA_BIN}.toolchain`, 'utf8');
const local = toolchain();

describe('guests/baremetal/bma.bin', () => {
  it('carries its magic and parameter block', () => {
    const img = readFileSync(BMA_BIN);
    expect(img.subarray(8, 16).toString('latin1')).toBe('SHYPBMA1');
    expect(img.subarray(0x40, 0x240).every((b) => b === 0)).toBe(true);
    expect(img.length).toBeLessThan(64 << 10);
  });

  it.skipIf(local !== recorded)(`rebuilds byte for byte from its sources (toolchain: ${recorded.split('\n')[0]})`, () => {
    const out = mkdtempSync(join(tmpdir(), 'bma-build-'));
    execFileSync(join(GUESTS, 'baremetal', 'build.sh'), [out], { stdio: 'pipe' });
    expect(readFileSync(join(out, 'bma.bin')).equals(readFileSync(BMA_BIN))).toBe(true);
  });
});
