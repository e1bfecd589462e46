// virtio-mmio devices in Linux VMs under the hypervisor (test/hypervisor/configs/qemu-virtio.json):
// an MVM and a GVM, each with the kit disk (one gzip image shared read-only), a NIC on the switch
// between VMs, and a console pair joined in Rust-Shyper's peer mode (the MVM's hvc0 is the GVM's
// hvc1); the GVM's own console is hvc0, with an emulated PL011 for earlycon; the user network's
// gateway (--net user) on the switch. One boot serves every test here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinuxVms } from './linux-vms.ts';

let vms: LinuxVms;
const t0 = performance.now();

describe('virtio devices in Linux VMs (qemu-virt, MVM + GVM)', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    vms = new LinuxVms('test/hypervisor/configs/qemu-virtio.json', { timeoutMs: 170_000, net: 'user' });
    await Promise.all([vms.shell(0), vms.shell(1)]);
    console.log(`vm-virtio: both shells after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }, 180_000);
  afterAll(() => vms?.stop());

  it('the GVM console is hvc0: boot messages from earlycon on the emulated PL011, then hvc0', () => {
    const out = vms.out(1);
    expect(out).toMatch(/earlycon: pl11 at MMIO 0x0000000009000000/);
    expect(out).toMatch(/printk: console \[hvc0\] enabled/);
    expect(out).toMatch(/printk: bootconsole \[pl11\] disabled/);
    // Each line once: earlycon stops where hvc0 starts (no replay of the log buffer).
    expect(out.match(/Run \/init as init process/g)).toHaveLength(1);
  });

  it('the kit disk mounts and hello.txt reads back in every VM that has it', async () => {
    for (const id of [0, 1]) {
      const r = await vms.run(id, 'mount -o ro /dev/vda /mnt && cat /mnt/hello.txt && umount /mnt');
      expect(r.out, `vm${id}`).toContain('hello from virtio-blk');
      expect(r.status).toBe(0);
    }
  });

  it('the disk is read-only: a write is refused by the device', async () => {
    const r = await vms.run(1, 'dd if=/dev/zero of=/dev/vda bs=512 count=1 conv=fsync 2>&1');
    expect(r.status).not.toBe(0);
  });

  it('the VMs ping each other through the switch (ARP broadcast, then unicast by MAC)', async () => {
    expect((await vms.run(0, 'ip addr add 10.0.0.1/24 dev eth0 && ip link set eth0 up')).status).toBe(0);
    expect((await vms.run(1, 'ip addr add 10.0.0.2/24 dev eth0 && ip link set eth0 up')).status).toBe(0);
    const a = await vms.run(0, 'ping -c 3 -W 5 10.0.0.2');
    expect(a.out).toMatch(/3 packets transmitted, 3 packets received/);
    const b = await vms.run(1, 'ping -c 2 -W 5 10.0.0.1');
    expect(b.out).toMatch(/2 packets transmitted, 2 packets received/);
    expect((await vms.run(1, 'cat /sys/class/net/eth0/address')).out).toMatch(/^02:53:48:59:01:00$/m);
    expect((await vms.run(1, 'ip neigh')).out).toMatch(/10\.0\.0\.1 dev eth0 lladdr 74:56:aa:0f:47:d0/);
    expect(vms.hub.netSwitch.stats.forwarded).toBeGreaterThanOrEqual(10);
  });

  it('--net user: the gateway 10.0.2.2 on the switch answers ARP and ping from a VM of another subnet', async () => {
    const r = await vms.run(1, 'ip route add 10.0.2.2 dev eth0 && ping -c 2 -W 5 10.0.2.2');
    expect(r.out).toMatch(/2 packets transmitted, 2 packets received/);
    expect(vms.hub.gateway!.stats).toMatchObject({ arpReplies: 1, echoReplies: 2 });
  });

  it('peer consoles: what the GVM writes to hvc1 the MVM reads on hvc0, and back', async () => {
    // The MVM keeps its end open, raw and without echo, and collects what arrives.
    expect((await vms.run(0, 'exec 3<>/dev/hvc0; busybox stty -F /dev/hvc0 raw -echo; cat <&3 > /tmp/peer &')).status).toBe(0);
    expect((await vms.run(1, 'echo from-gvm-$((6*7)) > /dev/hvc1')).status).toBe(0);
    await vms.run(0, 'sleep 1');
    expect((await vms.run(0, 'cat /tmp/peer')).out).toContain('from-gvm-42');
    vms.type(0, 'echo from-mvm-$((7*8)) >&3\n');
    const r = await vms.run(1, 'read -t 10 line < /dev/hvc1; echo "got:$line"');
    expect(r.out).toContain('got:from-mvm-56');
  });
});
