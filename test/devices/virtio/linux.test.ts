// The virtio devices under the real Linux drivers: the shipped kit (guests/Image.gz +
// initramfs.cpio.gz) booted natively on qemu-virt with --disk; virtio_mmio probes the board's
// slots, virtio_blk makes /dev/vda, ext2 mounts, writes reach the image file.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'virtio-linux-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const base = ['bin/shyper-emu.js', '--board', 'qemu-virt', '--native', '--smp', '1', '--timeout', '200'];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/**
 * Boots with `args` and types `commands` one at a time, each after the shell's prompt (a UART
 * drops what arrives before the driver opens the port). After the last one: `poweroff -f`, or
 * SIGINT to the emulator when `interrupt` (Ctrl-C on a non-interactive run).
 */
function session(args: string[], commands: string[], interrupt = false, watch?: (out: string, err: string) => void): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn('node', [...base, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let mark = 0;
    let k = 0;
    p.stderr.on('data', (d) => {
      err += d;
      watch?.(out, err);
    });
    p.stdout.on('data', (d) => {
      out += d;
      watch?.(out, err);
      if (!/boot ok/.test(out) || !/# (\x1b\[6n)?$/.test(out.slice(mark))) return;
      mark = out.length;
      if (k < commands.length) p.stdin.write(commands[k++] + '\n');
      else if (k++ === commands.length) {
        if (interrupt) p.kill('SIGINT');
        else p.stdin.write('poweroff -f\n');
      }
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), 230_000);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err });
    });
  });
}

function freshDisk(name: string): string {
  const path = join(dir, name);
  writeFileSync(path, gunzipSync(readFileSync('guests/disk.ext2.gz')));
  return path;
}

describe('virtio under Linux (kit kernel, qemu-virt, native)', { timeout: 240_000 }, () => {
  it('--disk guests/disk.ext2.gz: virtio_blk probes it as vda (read-only, with a notice); the test init lists it', async () => {
    const r = await session(['--append', 'shyper.test=1', '--disk', 'guests/disk.ext2.gz'], []);
    expect(r.out).toMatch(/virtio_blk virtio0: \[vda\] 8192 512-byte logical blocks/);
    expect(r.out).toContain('shyper-guest: disk /dev/vda');
    expect(r.out).toContain('shyper-guest: test done');
    expect(r.err).toContain("shyper-emu: disk 'guests/disk.ext2.gz' is gzip-compressed: attached read-only (gunzip it for a writable disk)");
    expect(r.code).toBe(0);
  });

  it('interactive: mounts /dev/vda, reads hello.txt, writes a file that is in the image after power-off; sees the rng', async () => {
    const disk = freshDisk('rw.ext2');
    const hwrng = /^CONFIG_HW_RANDOM_VIRTIO=y/m.test(readFileSync('guests/kernel.config', 'utf8'));
    const r = await session(['--disk', disk], [
      'mount /dev/vda /mnt',
      'cat /mnt/hello.txt',
      'echo written-by-guest-$((6*7)) > /mnt/note.txt',
      'sync',
      'umount /mnt',
      'cat /sys/bus/virtio/devices/*/device',
      'cat /dev/hwrng | head -c 16 | hexdump; echo hwrng-returned',
    ]);
    expect(r.out).toContain('hello from virtio-blk');
    // Slot 0 is the disk (virtio-blk, 2), the last slot the entropy device (virtio-rng, 4).
    expect(r.out).toMatch(/0x0002\r?\n0x0004\r?\n/);
    expect(r.out).toContain('hwrng-returned');
    if (hwrng) expect(r.out).toMatch(/^0000000 [0-9a-f]{4}( [0-9a-f]{4}){7}\r?$/m);
    // The kit's kernel is built without CONFIG_HW_RANDOM (guests/kernel.config): no /dev/hwrng.
    else expect(r.out).toContain("can't open '/dev/hwrng'");
    expect(r.out).toContain('reboot: Power down');
    expect(r.code).toBe(0);
    expect(readFileSync(disk).includes('written-by-guest-42\n')).toBe(true);
  });

  it('a write synced by the guest survives a Ctrl-C (SIGINT) of the emulator, and the next run reads it back', async () => {
    const disk = freshDisk('ctrl-c.ext2');
    const first = await session(['--disk', disk], ['mount /dev/vda /mnt', 'echo before-ctrl-c > /mnt/kept.txt', 'sync'], true);
    expect(first.signal).toBe('SIGINT');
    expect(first.out).not.toContain('reboot: Power down');
    expect(readFileSync(disk).includes('before-ctrl-c\n')).toBe(true);
    const second = await session(['--disk', disk], ['mount /dev/vda /mnt', 'cat /mnt/kept.txt', 'umount /mnt']);
    expect(second.out).toMatch(/cat \/mnt\/kept.txt\r?\nbefore-ctrl-c\r?\n/);
    expect(second.code).toBe(0);
  });

  it('--disk + --net user + --hostfwd: mounts /dev/vda, prints hello.txt, brings eth0 up, pings 10.0.2.2; a host client reaches nc in the guest', async () => {
    const disk = freshDisk('net.ext2');
    // The host side of --hostfwd tcp:0-:8080: once the guest's nc listens, connect (again while
    // the guest still refuses), send a line, read the guest's line, then close our side.
    let host = '';
    let hostState: 'idle' | 'trying' | 'done' = 'idle';
    const tryConnect = (port: number): void => {
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.on('data', (d) => {
        got += d;
        if (got.includes('\n')) s.end();
      });
      s.on('error', () => setTimeout(() => tryConnect(port), 300));
      s.on('end', () => {
        host = got;
        hostState = 'done';
      });
      s.write('host-says-hi\n');
    };
    const r = await session(['--disk', disk, '--net', 'user', '--hostfwd', 'tcp:0-:8080'], [
      'mount /dev/vda /mnt && cat /mnt/hello.txt',
      'ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up',
      'ping -c 3 -W 5 10.0.2.2',
      'cat /sys/class/net/eth0/address',
      'echo guest-says-hi | nc -l -p 8080 > /tmp/from-host; echo nc-status-$?',
      'cat /tmp/from-host',
    ], false, (out, err) => {
      const port = /hostfwd tcp:0-:8080: listening on 127\.0\.0\.1:(\d+)/.exec(err);
      if (hostState === 'idle' && port && out.includes('nc -l -p 8080')) {
        hostState = 'trying';
        tryConnect(Number(port[1]));
      }
    });
    expect(r.out).toContain('hello from virtio-blk');
    expect(r.out).toMatch(/3 packets transmitted, 3 packets received/);
    expect(r.out).toMatch(/^52:54:00:12:34:56\r?$/m);
    expect(hostState).toBe('done');
    expect(host).toBe('guest-says-hi\n');
    expect(r.out).toMatch(/nc-status-0\r?\n/);
    expect(r.out).toMatch(/cat \/tmp\/from-host\r?\nhost-says-hi\r?\n/);
    expect(r.code).toBe(0);
  });

  it('a missing --disk file: one clear line, exit 2', async () => {
    const r = await session(['--disk', join(dir, 'absent.img')], []);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(`shyper-emu: disk '${join(dir, 'absent.img')}': no such file`);
  });
});
