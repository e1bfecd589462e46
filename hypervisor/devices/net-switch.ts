// The network between VMs (Rust-Shyper src/device/virtio/net.rs + mac.rs): every virtio-net of
// every VM is a port of one switch, known by the MAC address in its config. A frame a VM
// transmits goes, by its destination MAC:
//   ff:ff:ff:ff:ff:ff  to every other port, if it is ARP (ethertype 0x0806); else dropped;
//   33:33:xx:xx:xx:xx  to every other port, if it is IPv6 (0x86dd: neighbour discovery); else dropped;
//   anything else      to the port that owns that MAC; an unknown MAC is dropped.
// Frames shorter than an Ethernet header are dropped (Rust-Shyper: shorter than its 12-byte
// virtio header + 14). A port that cannot take a frame (its driver is not up, no room) drops it;
// the switch never holds frames.

export interface SwitchPort {
  /** For log lines, e.g. "vm1.eth0". */
  readonly name: string;
  /** A frame for this port; false when it was dropped. */
  receive(frame: Uint8Array): boolean;
}

export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;
const ETH_HLEN = 14;

export interface SwitchStats {
  forwarded: number;
  /** Dropped by the switch's rules: too short, broadcast/multicast of the wrong type, unknown MAC. */
  filtered: number;
  /** Refused by the destination port. */
  refused: number;
}

export const macString = (mac: Uint8Array): string => Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');

export class NetSwitch {
  private readonly byMac = new Map<string, SwitchPort>();
  private readonly ports: SwitchPort[] = [];
  readonly stats: SwitchStats = { forwarded: 0, filtered: 0, refused: 0 };

  /** Adds a port owning `mac`; returns what the port calls to transmit. Throws on a MAC already taken. */
  attach(mac: Uint8Array, port: SwitchPort): (frame: Uint8Array) => void {
    const key = macString(mac);
    const other = this.byMac.get(key);
    if (other !== undefined) throw new Error(`MAC ${key} of ${port.name} is already ${other.name}'s`);
    this.byMac.set(key, port);
    this.ports.push(port);
    return (frame) => this.forward(port, frame);
  }

  /** The port that owns a MAC address, if any. */
  portOf(mac: Uint8Array): SwitchPort | undefined {
    return this.byMac.get(macString(mac));
  }

  /** Switches one frame from `from`; returns the number of ports that took it. */
  forward(from: SwitchPort, frame: Uint8Array): number {
    if (frame.length < ETH_HLEN) return this.filter();
    const type = (frame[12]! << 8) | frame[13]!;
    if (isBroadcast(frame)) return type === ETH_P_ARP ? this.flood(from, frame) : this.filter();
    if (frame[0] === 0x33 && frame[1] === 0x33) return type === ETH_P_IPV6 ? this.flood(from, frame) : this.filter();
    const to = this.byMac.get(macString(frame.subarray(0, 6)));
    if (to === undefined) return this.filter();
    return this.deliver(to, frame);
  }

  private flood(from: SwitchPort, frame: Uint8Array): number {
    let n = 0;
    for (const p of this.ports) if (p !== from) n += this.deliver(p, frame);
    return n;
  }

  private deliver(to: SwitchPort, frame: Uint8Array): number {
    if (to.receive(frame)) {
      this.stats.forwarded++;
      return 1;
    }
    this.stats.refused++;
    return 0;
  }

  private filter(): number {
    this.stats.filtered++;
    return 0;
  }
}

function isBroadcast(frame: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (frame[i] !== 0xff) return false;
  return true;
}
