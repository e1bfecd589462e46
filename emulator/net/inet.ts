// IPv4 in Ethernet, as the user network's gateway reads and writes it: the Internet checksum
// (RFC 1071), the TCP/UDP pseudo-header sum (RFC 793 §3.1), and the checked parse of an IPv4
// header (RFC 791) from a frame a guest sent. Parsing never throws: a frame that is short,
// fragmented, has options we do not read past, or a wrong header checksum is simply refused.

export const ETH_HLEN = 14;
export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
/** Shortest Ethernet frame without its FCS: frames we make are padded to it. */
export const ETH_ZLEN = 60;
const IPV4_HLEN = 20;

export const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** One's-complement sum of b[at, at+len) as 16-bit big-endian words, added to `sum` (not folded). */
export function sum16(b: Uint8Array, at: number, len: number, sum = 0): number {
  let i = 0;
  for (; i + 1 < len; i += 2) sum += (b[at + i]! << 8) | b[at + i + 1]!;
  if (len & 1) sum += b[at + len - 1]! << 8;
  return sum;
}

/** Folds a one's-complement sum to 16 bits and complements it. */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** The Internet checksum (RFC 1071) of b[at, at+len): 0 over data that carries a correct one. */
export function checksum(b: Uint8Array, at: number, len: number): number {
  return fold(sum16(b, at, len));
}

/** The sum of the IPv4 pseudo-header (source, destination, zero, protocol, length), not folded. */
export function pseudoSum(src: Uint8Array, dst: Uint8Array, proto: number, len: number): number {
  return ((src[0]! << 8) | src[1]!) + ((src[2]! << 8) | src[3]!) + ((dst[0]! << 8) | dst[1]!) + ((dst[2]! << 8) | dst[3]!) + proto + len;
}

export interface Ipv4 {
  /** Offset of the IP header in the frame. */
  at: number;
  /** Header length in bytes. */
  ihl: number;
  /** Total length (header + payload). */
  total: number;
  proto: number;
  src: Uint8Array;
  dst: Uint8Array;
  /** Offset and length of the payload in the frame. */
  payload: number;
  payloadLen: number;
}

/**
 * The IPv4 header of an Ethernet frame, checked: version 4, a header length of 20-60 bytes, a total
 * length inside the frame (trailing Ethernet padding allowed), not a fragment, a correct header
 * checksum. Null otherwise. src/dst are views into the frame.
 */
export function parseIpv4(f: Uint8Array): Ipv4 | null {
  if (f.length < ETH_HLEN + IPV4_HLEN || ((f[12]! << 8) | f[13]!) !== ETH_P_IP) return null;
  const at = ETH_HLEN;
  if (f[at]! >> 4 !== 4) return null;
  const ihl = (f[at]! & 0x0f) * 4;
  const total = (f[at + 2]! << 8) | f[at + 3]!;
  if (ihl < IPV4_HLEN || total < ihl || at + total > f.length) return null;
  // More fragments, or a fragment offset: not reassembled here.
  if ((((f[at + 6]! << 8) | f[at + 7]!) & 0x3fff) !== 0) return null;
  if (checksum(f, at, ihl) !== 0) return null;
  return {
    at,
    ihl,
    total,
    proto: f[at + 9]!,
    src: f.subarray(at + 12, at + 16),
    dst: f.subarray(at + 16, at + 20),
    payload: at + ihl,
    payloadLen: total - ihl,
  };
}

/**
 * Writes an Ethernet header and a 20-byte IPv4 header (DF set, TTL 64, the given identification)
 * for `payloadLen` bytes of `proto` into a new frame, padded to ETH_ZLEN; returns the frame. The
 * payload goes at offset ETH_HLEN + 20.
 */
export function ipv4Frame(o: { dstMac: Uint8Array; srcMac: Uint8Array; src: Uint8Array; dst: Uint8Array; proto: number; id: number; payloadLen: number }): Uint8Array {
  const total = IPV4_HLEN + o.payloadLen;
  const f = new Uint8Array(Math.max(ETH_ZLEN, ETH_HLEN + total));
  f.set(o.dstMac, 0);
  f.set(o.srcMac, 6);
  f[12] = ETH_P_IP >> 8;
  f[13] = ETH_P_IP & 0xff;
  const v = view(f);
  const at = ETH_HLEN;
  f[at] = 0x45;
  v.setUint16(at + 2, total);
  v.setUint16(at + 4, o.id & 0xffff);
  v.setUint16(at + 6, 0x4000); // don't fragment
  f[at + 8] = 64;
  f[at + 9] = o.proto;
  f.set(o.src, at + 12);
  f.set(o.dst, at + 16);
  v.setUint16(at + 10, checksum(f, at, IPV4_HLEN));
  return f;
}

export const IPV4_PAYLOAD = ETH_HLEN + IPV4_HLEN;

export const macString = (mac: Uint8Array): string => Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');

export const ipString = (ip: Uint8Array): string => Array.from(ip).join('.');

export function bytesEqual(f: Uint8Array, at: number, want: Uint8Array): boolean {
  for (let i = 0; i < want.length; i++) if (f[at + i] !== want[i]) return false;
  return true;
}
