// The guest sees the board's real cores (issue 13): on rk3588 Linux detects the Armv8.2 features
// of Cortex-A76/A55 — LSE atomics patched in by its alternatives, RCpc, CRC32 — and every CPU's
// /proc/cpuinfo lists what the real board lists (minus evtstrm: the kit's kernel has
// CONFIG_ARM_ARCH_TIMER_EVTSTREAM off). On pi4 the Cortex-A72s of BCM2711 are Armv8.0 + CRC32.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function cpuinfo(board: string): Promise<{ code: number | null; out: string }> {
  const p = spawn('node', ['bin/shyper-emu.js', '--board', board, '--native', '--kernel', 'guests/Image.gz', '--initrd', 'guests/initramfs.cpio.gz', '--timeout', '200'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let sent = 0;
  return new Promise((resolve) => {
    p.stdout.on('data', (d) => {
      out += d;
      // Type only once the shell has printed its prompt (see shell.test.ts).
      if (sent === 0 && /boot ok[\s\S]*# (\x1b\[6n)?$/.test(out)) {
        sent = 1;
        p.stdin.write("grep Features /proc/cpuinfo | sort | uniq -c; echo end-$((1+1))\n");
      } else if (sent === 1 && out.includes('end-2')) {
        sent = 2;
        p.stdin.write('poweroff -f\n');
      }
    });
    p.on('close', (code) => resolve({ code, out }));
  });
}

describe('the cores a guest sees', { timeout: 300_000 }, () => {
  it('rk3588: LSE atomics detected and patched in, all 8 CPUs list the Cortex-A76/A55 features', async () => {
    const r = await cpuinfo('rk3588');
    expect(r.code).toBe(0);
    expect(r.out).toContain('CPU features: detected: LSE atomic instructions');
    expect(r.out).toContain('CPU features: detected: RCpc load-acquire (LDAPR)');
    expect(r.out).toMatch(/^\s+8 Features\t: fp asimd aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\r?$/m);
    expect(r.out).not.toMatch(/UNDEFINED/);
  });
  it('pi4: four Armv8.0 Cortex-A72s without the Cryptographic Extension, no LSE', async () => {
    const r = await cpuinfo('pi4');
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('LSE atomic instructions');
    expect(r.out).toMatch(/^\s+4 Features\t: fp asimd crc32 cpuid\r?$/m);
  });
});
