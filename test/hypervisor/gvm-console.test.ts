// The default VM set's GVM consoles are hvc0 (virtio-console), as the seed's device table has it:
// their lines reach the terminal through the console multiplexer with their [vmN] prefix, like
// the MVM's (a passed-through PL011); the boot messages before hvc0 starts come from earlycon on
// the emulated PL011, and none twice.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('default set (qemu-virt): GVM consoles through virtio-console', { timeout: 240_000 }, () => {
  it('every VM reaches boot ok; GVM lines carry [vm1]/[vm2] and come from earlycon, then hvc0', async () => {
    const t0 = performance.now();
    const p = spawn('node', ['bin/shyper-emu.js', '--board', 'qemu-virt', '--timeout', '220'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const all = (): boolean => [0, 1, 2].every((i) => new RegExp(`^\\[vm${i}\\] shyper-guest: boot ok`, 'm').test(out));
    await new Promise<void>((resolve) => {
      p.stdout.on('data', (d) => {
        out += d;
        if (all()) p.kill('SIGKILL');
      });
      p.stderr.on('data', (d) => (err += d));
      p.on('close', () => resolve());
    });
    console.log(`gvm-console: three VMs at boot ok after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(all(), `stdout ends:\n${out.slice(-2000)}\nstderr:\n${err}`).toBe(true);
    for (const vm of [1, 2]) {
      const lines = out.split('\n').filter((l) => l.startsWith(`[vm${vm}] `));
      const text = lines.join('\n');
      expect(text).toContain('earlycon: pl11 at MMIO 0x0000000009000000');
      expect(text).toMatch(/printk: console \[hvc0\] enabled/);
      expect(text).toMatch(/printk: bootconsole \[pl11\] disabled/);
      expect(text).toMatch(/Kernel command line: earlycon=pl011,0x9000000 console=hvc0/);
      expect(lines.filter((l) => l.includes('Run /init as init process'))).toHaveLength(1);
    }
    expect(out).toMatch(/^\[vm0\] .*printk: console \[ttyAMA0\] enabled/m);
    expect(err).not.toMatch(/needs reset|data abort/);
  });
});
