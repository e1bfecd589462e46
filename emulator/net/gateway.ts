// The outside of the guests' network: a gateway at 10.0.2.2 (QEMU's user-mode network address,
// MAC 52:55:0a:00:02:02) that answers ARP requests for its address and ICMP echo requests to it,
// and hands TCP segments addressed to it to `tcp` (the host forwards, emulator/net/hostfwd.ts).
// It is a station on an Ethernet segment: frames in through receive(), its own out through the
// `send` it was given — a native virtio-net (`--net user`), or a port of the switch between VMs.
// It learns which IPv4 address each guest MAC uses from the ARP and IPv4 frames it sees (the
// neighbour table --hostfwd needs to reach a guest). Everything else that reaches it is ignored.
import { checksum, type Ipv4, IPPROTO_TCP, macString, parseIpv4 } from './inet.ts';

export { checksum } from './inet.ts';

export const GATEWAY_IP = Uint8Array.of(10, 0, 2, 2);
export const GATEWAY_MAC = Uint8Array.of(0x52, 0x55, 0x0a, 0x00, 0x02, 0x02);

const ETH_P_IP = 0x0800;
const ETH_P_ARP = 0x0806;
const IPPROTO_ICMP = 1;
const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO = 8;
/** Shortest Ethernet frame without its FCS: answers are padded to it. */
const ETH_ZLEN = 60;

export interface GatewayStats {
  arpReplies: number;
  echoReplies: number;
  ignored: number;
  /** TCP segments to 10.0.2.2 handed to `tcp`. */
  tcpSegments: number;
}

export class Gateway {
  readonly name = 'gateway 10.0.2.2';
  readonly mac = GATEWAY_MAC;
  readonly stats: GatewayStats = { arpReplies: 0, echoReplies: 0, ignored: 0, tcpSegments: 0 };
  /** Neighbours: a guest MAC ("aa:bb:..") → the IPv4 address it last used. */
  readonly neighbours = new Map<string, Uint8Array>();
  /** Told when a MAC's address is learned or changes. */
  onNeighbour: ((mac: string, ip: Uint8Array) => void) | null = null;
  /** Where a checked IPv4 frame carrying TCP to 10.0.2.2 goes (null: ignored). */
  tcp: ((frame: Uint8Array, ip: Ipv4) => void) | null = null;

  /** `send`: where the gateway's frames go (may be set later). */
  constructor(public send: (frame: Uint8Array) => void = () => {}) {}

  /** A frame on the segment. Always taken (a station never refuses); answered if it is for us. */
  receive(frame: Uint8Array): boolean {
    if (frame.length >= 14) {
      const type = (frame[12]! << 8) | frame[13]!;
      if (type === ETH_P_ARP) this.learnArp(frame);
      if (type === ETH_P_ARP && this.arp(frame)) return true;
      if (type === ETH_P_IP && this.ipv4(frame)) return true;
    }
    this.stats.ignored++;
    return true;
  }

  // ARP request "who has 10.0.2.2" (RFC 826, Ethernet/IPv4) → "10.0.2.2 is at GATEWAY_MAC".
  private arp(f: Uint8Array): boolean {
    if (f.length < 42) return false;
    const v = view(f);
    if (v.getUint16(14) !== 1 || v.getUint16(16) !== ETH_P_IP || f[18] !== 6 || f[19] !== 4 || v.getUint16(20) !== 1) return false;
    if (!equal(f, 38, GATEWAY_IP)) return false;
    const r = new Uint8Array(ETH_ZLEN);
    r.set(f.subarray(22, 28), 0); // to the sender's hardware address
    r.set(GATEWAY_MAC, 6);
    r.set(f.subarray(12, 22), 12); // ethertype, htype, ptype, hlen, plen, then op
    r[21] = 2; // reply
    r.set(GATEWAY_MAC, 22);
    r.set(GATEWAY_IP, 28);
    r.set(f.subarray(22, 32), 32); // target = the requester (its MAC and IP)
    this.stats.arpReplies++;
    this.send(r);
    return true;
  }

  // The sender of an ARP packet (request or reply, Ethernet/IPv4; not a probe from 0.0.0.0).
  private learnArp(f: Uint8Array): void {
    if (f.length < 42 || f[14] !== 0 || f[15] !== 1 || f[16] !== 0x08 || f[17] !== 0 || f[18] !== 6 || f[19] !== 4) return;
    if (!equal(f, 6, f.subarray(22, 28))) return; // a proxy answering for another station
    this.learn(f.subarray(22, 28), f.subarray(28, 32));
  }

  // A checked IPv4 frame: its sender learned; TCP to 10.0.2.2 handed on, ICMP echo answered.
  private ipv4(f: Uint8Array): boolean {
    const ip = parseIpv4(f);
    if (ip === null) return false;
    this.learn(f.subarray(6, 12), ip.src);
    if (!equal(f, 0, GATEWAY_MAC)) return false;
    if (ip.proto === IPPROTO_TCP && equal(ip.dst, 0, GATEWAY_IP) && this.tcp !== null) {
      this.stats.tcpSegments++;
      this.tcp(f, ip);
      return true;
    }
    return this.ip(f);
  }

  private learn(mac: Uint8Array, ip: Uint8Array): void {
    // Unicast station addresses only; no 0.0.0.0, broadcast, multicast, loopback or our own.
    if ((mac[0]! & 1) !== 0 || equal(mac, 0, GATEWAY_MAC)) return;
    if (ip[0] === 0 || ip[0] === 127 || ip[0]! >= 224 || equal(ip, 0, GATEWAY_IP)) return;
    const key = macString(mac);
    const had = this.neighbours.get(key);
    if (had !== undefined && equal(had, 0, ip)) return;
    const copy = Uint8Array.from(ip);
    this.neighbours.set(key, copy);
    this.onNeighbour?.(key, copy);
  }

  // ICMP echo request to 10.0.2.2 (RFC 792) → echo reply with the same identifier, sequence and data.
  private ip(f: Uint8Array): boolean {
    if (f.length < 14 + 20 + 8) return false;
    const v = view(f);
    const ihl = (f[14]! & 0x0f) * 4;
    const total = v.getUint16(16);
    if (f[14]! >> 4 !== 4 || ihl < 20 || total < ihl + 8 || 14 + total > f.length) return false;
    if ((v.getUint16(20) & 0x3fff) !== 0) return false; // a fragment
    if (f[23] !== IPPROTO_ICMP || !equal(f, 30, GATEWAY_IP) || checksum(f, 14, ihl) !== 0) return false;
    const icmp = 14 + ihl;
    if (f[icmp] !== ICMP_ECHO || checksum(f, icmp, total - ihl) !== 0) return false;
    const r = new Uint8Array(Math.max(ETH_ZLEN, 14 + total));
    r.set(f.subarray(0, 14 + total));
    r.set(f.subarray(6, 12), 0);
    r.set(GATEWAY_MAC, 6);
    const rv = view(r);
    r.set(f.subarray(26, 30), 30); // to the sender
    r.set(GATEWAY_IP, 26);
    r[22] = 64; // TTL
    rv.setUint16(24, 0);
    rv.setUint16(24, checksum(r, 14, ihl));
    r[icmp] = ICMP_ECHO_REPLY;
    rv.setUint16(icmp + 2, 0);
    rv.setUint16(icmp + 2, checksum(r, icmp, total - ihl));
    this.stats.echoReplies++;
    this.send(r);
    return true;
  }
}

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

function equal(f: Uint8Array, at: number, want: Uint8Array): boolean {
  for (let i = 0; i < want.length; i++) if (f[at + i] !== want[i]) return false;
  return true;
}
