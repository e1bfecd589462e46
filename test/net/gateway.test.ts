// The user network's gateway: ARP for 10.0.2.2 and ICMP echo to it answered, the rest ignored.
import { describe, expect, it } from 'vitest';
import { checksum, Gateway, GATEWAY_IP, GATEWAY_MAC } from '../../emulator/net/gateway.ts';

const GUEST_MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const GUEST_IP = [10, 0, 2, 15];

function arpRequest(target: number[]): Uint8Array {
  const f = new Uint8Array(42);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...GUEST_MAC, 0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1, ...GUEST_MAC, ...GUEST_IP, 0, 0, 0, 0, 0, 0, ...target]);
  return f;
}

function echoRequest(dstMac: Uint8Array | number[], dst: number[], payload: number[], id = 0x1234, seq = 7): Uint8Array {
  const total = 20 + 8 + payload.length;
  const f = new Uint8Array(14 + total);
  f.set([...dstMac, ...GUEST_MAC, 0x08, 0x00]);
  f.set([0x45, 0, total >> 8, total & 0xff, 0, 1, 0x40, 0, 64, 1, 0, 0, ...GUEST_IP, ...dst], 14);
  const ipc = checksum(f, 14, 20);
  f[24] = ipc >> 8;
  f[25] = ipc & 0xff;
  f.set([8, 0, 0, 0, id >> 8, id & 0xff, seq >> 8, seq & 0xff, ...payload], 34);
  const c = checksum(f, 34, 8 + payload.length);
  f[36] = c >> 8;
  f[37] = c & 0xff;
  return f;
}

function rig() {
  const out: Uint8Array[] = [];
  const gw = new Gateway((f) => void out.push(f.slice()));
  return { gw, out };
}

describe('gateway 10.0.2.2', () => {
  it('answers "who has 10.0.2.2" to the asker, and only that', () => {
    const { gw, out } = rig();
    expect(gw.receive(arpRequest([10, 0, 2, 2]))).toBe(true);
    expect(out).toHaveLength(1);
    const r = out[0]!;
    expect(r.length).toBe(60);
    expect([...r.subarray(0, 6)]).toEqual(GUEST_MAC);
    expect(r.subarray(6, 12)).toEqual(GATEWAY_MAC);
    expect([...r.subarray(12, 22)]).toEqual([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 2]);
    expect(r.subarray(22, 28)).toEqual(GATEWAY_MAC);
    expect(r.subarray(28, 32)).toEqual(GATEWAY_IP);
    expect([...r.subarray(32, 42)]).toEqual([...GUEST_MAC, ...GUEST_IP]);
    gw.receive(arpRequest([10, 0, 2, 3]));
    expect(out).toHaveLength(1);
    expect(gw.stats).toEqual({ arpReplies: 1, echoReplies: 0, ignored: 1, tcpSegments: 0 });
  });

  it('answers an echo request with the same id, sequence and data, checksums valid', () => {
    const { gw, out } = rig();
    const payload = Array.from({ length: 56 }, (_, i) => i);
    gw.receive(echoRequest(GATEWAY_MAC, [10, 0, 2, 2], payload));
    expect(out).toHaveLength(1);
    const r = out[0]!;
    expect([...r.subarray(0, 6)]).toEqual(GUEST_MAC);
    expect(r.subarray(6, 12)).toEqual(GATEWAY_MAC);
    expect(r.subarray(26, 30)).toEqual(GATEWAY_IP);
    expect([...r.subarray(30, 34)]).toEqual(GUEST_IP);
    expect(checksum(r, 14, 20)).toBe(0);
    expect(r[34]).toBe(0);
    expect(checksum(r, 34, 8 + 56)).toBe(0);
    expect([...r.subarray(38, 42)]).toEqual([0x12, 0x34, 0, 7]);
    expect([...r.subarray(42, 98)]).toEqual(payload);
  });

  it('ignores echo requests to other addresses or MACs, bad checksums, fragments, other protocols', () => {
    const { gw, out } = rig();
    gw.receive(echoRequest(GATEWAY_MAC, [10, 0, 2, 3], [1, 2]));
    gw.receive(echoRequest([2, 0, 0, 0, 0, 1], [10, 0, 2, 2], [1, 2]));
    const bad = echoRequest(GATEWAY_MAC, [10, 0, 2, 2], [1, 2]);
    bad[40] ^= 1;
    gw.receive(bad);
    const frag = echoRequest(GATEWAY_MAC, [10, 0, 2, 2], [1, 2]);
    frag[20] = 0x20; // MF, and a header checksum that is right again
    frag[24] = frag[25] = 0;
    const c = checksum(frag, 14, 20);
    [frag[24], frag[25]] = [c >> 8, c & 0xff];
    gw.receive(frag);
    gw.receive(new Uint8Array(10));
    expect(out).toHaveLength(0);
    expect(gw.stats.ignored).toBe(5);
  });
});
