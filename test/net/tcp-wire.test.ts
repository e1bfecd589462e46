// The user network's wire formats against sources that are not ours: the RFC 1071 example for the
// Internet checksum, and frames the kit's Linux made (test/net/linux-tcp-frames.json): our parser
// accepts them, our checksum code computes the same IP and TCP checksums the kernel did, and our
// frame builder, given the same fields, makes the same bytes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checksum, fold, parseIpv4, pseudoSum, sum16 } from '../../emulator/net/inet.ts';
import { parseTcpFrame, TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, tcpFrame } from '../../emulator/net/tcp-segment.ts';

const fixture = JSON.parse(readFileSync(new URL('./linux-tcp-frames.json', import.meta.url), 'utf8')) as Record<string, string>;
const frame = (name: string): Uint8Array => Uint8Array.from(Buffer.from(fixture[name]!, 'hex'));
const GUEST_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
const GW_MAC = Uint8Array.of(0x52, 0x55, 0x0a, 0x00, 0x02, 0x02);
const GUEST_IP = Uint8Array.of(10, 0, 2, 15);
const GW_IP = Uint8Array.of(10, 0, 2, 2);

describe('Internet checksum', () => {
  it('RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum 220d', () => {
    const b = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    expect(fold(sum16(b, 0, 8))).toBe(~0xddf2 & 0xffff);
    expect(checksum(b, 0, 8)).toBe(0x220d);
    // An odd length pads with a zero byte.
    expect(checksum(Uint8Array.of(0x00, 0x01, 0xf2), 0, 3)).toBe(~(0x0001 + 0xf200) & 0xffff);
  });

  for (const name of ['synAck', 'ack', 'data', 'fin']) {
    it(`the ${name} frame Linux sent: our IP and TCP checksums equal the kernel's`, () => {
      const f = frame(name);
      const ip = parseIpv4(f)!;
      expect(ip).not.toBeNull();
      const ipSum = (f[24]! << 8) | f[25]!;
      const g = f.slice();
      g[24] = g[25] = 0;
      expect(checksum(g, 14, ip.ihl)).toBe(ipSum);
      const at = ip.payload;
      const tcpSum = (f[at + 16]! << 8) | f[at + 17]!;
      g[at + 16] = g[at + 17] = 0;
      expect(fold(sum16(g, at, ip.payloadLen, pseudoSum(ip.src, ip.dst, 6, ip.payloadLen)))).toBe(tcpSum);
      expect(parseTcpFrame(f)).not.toBeNull();
    });
  }
});

describe('TCP segments', () => {
  it('parses the SYN-ACK Linux sent: ports, numbers, flags, window and its MSS option', () => {
    const s = parseTcpFrame(frame('synAck'))!;
    expect(Array.from(s.srcIp)).toEqual([10, 0, 2, 15]);
    expect(Array.from(s.dstIp)).toEqual([10, 0, 2, 2]);
    expect([s.srcPort, s.dstPort]).toEqual([8080, 49152]);
    expect(s.flags).toBe(TCP_SYN | TCP_ACK);
    expect(s.seq).toBe(0xf13d4f49);
    expect(s.ack).toBe(0xc0da79b2);
    expect(s.window).toBe(0xfaf0);
    expect(s.mss).toBe(1460);
    expect(s.data.length).toBe(0);
    const d = parseTcpFrame(frame('data'))!;
    expect(d.data.length).toBe(1024);
    expect(d.flags).toBe(TCP_ACK | TCP_PSH);
    expect(parseTcpFrame(frame('fin'))!.flags).toBe(TCP_ACK | TCP_FIN);
  });

  it('builds the same bytes as Linux for the same fields (IP id, DF, TTL 64, MSS option, both checksums)', () => {
    for (const name of ['synAck', 'ack', 'data', 'fin']) {
      const f = frame(name);
      const s = parseTcpFrame(f)!;
      const ipId = (f[18]! << 8) | f[19]!;
      const ours = tcpFrame({ srcMac: GUEST_MAC, dstMac: GW_MAC, srcIp: GUEST_IP, dstIp: GW_IP, srcPort: s.srcPort, dstPort: s.dstPort, seq: s.seq, ack: s.ack, flags: s.flags, window: s.window, mss: s.mss, data: s.data, ipId });
      // Ours is padded to the 60-byte Ethernet minimum; Linux leaves that to the NIC.
      expect(Buffer.from(ours.subarray(0, f.length)).toString('hex'), name).toBe(fixture[name]);
      expect(ours.subarray(f.length).every((b) => b === 0)).toBe(true);
      expect(ours.length).toBe(Math.max(60, f.length));
    }
  });

  it('refuses a frame with any single byte of the IP or TCP header or data changed', () => {
    const f = frame('data');
    for (const at of [14, 15, 16, 17, 22, 23, 26, 30, 34, 36, 38, 42, 46, 48, 50, 60, 500, 1077]) {
      const g = f.slice();
      g[at]! ^= 0x40;
      expect(parseTcpFrame(g), `byte ${at}`).toBeNull();
    }
  });

  it('refuses truncated frames, bad data offsets and fragments without throwing', () => {
    const f = frame('synAck');
    for (let n = 0; n < f.length; n++) expect(parseTcpFrame(f.subarray(0, n))).toBeNull();
    const off = f.slice();
    off[46] = 0xf0; // data offset 60 > segment
    expect(parseTcpFrame(off)).toBeNull();
    const frag = frame('ack');
    frag[20] = 0x20; // more fragments
    expect(parseTcpFrame(frag)).toBeNull();
  });
});
