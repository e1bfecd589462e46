// Without shyper.test=1 the kit's init starts a shell on the console: typed commands run.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('interactive console', { timeout: 120_000 }, () => {
  it('the guest shell answers commands typed on stdin, and poweroff ends the run with exit 0', async () => {
    const p = spawn('node', ['bin/shyper-emu.js', '--board', 'qemu-virt', '--native', '--smp', '2', '--kernel', 'guests/Image.gz', '--initrd', 'guests/initramfs.cpio.gz', '--timeout', '100'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let sent = 0;
    const code = await new Promise<number | null>((resolve) => {
      p.stdout.on('data', (d) => {
        out += d;
        // Type only once the shell has printed its prompt: a UART drops what arrives before
        // the driver opens the port, as on hardware.
        if (sent === 0 && /boot ok[\s\S]*# (\x1b\[6n)?$/.test(out)) {
          sent = 1;
          p.stdin.write('echo answer-$((6*7))\n');
        } else if (sent === 1 && out.includes('answer-42')) {
          sent = 2;
          p.stdin.write('poweroff -f\n');
        }
      });
      p.on('close', resolve);
    });
    expect(out).toContain('answer-42');
    expect(out).toContain('reboot: Power down');
    expect(code).toBe(0);
  });
});
