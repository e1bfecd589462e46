// The seed's network (issue 10 acceptance), in one boot of three Linux VMs under the hypervisor
// (test/hypervisor/configs/qemu-net3.json: the default VM sets have no NICs): MVM 10.0.0.1, GVM1
// 10.0.0.2, GVM2 10.0.0.3 on the switch between VMs, the user network's gateway 10.0.2.2 beside
// them. The pings of the table are answered; host clients reach guest services through --hostfwd
// (busybox httpd in GVM1 serving a file whose sha256 GVM1 computed; nc in GVM2 taking an upload
// whose sha256 GVM2 computes); a 4 MiB file of random bytes copied GVM1 -> GVM2 with nc arrives
// with the sha256 GVM1 computed. Oracles: the guests' own sha256sum and Node's crypto, never the
// emulator's bytes compared with themselves.
import { createHash } from 'node:crypto';
import { get } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostForwarder } from '../../emulator/net/hostfwd.ts';
import { hostfwdOption, openHostForwards } from '../../src/net-user.ts';
import { LinuxVms } from '../hypervisor/linux-vms.ts';

let vms: LinuxVms;
let fwd: HostForwarder;
const ports = new Map<string, number>();
const COPY_BYTES = 4 << 20;
const t0 = performance.now();
const secs = (): string => ((performance.now() - t0) / 1000).toFixed(1);

/** --hostfwd as the command line sets it up (src/net-user.ts), on the harness's gateway; port 0: any, as printed. */
async function forward(...specs: string[]): Promise<void> {
  const log = (line: string): void => {
    vms.log.push(line);
    const m = /hostfwd (\S+): listening on 127\.0\.0\.1:(\d+)$/.exec(line);
    if (m) ports.set(m[1]!, Number(m[2]));
  };
  fwd = await openHostForwards(vms.hub.gateway!, specs.map(hostfwdOption), { native: false, vms: vms.vms, log, onActivity: () => {} });
  expect([...ports.keys()]).toEqual(specs);
}

/** A GET through the forward; asked again (a few times) while the guest refuses the connection. */
function httpGet(port: number, path: string, tries = 10): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.on('error', reject);
    }).on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET' && tries > 1) setTimeout(() => httpGet(port, path, tries - 1).then(resolve, reject), 300);
      else reject(e);
    });
  });
}

const sha = (b: Buffer | Uint8Array): string => createHash('sha256').update(b).digest('hex');
const shaOf = (out: string, file: string): string => new RegExp(`^([0-9a-f]{64})  ${file.replace(/\//g, '\\/')}$`, 'm').exec(out)?.[1] ?? `no sha256 of ${file} in: ${out}`;

describe('network between three Linux VMs, the gateway and the host (qemu-virt)', { timeout: 900_000 }, () => {
  beforeAll(async () => {
    vms = new LinuxVms('test/hypervisor/configs/qemu-net3.json', { timeoutMs: 880_000, net: 'user' });
    await forward('tcp:0-gvm1:8080', 'tcp:0-vm2:9000');
    await Promise.all([0, 1, 2].map((id) => vms.shell(id)));
    console.log(`vm-net: three shells after ${secs()} s`);
    for (const id of [0, 1, 2]) {
      const r = await vms.run(id, `ip addr add 10.0.0.${id + 1}/24 dev eth0 && ip link set eth0 up && ip route add 10.0.2.2 dev eth0`);
      expect(r.status).toBe(0);
    }
  }, 900_000);
  afterAll(() => {
    fwd?.close();
    vms?.stop();
  });

  it('pings .1->.2, .1->.3, .2->.3, .2->10.0.2.2, .3->10.0.2.2 are all answered', async () => {
    for (const [from, to] of [[0, '10.0.0.2'], [0, '10.0.0.3'], [1, '10.0.0.3'], [1, '10.0.2.2'], [2, '10.0.2.2']] as const) {
      const r = await vms.run(from, `ping -c 2 -W 5 ${to}`);
      expect(r.out, `vm${from} -> ${to}`).toMatch(/2 packets transmitted, 2 packets received/);
    }
    // The gateway learned each GVM's address from its traffic (what --hostfwd connects to).
    expect(vms.hub.gateway!.neighbours.get('02:53:48:59:01:00')).toEqual(Uint8Array.of(10, 0, 0, 2));
    expect(vms.hub.gateway!.neighbours.get('02:53:48:59:02:00')).toEqual(Uint8Array.of(10, 0, 0, 3));
    console.log(`vm-net: pings done after ${secs()} s`);
  });

  it('--hostfwd: a host HTTP client gets a page and a 256 KiB file from busybox httpd in GVM1', async () => {
    const made = await vms.run(1, 'mkdir -p /tmp/www && echo "hello from gvm1 httpd" > /tmp/www/index.html && dd if=/dev/urandom of=/tmp/www/blob bs=4096 count=64 2>/dev/null && sha256sum /tmp/www/blob && httpd -p 8080 -h /tmp/www');
    expect(made.status).toBe(0);
    const t = performance.now();
    const page = await httpGet(ports.get('tcp:0-gvm1:8080')!, '/');
    expect(page.status).toBe(200);
    expect(page.body.toString()).toBe('hello from gvm1 httpd\n');
    const blob = await httpGet(ports.get('tcp:0-gvm1:8080')!, '/blob');
    expect(blob.status).toBe(200);
    expect(blob.body.length).toBe(256 << 10);
    expect(sha(blob.body)).toBe(shaOf(made.out, '/tmp/www/blob'));
    console.log(`vm-net: hostfwd GET of 256 KiB in ${((performance.now() - t) / 1000).toFixed(1)} s wall`);
  });

  it('--hostfwd: 256 KiB uploaded from the host to nc in GVM2 arrive with Node\'s sha256', async () => {
    expect((await vms.run(2, 'nc -l -p 9000 > /tmp/up &')).status).toBe(0);
    const data = Buffer.from(Uint8Array.from({ length: 256 << 10 }, (_, i) => (i * 131 + (i >> 10) * 7) & 0xff));
    // nc may not listen yet: connect again while the guest refuses.
    await new Promise<void>((resolve, reject) => {
      let tries = 0;
      const attempt = (): void => {
        const s = connect(ports.get('tcp:0-vm2:9000')!, '127.0.0.1');
        s.on('error', (e) => (++tries < 50 ? setTimeout(attempt, 300) : reject(e)));
        s.on('close', (hadError) => hadError || resolve());
        s.on('connect', () => s.end(data));
        s.resume();
      };
      attempt();
    });
    const got = await vms.run(2, 'wait; sha256sum /tmp/up', 120_000);
    expect(shaOf(got.out, '/tmp/up')).toBe(sha(data));
  });

  it('a 4 MiB file of random bytes copied GVM1 -> GVM2 with nc arrives with the same sha256', async () => {
    const made = await vms.run(1, `dd if=/dev/urandom of=/tmp/f bs=65536 count=${COPY_BYTES / 65536} 2>/dev/null; ls -l /tmp/f; sha256sum /tmp/f`, 120_000);
    expect(made.out).toMatch(new RegExp(`\\s${COPY_BYTES}\\s`));
    const sum = shaOf(made.out, '/tmp/f');
    expect(sum).toMatch(/^[0-9a-f]{64}$/);
    expect((await vms.run(2, 'nc -l -p 5000 > /tmp/r &')).status).toBe(0);
    await vms.run(2, 'sleep 1');
    const t = performance.now();
    const sent = await vms.run(1, 'nc 10.0.0.3 5000 < /tmp/f', 400_000);
    expect(sent.status).toBe(0);
    const got = await vms.run(2, 'wait; ls -l /tmp/r; sha256sum /tmp/r', 120_000);
    console.log(`vm-net: ${COPY_BYTES >> 20} MiB over nc in ${((performance.now() - t) / 1000).toFixed(1)} s wall (${secs()} s in all)`);
    expect(shaOf(got.out, '/tmp/r')).toBe(sum);
  });
});
