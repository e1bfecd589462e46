// --net user and --hostfwd through the command line under the hypervisor: one Linux VM (the MVM
// of test/hypervisor/configs/qemu-net1.json, with a virtio-net on the switch) brings eth0 up on
// another subnet, routes to 10.0.2.2 and pings it; a host client on the port the emulator prints
// exchanges a line each way with busybox nc in the VM. (The three-VM network is test/boot/vm-net.)
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';

describe('--hostfwd under the hypervisor (command line)', { timeout: 300_000 }, () => {
  it('tcp:0-mvm:8080 reaches nc in VM 0; the VM pings 10.0.2.2', async () => {
    const commands = [
      'ip addr add 10.0.0.1/24 dev eth0 && ip link set eth0 up && ip route add 10.0.2.2 dev eth0 && ping -c 2 -W 5 10.0.2.2',
      'echo hi-from-mvm | nc -l -p 8080 > /tmp/in; echo nc-status-$?',
      'cat /tmp/in',
      'poweroff -f',
    ];
    let host = '';
    let hostDone = false;
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const p = spawn('node', ['bin/shyper-emu.js', '--board', 'qemu-virt', '--config', 'test/hypervisor/configs/qemu-net1.json', '--net', 'user', '--hostfwd', 'tcp:0-mvm:8080', '--timeout', '250'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      let mark = 0;
      let k = 0;
      let trying = false;
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
          hostDone = true;
        });
        s.write('hi-from-host\n');
      };
      const watch = (): void => {
        const port = /hostfwd tcp:0-mvm:8080: listening on 127\.0\.0\.1:(\d+)/.exec(err);
        if (!trying && port && out.includes('nc -l -p 8080')) {
          trying = true;
          tryConnect(Number(port[1]));
        }
      };
      p.stderr.on('data', (d) => {
        err += d;
        watch();
      });
      p.stdout.on('data', (d) => {
        out += d;
        watch();
        if (!/boot ok/.test(out) || !/# (\x1b\[6n)?$/.test(out.slice(mark))) return;
        mark = out.length;
        if (k < commands.length) p.stdin.write(commands[k++] + '\n');
      });
      const timer = setTimeout(() => p.kill('SIGKILL'), 280_000);
      p.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, out, err });
      });
    });
    expect(r.out).toMatch(/2 packets transmitted, 2 packets received/);
    expect(hostDone).toBe(true);
    expect(host).toBe('hi-from-mvm\n');
    expect(r.out).toMatch(/nc-status-0\r?\n/);
    expect(r.out).toMatch(/cat \/tmp\/in\r?\nhi-from-host\r?\n/);
    expect(r.err).toMatch(/^shyper-emu: hostfwd tcp:0-mvm:8080: listening on 127\.0\.0\.1:\d+$/m);
    expect(r.code).toBe(0);
  });
});
