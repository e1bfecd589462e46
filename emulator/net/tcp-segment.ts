// The TCP segment on the wire (RFC 9293 §3.1) inside IPv4 in Ethernet: the checked parse of a
// segment a guest sent, and the frame for one we send. Only the MSS option is read and written
// (no window scaling, timestamps or SACK: a SYN without them turns them off for the connection).

import { bytesEqual, fold, type Ipv4, IPPROTO_TCP, IPV4_PAYLOAD, ipv4Frame, parseIpv4, pseudoSum, sum16, view } from './inet.ts';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
const TCP_HLEN = 20;
const TCPOPT_EOL = 0;
const TCPOPT_NOP = 1;
const TCPOPT_MSS = 2;

export interface TcpSegment {
  srcIp: Uint8Array;
  dstIp: Uint8Array;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** The MSS option of a SYN, if it carried one. */
  mss?: number;
  /** The data (a view into the frame). */
  data: Uint8Array;
}

/**
 * The TCP segment in an Ethernet frame, checked: a valid IPv4 header (inet.ts), protocol TCP, a
 * data offset inside the segment, a correct checksum over the pseudo-header. Null otherwise.
 */
export function parseTcpFrame(f: Uint8Array, ip: Ipv4 | null = parseIpv4(f)): TcpSegment | null {
  if (ip === null || ip.proto !== IPPROTO_TCP || ip.payloadLen < TCP_HLEN) return null;
  const at = ip.payload;
  const len = ip.payloadLen;
  const off = (f[at + 12]! >> 4) * 4;
  if (off < TCP_HLEN || off > len) return null;
  if (fold(sum16(f, at, len, pseudoSum(ip.src, ip.dst, IPPROTO_TCP, len))) !== 0) return null;
  const v = view(f);
  const flags = f[at + 13]! & 0x3f;
  const seg: TcpSegment = {
    srcIp: ip.src,
    dstIp: ip.dst,
    srcPort: v.getUint16(at),
    dstPort: v.getUint16(at + 2),
    seq: v.getUint32(at + 4),
    ack: v.getUint32(at + 8),
    flags,
    window: v.getUint16(at + 14),
    data: f.subarray(at + off, at + len),
  };
  if (flags & TCP_SYN) {
    // Options: kind, length, value; EOL ends them, NOP is one byte; a malformed list ends the walk.
    for (let i = at + TCP_HLEN; i < at + off; ) {
      const kind = f[i]!;
      if (kind === TCPOPT_EOL) break;
      if (kind === TCPOPT_NOP) {
        i++;
        continue;
      }
      const olen = i + 1 < at + off ? f[i + 1]! : 0;
      if (olen < 2 || i + olen > at + off) break;
      if (kind === TCPOPT_MSS && olen === 4) seg.mss = v.getUint16(i + 2);
      i += olen;
    }
  }
  return seg;
}

export interface TcpOut {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  srcIp: Uint8Array;
  dstIp: Uint8Array;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** Sent as the MSS option (SYN segments). */
  mss?: number;
  data?: Uint8Array;
  /** IPv4 identification. */
  ipId?: number;
}

/** An Ethernet frame carrying one TCP segment, checksums filled in. */
export function tcpFrame(o: TcpOut): Uint8Array {
  const optLen = o.mss !== undefined ? 4 : 0;
  const dataLen = o.data?.length ?? 0;
  const len = TCP_HLEN + optLen + dataLen;
  const f = ipv4Frame({ dstMac: o.dstMac, srcMac: o.srcMac, src: o.srcIp, dst: o.dstIp, proto: IPPROTO_TCP, id: o.ipId ?? 0, payloadLen: len });
  const at = IPV4_PAYLOAD;
  const v = view(f);
  v.setUint16(at, o.srcPort);
  v.setUint16(at + 2, o.dstPort);
  v.setUint32(at + 4, o.seq >>> 0);
  v.setUint32(at + 8, o.ack >>> 0);
  f[at + 12] = ((TCP_HLEN + optLen) / 4) << 4;
  f[at + 13] = o.flags;
  v.setUint16(at + 14, Math.max(0, Math.min(0xffff, o.window)));
  if (o.mss !== undefined) {
    f[at + 20] = TCPOPT_MSS;
    f[at + 21] = 4;
    v.setUint16(at + 22, o.mss);
  }
  if (o.data) f.set(o.data, at + TCP_HLEN + optLen);
  v.setUint16(at + 16, fold(sum16(f, at, len, pseudoSum(o.srcIp, o.dstIp, IPPROTO_TCP, len))));
  return f;
}

/** Sequence-space comparisons (RFC 9293 §3.4, modulo 2^32). */
export const seqLt = (a: number, b: number): boolean => ((a - b) | 0) < 0;
export const seqLe = (a: number, b: number): boolean => ((a - b) | 0) <= 0;
export const seqAdd = (a: number, n: number): number => (a + n) >>> 0;
export const seqDiff = (a: number, b: number): number => (a - b) | 0;

export const sameIp = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && bytesEqual(a, 0, b);
