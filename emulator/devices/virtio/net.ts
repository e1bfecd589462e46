// virtio-net (virtio v1.2 §5.1), one queue pair: receiveq (0) takes frames from the network into
// the driver's buffers, transmitq (1) hands the driver's frames to a NetBackend — a switch
// between VMs (hypervisor/devices/net-switch.ts), a user-mode network, a test. Every buffer
// starts with the 12-byte struct virtio_net_hdr_v1 (VERSION_1: num_buffers always present).
//
// Features: MAC (the address in config space), STATUS (link up) and MTU (1500, so the driver never
// makes frames larger than a receive buffer of the other side). No checksum or segmentation
// offload and no mergeable buffers: every frame is a complete Ethernet frame with its checksums,
// one frame per receive buffer, num_buffers = 1, as Rust-Shyper's net.rs fills it. No control
// queue. A frame that arrives while the driver has no free receive buffer waits in a short
// backlog; past it, and while the driver is not up, frames are dropped, as a NIC drops them.
import { bit, readConfigSpace, VIRTIO_ID_NET, type VirtioDevice, type VirtioDeviceHost } from './device.ts';

export const VIRTIO_NET_F_MTU = 3;
export const VIRTIO_NET_F_MAC = 5;
export const VIRTIO_NET_F_STATUS = 16;
export const VIRTIO_NET_S_LINK_UP = 1;
export const RECEIVEQ = 0;
export const TRANSMITQ = 1;
/** struct virtio_net_hdr_v1: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers. */
export const NET_HDR_BYTES = 12;
const HDR_NUM_BUFFERS = 10;
export const ETH_HLEN = 14;
export const MTU = 1500;
/** Largest frame taken from the driver: MTU + Ethernet header + a VLAN tag. */
export const MAX_FRAME = MTU + ETH_HLEN + 4;

// struct virtio_net_config offsets (§5.1.4).
const CFG_MAC = 0;
const CFG_STATUS = 6;
const CFG_MAX_PAIRS = 8;
const CFG_MTU = 10;
const CFG_BYTES = 12;

/** Where transmitted frames go: one Ethernet frame (no FCS) per call; the bytes are the caller's to keep. */
export interface NetBackend {
  transmit(frame: Uint8Array): void;
}

export interface VirtioNetOptions {
  /** The device's MAC address (6 bytes). */
  mac: Uint8Array;
  backend?: NetBackend;
  /** Size of both queues (default 256, as Rust-Shyper). */
  queueSize?: number;
  /** Frames held while the driver has no receive buffer (default 64). */
  backlog?: number;
}

export interface NetStats {
  txFrames: number;
  /** Transmit buffers shorter than the header + an Ethernet header, or longer than MAX_FRAME. */
  txDropped: number;
  rxFrames: number;
  /** Frames refused: driver not up, backlog full, or a receive buffer too small. */
  rxDropped: number;
}

export class VirtioNet implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_NET;
  readonly name = 'virtio-net';
  readonly features = bit(VIRTIO_NET_F_MAC) | bit(VIRTIO_NET_F_STATUS) | bit(VIRTIO_NET_F_MTU);
  readonly queueSizes: readonly number[];
  readonly mac: Uint8Array;
  readonly stats: NetStats = { txFrames: 0, txDropped: 0, rxFrames: 0, rxDropped: 0 };
  backend: NetBackend | null;
  private readonly config = new DataView(new ArrayBuffer(CFG_BYTES));
  private readonly backlog: Uint8Array[] = [];
  private readonly backlogMax: number;
  private readonly txBuf = new Uint8Array(NET_HDR_BYTES + MAX_FRAME);
  private readonly rxHdr = new Uint8Array(NET_HDR_BYTES);
  private host: VirtioDeviceHost | null = null;

  constructor(o: VirtioNetOptions) {
    if (o.mac.length !== 6) throw new RangeError('virtio-net: a MAC address is 6 bytes');
    this.mac = Uint8Array.from(o.mac);
    this.backend = o.backend ?? null;
    const n = o.queueSize ?? 256;
    this.queueSizes = [n, n];
    this.backlogMax = o.backlog ?? 64;
    for (let i = 0; i < 6; i++) this.config.setUint8(CFG_MAC + i, this.mac[i]!);
    this.config.setUint16(CFG_STATUS, VIRTIO_NET_S_LINK_UP, true);
    this.config.setUint16(CFG_MAX_PAIRS, 1, true);
    this.config.setUint16(CFG_MTU, MTU, true);
    new DataView(this.rxHdr.buffer).setUint16(HDR_NUM_BUFFERS, 1, true);
  }

  attach(host: VirtioDeviceHost): void {
    this.host = host;
  }

  /** The driver is up: frames given to receive() can reach it. */
  get live(): boolean {
    return this.host?.live === true && this.host.queue(RECEIVEQ).ready;
  }

  /**
   * A frame from the network for the driver. True when it was taken (delivered now, or held until
   * the driver posts a receive buffer); false when dropped.
   */
  receive(frame: Uint8Array): boolean {
    if (!this.live || this.backlog.length >= this.backlogMax || frame.length > MAX_FRAME) {
      this.stats.rxDropped++;
      return false;
    }
    this.backlog.push(frame.slice());
    this.host!.kick(RECEIVEQ);
    return true;
  }

  readConfig(offset: number, size: 1 | 2 | 4): number {
    return readConfigSpace(this.config, offset, size);
  }

  writeConfig(): void {
    // The MAC is read-only without VIRTIO_NET_F_CTRL_MAC_ADDR; nothing else is writable.
  }

  reset(): void {
    this.backlog.length = 0;
  }

  notify(i: number): void {
    if (i === TRANSMITQ) this.transmit(this.host!);
    else if (i === RECEIVEQ) this.fill(this.host!);
  }

  private transmit(host: VirtioDeviceHost): void {
    const q = host.queue(TRANSMITQ);
    const sent = q.serveAll((chain) => {
      const total = chain.readableBytes;
      if (total < NET_HDR_BYTES + ETH_HLEN || total > this.txBuf.length) {
        this.stats.txDropped++;
        return 0;
      }
      const n = chain.read(0, this.txBuf.subarray(0, total));
      this.stats.txFrames++;
      this.backend?.transmit(this.txBuf.subarray(NET_HDR_BYTES, n));
      return 0;
    });
    if (sent) host.usedBuffers(q);
  }

  // Moves held frames into the driver's receive buffers, one frame per buffer.
  private fill(host: VirtioDeviceHost): void {
    const q = host.queue(RECEIVEQ);
    let used = false;
    while (this.backlog.length > 0) {
      const chain = q.pop();
      if (chain === null) break;
      const frame = this.backlog.shift()!;
      used = true;
      if (chain.writableBytes < NET_HDR_BYTES + frame.length) {
        // The buffer goes back empty (Linux counts a short packet and reposts it); the frame is lost.
        this.stats.rxDropped++;
        q.push(chain, 0);
        continue;
      }
      chain.write(0, this.rxHdr);
      chain.write(NET_HDR_BYTES, frame);
      q.push(chain, NET_HDR_BYTES + frame.length);
      this.stats.rxFrames++;
    }
    if (used) host.usedBuffers(q);
  }
}
