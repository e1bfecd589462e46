// The seed's network between VMs (issue 10 acceptance, without --hostfwd): MVM 10.0.0.1, GVM1
// 10.0.0.2, GVM2 10.0.0.3 on the switch, the user network's gateway 10.0.2.2 beside them; the
// pings of the table answered, and a file copied GVM1 -> GVM2 with nc arrives whole. The
// acceptance copies 4 MiB; the test copies 1 MiB to stay near two minutes (4 MiB take about a
// minute of wall time more: some 2900 frames at ~50 frames/s on a loaded 2-core host).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinuxVms } from './linux-vms.ts';

let vms: LinuxVms;
const COPY_BYTES = 1 << 20;
const t0 = performance.now();
const secs = (): string => ((performance.now() - t0) / 1000).toFixed(1);

describe('network between three Linux VMs (qemu-virt)', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    vms = new LinuxVms('test/hypervisor/configs/qemu-net3.json', { timeoutMs: 230_000, net: 'user' });
    await Promise.all([0, 1, 2].map((id) => vms.shell(id)));
    console.log(`vm-net: three shells after ${secs()} s`);
    for (const id of [0, 1, 2]) {
      const r = await vms.run(id, `ip addr add 10.0.0.${id + 1}/24 dev eth0 && ip link set eth0 up && ip route add 10.0.2.2 dev eth0`);
      expect(r.status).toBe(0);
    }
  }, 240_000);
  afterAll(() => vms?.stop());

  it('pings .1->.2, .1->.3, .2->.3, .2->10.0.2.2, .3->10.0.2.2 are all answered', async () => {
    for (const [from, to] of [[0, '10.0.0.2'], [0, '10.0.0.3'], [1, '10.0.0.3'], [1, '10.0.2.2'], [2, '10.0.2.2']] as const) {
      const r = await vms.run(from, `ping -c 2 -W 5 ${to}`);
      expect(r.out, `vm${from} -> ${to}`).toMatch(/2 packets transmitted, 2 packets received/);
    }
    console.log(`vm-net: pings done after ${secs()} s`);
  });

  it('a file copied GVM1 -> GVM2 with nc arrives with the same sha256', async () => {
    // Bytes that do not repeat, cheap to make: the first MiB of the busybox binary.
    const made = await vms.run(1, `dd if=/bin/busybox of=/tmp/f bs=65536 count=${COPY_BYTES / 65536} 2>/dev/null; sha256sum /tmp/f`, 120_000);
    const sum = /^([0-9a-f]{64})  \/tmp\/f$/m.exec(made.out)![1]!;
    expect((await vms.run(2, 'nc -l -p 5000 > /tmp/r &')).status).toBe(0);
    await vms.run(2, 'sleep 1');
    const t = performance.now();
    const sent = await vms.run(1, 'nc 10.0.0.3 5000 < /tmp/f', 150_000);
    expect(sent.status).toBe(0);
    const got = await vms.run(2, 'wait; sha256sum /tmp/r', 60_000);
    console.log(`vm-net: ${COPY_BYTES >> 20} MiB over nc in ${((performance.now() - t) / 1000).toFixed(1)} s wall (${secs()} s in all)`);
    expect(got.out).toContain(`${sum}  /tmp/r`);
  });
});
