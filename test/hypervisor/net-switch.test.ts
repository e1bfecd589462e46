// The switch between VMs (Rust-Shyper net.rs): broadcast only for ARP, 33:33:* only for IPv6, both
// to every other port; unicast to the MAC's owner; unknown MACs and runts dropped.
import { describe, expect, it } from 'vitest';
import { ETH_P_ARP, ETH_P_IPV6, NetSwitch, type SwitchPort } from '../../hypervisor/devices/net-switch.ts';

const mac = (n: number): Uint8Array => Uint8Array.of(0x02, 0, 0, 0, 0, n);

function rig() {
  const sw = new NetSwitch();
  const got: Record<string, Uint8Array[]> = {};
  const full = new Set<string>();
  const ports = [1, 2, 3].map((n) => {
    const name = `vm${n}`;
    got[name] = [];
    const port: SwitchPort = { name, receive: (f) => (full.has(name) ? false : (got[name]!.push(f.slice()), true)) };
    return { port, tx: sw.attach(mac(n), port) };
  });
  return { sw, got, full, ports };
}

function frame(dst: Uint8Array | number[], type: number, len = 60): Uint8Array {
  const f = new Uint8Array(len);
  f.set(dst, 0);
  f.set(mac(9), 6);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  return f;
}

const BCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

describe('NetSwitch', () => {
  it('a broadcast ARP goes to every other port; a broadcast of another type is dropped', () => {
    const { sw, got, ports } = rig();
    ports[0]!.tx(frame(BCAST, ETH_P_ARP));
    expect([got.vm1!.length, got.vm2!.length, got.vm3!.length]).toEqual([0, 1, 1]);
    ports[0]!.tx(frame(BCAST, 0x0800));
    expect(got.vm2!.length).toBe(1);
    expect(sw.stats).toEqual({ forwarded: 2, filtered: 1, refused: 0 });
  });

  it('33:33:* IPv6 multicast goes to every other port; 33:33:* of another type is dropped', () => {
    const { got, ports } = rig();
    ports[1]!.tx(frame([0x33, 0x33, 0xff, 0, 0, 1], ETH_P_IPV6));
    expect([got.vm1!.length, got.vm2!.length, got.vm3!.length]).toEqual([1, 0, 1]);
    ports[1]!.tx(frame([0x33, 0x33, 0, 0, 0, 1], ETH_P_ARP));
    ports[1]!.tx(frame([0x01, 0x00, 0x5e, 0, 0, 1], 0x0800)); // IPv4 multicast: no owner
    expect(got.vm1!.length).toBe(1);
  });

  it('unicast goes to the owner of the destination MAC only; an unknown MAC and a runt are dropped', () => {
    const { sw, got, ports } = rig();
    const f = frame(mac(3), 0x0800, 98);
    ports[0]!.tx(f);
    expect(got.vm3).toEqual([f]);
    expect(got.vm2).toEqual([]);
    ports[0]!.tx(frame(mac(7), 0x0800));
    ports[0]!.tx(frame(mac(3), 0x0800).subarray(0, 13));
    expect(got.vm3!.length).toBe(1);
    expect(sw.stats).toEqual({ forwarded: 1, filtered: 2, refused: 0 });
    expect(sw.portOf(mac(2))).toBe(ports[1]!.port);
  });

  it('a port that cannot take the frame drops it (counted); a MAC belongs to one port', () => {
    const { sw, full, ports } = rig();
    full.add('vm2');
    expect(sw.forward(ports[0]!.port, frame(mac(2), 0x0800))).toBe(0);
    expect(sw.stats.refused).toBe(1);
    expect(() => sw.attach(mac(2), { name: 'vm4', receive: () => true })).toThrow('MAC 02:00:00:00:00:02 of vm4 is already vm2\'s');
  });
});
