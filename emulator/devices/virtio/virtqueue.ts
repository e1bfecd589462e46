// Split virtqueues, the device side (virtio v1.2 §2.7): the descriptor table, the driver area
// (available ring) and the device area (used ring) in the driver's memory; indirect descriptor
// tables (§2.7.5.3) and the event-index notification suppression (§2.7.7, §2.7.10).
//
// Everything the driver wrote is checked before it is used: a descriptor loop, a chain longer
// than the queue, an index past the table, an address or length outside guest memory, nested
// indirect tables, a device-readable descriptor after a device-writable one, or an available
// index that runs ahead by more than the queue size raises VirtioError (the transport then sets
// DEVICE_NEEDS_RESET). No driver value reaches a host array index or a host exception.
import { bit, VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC, VirtioError } from './device.ts';
import type { GuestMemory } from './guest-memory.ts';

export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
export const VIRTQ_USED_F_NO_NOTIFY = 1;
/** §2.7: the largest Queue Size of a split virtqueue. */
export const QUEUE_SIZE_MAX = 32768;
export const DESC_SIZE = 16;

const hex = (n: number): string => `0x${n.toString(16)}`;

/** Bytes of the three areas for a queue of `size` entries (§2.7, with the event-index words). */
export function ringSizes(size: number): { desc: number; driver: number; device: number } {
  return { desc: DESC_SIZE * size, driver: 6 + 2 * size, device: 6 + 8 * size };
}

/**
 * One available buffer: the device-readable segments first, then the device-writable ones,
 * already checked against guest memory. read()/write() address each part as one byte stream.
 */
export class DescriptorChain {
  /** Total bytes the device may read / write. */
  readableBytes = 0;
  writableBytes = 0;
  /** Segments [addr, len]; the first `readableCount` are device-readable. */
  readonly addrs: number[] = [];
  readonly lens: number[] = [];
  readableCount = 0;

  constructor(readonly head: number, private readonly memory: GuestMemory) {}

  /** Copies up to buf.length readable bytes starting at `offset` of the readable part; returns the count. */
  read(offset: number, buf: Uint8Array): number {
    return this.copy(0, this.readableCount, offset, buf, false);
  }

  /** Copies data into the writable part at `offset` (truncated at its end); returns the count. */
  write(offset: number, data: Uint8Array): number {
    return this.copy(this.readableCount, this.addrs.length, offset, data, true);
  }

  private copy(first: number, end: number, offset: number, buf: Uint8Array, toGuest: boolean): number {
    let done = 0;
    let skip = offset;
    for (let i = first; i < end && done < buf.length; i++) {
      const len = this.lens[i];
      if (skip >= len) {
        skip -= len;
        continue;
      }
      const n = Math.min(len - skip, buf.length - done);
      const gpa = this.addrs[i] + skip;
      const piece = buf.subarray(done, done + n);
      const ok = toGuest ? this.memory.write(gpa, piece) : this.memory.read(gpa, piece);
      if (!ok) throw new VirtioError(`buffer at ${hex(gpa)}+${n} is no longer guest memory`);
      done += n;
      skip = 0;
    }
    return done;
  }
}

export class Virtqueue {
  /** Queue Size the driver chose (QueueNum); a power of two up to maxSize. */
  size: number;
  /** Guest-physical addresses of the descriptor table, driver area and device area. */
  desc = 0;
  driver = 0;
  device = 0;
  ready = false;

  private eventIdx = false;
  private indirect = false;
  private lastAvail = 0;
  private usedIdx = 0;
  private signalledUsed = 0;
  private signalledValid = false;
  private readonly s2 = new Uint8Array(2);
  private readonly s2v = new DataView(this.s2.buffer);
  private readonly s8 = new Uint8Array(8);
  private readonly s8v = new DataView(this.s8.buffer);
  private readonly s16 = new Uint8Array(DESC_SIZE);
  private readonly s16v = new DataView(this.s16.buffer);

  constructor(readonly index: number, readonly maxSize: number, private readonly memory: GuestMemory) {
    this.size = maxSize;
  }

  /** Device reset: back to the power-on state. */
  reset(): void {
    this.size = this.maxSize;
    this.desc = this.driver = this.device = 0;
    this.ready = false;
    this.eventIdx = this.indirect = false;
    this.lastAvail = this.usedIdx = this.signalledUsed = 0;
    this.signalledValid = false;
  }

  /**
   * QueueReady = 1: check the layout the driver wrote (§2.7: size a power of two, alignment 16 /
   * 2 / 4, every area inside guest memory) and start from index 0.
   */
  enable(features: bigint): void {
    const s = this.size;
    if (s < 1 || s > this.maxSize || (s & (s - 1)) !== 0) throw new VirtioError(`queue ${this.index}: size ${s} is not a power of two up to ${this.maxSize}`);
    const sz = ringSizes(s);
    for (const [what, addr, len, align] of [
      ['descriptor table', this.desc, sz.desc, 16],
      ['driver area', this.driver, sz.driver, 2],
      ['device area', this.device, sz.device, 4],
    ] as const) {
      if (addr % align !== 0) throw new VirtioError(`queue ${this.index}: ${what} at ${hex(addr)} is not ${align}-byte aligned`);
      if (!this.memory.valid(addr, len)) throw new VirtioError(`queue ${this.index}: ${what} at ${hex(addr)}+${len} is outside guest memory`);
    }
    this.eventIdx = (features & bit(VIRTIO_RING_F_EVENT_IDX)) !== 0n;
    this.indirect = (features & bit(VIRTIO_RING_F_INDIRECT_DESC)) !== 0n;
    this.lastAvail = this.usedIdx = this.signalledUsed = 0;
    this.signalledValid = false;
    this.ready = true;
  }

  /** Available buffers not yet taken (0 when the queue is not ready). */
  pending(): number {
    if (!this.ready) return 0;
    return this.availDistance();
  }

  /** Takes the next available descriptor chain, or null when the driver has offered none. */
  pop(): DescriptorChain | null {
    if (!this.ready) return null;
    const n = this.availDistance();
    if (n === 0) {
      this.publishAvailEvent();
      return null;
    }
    const head = this.read16(this.driver + 4 + 2 * (this.lastAvail % this.size), 'available ring');
    if (head >= this.size) throw new VirtioError(`queue ${this.index}: available ring entry ${this.lastAvail} names descriptor ${head}, past the table of ${this.size}`);
    const chain = this.walk(head);
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    this.publishAvailEvent();
    return chain;
  }

  /**
   * Serves every available chain: `serve` does the work and returns the bytes it wrote into the
   * chain, which then goes to the used ring. True when at least one chain was used.
   */
  serveAll(serve: (chain: DescriptorChain) => number): boolean {
    let used = false;
    for (let chain = this.pop(); chain !== null; chain = this.pop()) {
      this.push(chain, serve(chain));
      used = true;
    }
    return used;
  }

  /** Returns a chain to the driver through the used ring, `written` bytes of it filled. */
  push(chain: DescriptorChain, written: number): void {
    const slot = this.device + 4 + 8 * (this.usedIdx % this.size);
    this.s8v.setUint32(0, chain.head, true);
    this.s8v.setUint32(4, Math.min(written, chain.writableBytes) >>> 0, true);
    this.put(slot, this.s8, 'used ring');
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    this.s2v.setUint16(0, this.usedIdx, true);
    this.put(this.device + 2, this.s2, 'used index');
  }

  /**
   * After push(): whether the driver wants a used-buffer notification now (§2.7.10): with
   * EVENT_IDX when used_event lies in the entries added since the last check, else unless the
   * driver set VIRTQ_AVAIL_F_NO_INTERRUPT.
   */
  shouldInterrupt(): boolean {
    if (!this.eventIdx) return (this.read16(this.driver, 'driver flags') & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
    const usedEvent = this.read16(this.driver + 4 + 2 * this.size, 'used_event');
    const now = this.usedIdx;
    const old = this.signalledUsed;
    const valid = this.signalledValid;
    this.signalledUsed = now;
    this.signalledValid = true;
    if (!valid) return true;
    // vring_need_event(): the event index lies in (old, now].
    return ((now - usedEvent - 1) & 0xffff) < ((now - old) & 0xffff);
  }

  private availDistance(): number {
    const idx = this.read16(this.driver + 2, 'available index');
    const n = (idx - this.lastAvail) & 0xffff;
    if (n > this.size) throw new VirtioError(`queue ${this.index}: available index ${idx} is ${n} entries ahead of ${this.lastAvail}, more than the queue size ${this.size}`);
    return n;
  }

  // With EVENT_IDX the device asks to be notified when the driver makes entry `lastAvail` available.
  private publishAvailEvent(): void {
    if (!this.eventIdx) return;
    this.s2v.setUint16(0, this.lastAvail, true);
    this.put(this.device + 4 + 8 * this.size, this.s2, 'avail_event');
  }

  private walk(head: number): DescriptorChain {
    const chain = new DescriptorChain(head, this.memory);
    const q = `queue ${this.index}`;
    let table = this.desc;
    let tableSize = this.size;
    let inIndirect = false;
    let i = head;
    let count = 0;
    for (;;) {
      // A chain visits each descriptor of its table at most once; more means a loop (§2.7.5.2).
      if (++count > tableSize) throw new VirtioError(`${q}: descriptor loop in the chain from head ${head}${inIndirect ? ' (indirect table)' : ''}`);
      if (!this.memory.read(table + DESC_SIZE * i, this.s16)) throw new VirtioError(`${q}: descriptor ${i} at ${hex(table + DESC_SIZE * i)} is outside guest memory`);
      const v = this.s16v;
      const lo = v.getUint32(0, true);
      const hi = v.getUint32(4, true);
      const addr = hi * 4294967296 + lo;
      const len = v.getUint32(8, true);
      const flags = v.getUint16(12, true);
      const next = v.getUint16(14, true);
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        // §2.7.5.3.1: only with the feature, not inside an indirect table, not with NEXT.
        if (!this.indirect) throw new VirtioError(`${q}: indirect descriptor ${i} without VIRTIO_F_INDIRECT_DESC`);
        if (inIndirect) throw new VirtioError(`${q}: indirect descriptor inside an indirect table (chain from head ${head})`);
        if (flags & VIRTQ_DESC_F_NEXT) throw new VirtioError(`${q}: descriptor ${i} has both INDIRECT and NEXT`);
        if (len === 0 || len % DESC_SIZE !== 0) throw new VirtioError(`${q}: indirect table of ${len} bytes is not a whole number of descriptors`);
        if (len / DESC_SIZE > this.size) throw new VirtioError(`${q}: indirect table of ${len / DESC_SIZE} descriptors is longer than the queue size ${this.size}`);
        if (!this.memory.valid(addr, len)) throw new VirtioError(`${q}: indirect table at ${hex(addr)}+${len} is outside guest memory`);
        table = addr;
        tableSize = len / DESC_SIZE;
        inIndirect = true;
        i = 0;
        count = 0;
        continue;
      }
      if (!this.memory.valid(addr, len)) throw new VirtioError(`${q}: buffer at ${hex(addr)}+${len} (descriptor ${i}) is outside guest memory`);
      if (chain.addrs.length >= this.size) throw new VirtioError(`${q}: chain from head ${head} is longer than the queue size ${this.size}`);
      chain.addrs.push(addr);
      chain.lens.push(len);
      if (flags & VIRTQ_DESC_F_WRITE) {
        chain.writableBytes += len;
      } else {
        // §2.7.4.2: device-writable descriptors follow all device-readable ones.
        if (chain.addrs.length - 1 > chain.readableCount) {
          throw new VirtioError(`${q}: device-readable descriptor ${i} after a device-writable one (chain from head ${head})`);
        }
        chain.readableCount++;
        chain.readableBytes += len;
      }
      if (!(flags & VIRTQ_DESC_F_NEXT)) return chain;
      if (next >= tableSize) throw new VirtioError(`${q}: descriptor ${i} links to ${next}, past the table of ${tableSize}`);
      i = next;
    }
  }

  private read16(gpa: number, what: string): number {
    if (!this.memory.read(gpa, this.s2)) throw new VirtioError(`queue ${this.index}: ${what} at ${hex(gpa)} is no longer guest memory`);
    return this.s2v.getUint16(0, true);
  }

  private put(gpa: number, data: Uint8Array, what: string): void {
    if (!this.memory.write(gpa, data)) throw new VirtioError(`queue ${this.index}: ${what} at ${hex(gpa)} is no longer guest memory`);
  }
}
