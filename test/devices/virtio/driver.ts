// A virtio driver for the device tests, doing what Linux's virtio_mmio.c and virtio_ring.c do
// (probe, feature negotiation, vm_setup_vq, virtqueue_add_split, virtqueue_kick, vm_interrupt),
// over an ArrayGuestMemory, so each test reads as the driver's steps and the device's answers.
import type { IrqLine } from '../../../emulator/devices/irq.ts';
import {
  bit, readConfigSpace, STATUS_ACKNOWLEDGE, STATUS_DRIVER, STATUS_DRIVER_OK, STATUS_FEATURES_OK, type VirtioDevice, type VirtioDeviceHost, VIRTIO_F_VERSION_1,
} from '../../../emulator/devices/virtio/device.ts';
import { ArrayGuestMemory } from '../../../emulator/devices/virtio/guest-memory.ts';
import * as R from '../../../emulator/devices/virtio/mmio.ts';
import { VirtioMmio } from '../../../emulator/devices/virtio/mmio.ts';
import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '../../../emulator/devices/virtio/virtqueue.ts';

export const RAM_BASE = 0x4000_0000;
export const RAM_SIZE = 0x10_0000;

export class Wire implements IrqLine {
  level = false;
  rises = 0;
  set(level: boolean): void {
    if (level && !this.level) this.rises++;
    this.level = level;
  }
}

export interface Buf {
  addr: number;
  len: number;
  /** Device-writable. */
  write?: boolean;
}

export class Rig<D extends VirtioDevice = VirtioDevice> {
  readonly mem = new ArrayGuestMemory(RAM_BASE, RAM_SIZE);
  readonly irq = new Wire();
  readonly log: string[] = [];
  readonly t: VirtioMmio;
  /** Bump allocator for rings and buffers (never reused: tests stay readable). */
  private next = RAM_BASE;

  constructor(readonly device: D) {
    this.t = new VirtioMmio({ device, memory: this.mem, irq: this.irq, log: (l) => this.log.push(l) });
  }

  r(off: number): number {
    return this.t.read(off, 4);
  }
  w(off: number, v: number): void {
    this.t.write(off, 4, v);
  }

  alloc(len: number, align = 16): number {
    this.next = Math.ceil(this.next / align) * align;
    const a = this.next;
    this.next += len;
    if (this.next > RAM_BASE + RAM_SIZE) throw new Error('test RAM exhausted');
    return a;
  }

  /** Bytes into guest memory at a fresh address. */
  put(data: Uint8Array | string): number {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const a = this.alloc(Math.max(bytes.length, 1));
    this.mem.write(a, bytes);
    return a;
  }

  bytes(addr: number, len: number): Uint8Array {
    const b = new Uint8Array(len);
    if (!this.mem.read(addr, b)) throw new Error('bad read');
    return b;
  }

  /** vm_get_features(). */
  deviceFeatures(): bigint {
    this.w(R.MMIO_DEVICE_FEATURES_SEL, 1);
    const hi = this.r(R.MMIO_DEVICE_FEATURES);
    this.w(R.MMIO_DEVICE_FEATURES_SEL, 0);
    const lo = this.r(R.MMIO_DEVICE_FEATURES);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** virtio_dev_probe() up to FEATURES_OK; returns the status read back. */
  negotiate(features: bigint): number {
    this.w(R.MMIO_STATUS, 0);
    this.w(R.MMIO_STATUS, STATUS_ACKNOWLEDGE);
    this.w(R.MMIO_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
    this.w(R.MMIO_DRIVER_FEATURES_SEL, 1);
    this.w(R.MMIO_DRIVER_FEATURES, Number(features >> 32n));
    this.w(R.MMIO_DRIVER_FEATURES_SEL, 0);
    this.w(R.MMIO_DRIVER_FEATURES, Number(features & 0xffffffffn));
    this.w(R.MMIO_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
    return this.r(R.MMIO_STATUS);
  }

  /** The whole bring-up Linux does: every feature offered is accepted unless `features` says otherwise. */
  start(o: { features?: bigint; queues?: number[] } = {}): DriverQueue[] {
    const f = o.features ?? this.deviceFeatures();
    const st = this.negotiate(f | bit(VIRTIO_F_VERSION_1));
    if (!(st & STATUS_FEATURES_OK)) throw new Error('FEATURES_OK refused');
    const qs = (o.queues ?? this.device.queueSizes.map(() => 0)).map((size, i) => this.setupQueue(i, size, f));
    this.w(R.MMIO_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
    return qs;
  }

  /** vm_setup_vq(): size 0 means QueueNumMax. */
  setupQueue(index: number, size: number, features: bigint): DriverQueue {
    this.w(R.MMIO_QUEUE_SEL, index);
    if (this.r(R.MMIO_QUEUE_READY) !== 0) throw new Error('queue already set up');
    const max = this.r(R.MMIO_QUEUE_NUM_MAX);
    const num = size || max;
    const q = new DriverQueue(this, index, num, features);
    this.w(R.MMIO_QUEUE_NUM, num);
    this.w(R.MMIO_QUEUE_DESC_LOW, q.desc % 2 ** 32);
    this.w(R.MMIO_QUEUE_DESC_HIGH, Math.floor(q.desc / 2 ** 32));
    this.w(R.MMIO_QUEUE_DRIVER_LOW, q.avail % 2 ** 32);
    this.w(R.MMIO_QUEUE_DRIVER_HIGH, Math.floor(q.avail / 2 ** 32));
    this.w(R.MMIO_QUEUE_DEVICE_LOW, q.used % 2 ** 32);
    this.w(R.MMIO_QUEUE_DEVICE_HIGH, Math.floor(q.used / 2 ** 32));
    this.w(R.MMIO_QUEUE_READY, 1);
    return q;
  }

  /** vm_interrupt(): read and acknowledge InterruptStatus. */
  interrupt(): number {
    const s = this.r(R.MMIO_INTERRUPT_STATUS);
    this.w(R.MMIO_INTERRUPT_ACK, s);
    return s;
  }
}

export interface Used {
  id: number;
  len: number;
}

/** One split virtqueue as virtio_ring.c lays it out (descriptor table, avail ring, used ring). */
export class DriverQueue {
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
  availIdx = 0;
  lastUsed = 0;
  private freeDesc = 0;

  constructor(readonly rig: Rig, readonly index: number, readonly size: number, features: bigint) {
    void features;
    this.desc = rig.alloc(16 * size, 16);
    this.avail = rig.alloc(6 + 2 * size, 2);
    this.used = rig.alloc(6 + 8 * size, 4);
  }

  /** Writes descriptor i of the table at `table`. */
  writeDesc(table: number, i: number, addr: number, len: number, flags: number, next: number): void {
    const b = new DataView(new ArrayBuffer(16));
    b.setUint32(0, addr % 2 ** 32, true);
    b.setUint32(4, Math.floor(addr / 2 ** 32), true);
    b.setUint32(8, len, true);
    b.setUint16(12, flags, true);
    b.setUint16(14, next, true);
    this.rig.mem.write(table + 16 * i, new Uint8Array(b.buffer));
  }

  /** virtqueue_add_split() with direct descriptors; returns the head. */
  add(bufs: Buf[]): number {
    const head = this.freeDesc;
    bufs.forEach((b, k) => {
      const i = (head + k) % this.size;
      const last = k === bufs.length - 1;
      this.writeDesc(this.desc, i, b.addr, b.len, (b.write ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT), last ? 0 : (i + 1) % this.size);
    });
    this.freeDesc = (head + bufs.length) % this.size;
    this.publish(head);
    return head;
  }

  /** virtqueue_add_split() through one indirect table (what Linux does for total_sg > 1). */
  addIndirect(bufs: Buf[]): number {
    const table = this.rig.alloc(16 * bufs.length, 16);
    bufs.forEach((b, k) => {
      const last = k === bufs.length - 1;
      this.writeDesc(table, k, b.addr, b.len, (b.write ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT), last ? 0 : k + 1);
    });
    const head = this.freeDesc;
    this.writeDesc(this.desc, head, table, 16 * bufs.length, VIRTQ_DESC_F_INDIRECT, 0);
    this.freeDesc = (head + 1) % this.size;
    this.publish(head);
    return head;
  }

  /** Puts `head` in the next avail slot and bumps avail.idx. */
  publish(head: number): void {
    this.set16(this.avail + 4 + 2 * (this.availIdx % this.size), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.set16(this.avail + 2, this.availIdx);
  }

  kick(): void {
    this.rig.w(R.MMIO_QUEUE_NOTIFY, this.index);
  }

  /** New used elements since the last call (virtqueue_get_buf_ctx_split). */
  takeUsed(): Used[] {
    const out: Used[] = [];
    const idx = this.get16(this.used + 2);
    while (this.lastUsed !== idx) {
      const e = this.rig.bytes(this.used + 4 + 8 * (this.lastUsed % this.size), 8);
      const v = new DataView(e.buffer);
      out.push({ id: v.getUint32(0, true), len: v.getUint32(4, true) });
      this.lastUsed = (this.lastUsed + 1) & 0xffff;
    }
    return out;
  }

  set16(addr: number, v: number): void {
    this.rig.mem.write(addr, Uint8Array.of(v & 0xff, (v >> 8) & 0xff));
  }
  get16(addr: number): number {
    const b = this.rig.bytes(addr, 2);
    return b[0] | (b[1] << 8);
  }
  /** avail->flags (VIRTQ_AVAIL_F_NO_INTERRUPT). */
  set availFlags(v: number) {
    this.set16(this.avail, v);
  }
  /** used_event, after the avail ring (EVENT_IDX). */
  set usedEvent(v: number) {
    this.set16(this.avail + 4 + 2 * this.size, v);
  }
  /** avail_event, after the used ring (EVENT_IDX). */
  get availEvent(): number {
    return this.get16(this.used + 4 + 8 * this.size);
  }
}

/**
 * A device for transport and queue tests: each chain's readable bytes are copied into its
 * writable part; records what it saw. Device ID 0x1ff (not a real type), one feature bit (0),
 * an 8-byte config space whose first word tests can change.
 */
export class EchoDevice implements VirtioDevice {
  readonly deviceId = 0x1ff;
  readonly name = 'echo';
  readonly features = bit(0);
  readonly config = new DataView(new ArrayBuffer(8));
  readonly seen: { head: number; readable: number; writable: number; segments: number; data: Uint8Array }[] = [];
  resets = 0;
  host!: VirtioDeviceHost;

  constructor(readonly queueSizes: readonly number[] = [16]) {
    this.config.setUint32(0, 0x11223344, true);
    this.config.setUint32(4, 0x55667788, true);
  }

  attach(host: VirtioDeviceHost): void {
    this.host = host;
  }
  readConfig(offset: number, size: 1 | 2 | 4): number {
    return readConfigSpace(this.config, offset, size);
  }
  writeConfig(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size === 4 && offset === 4) this.config.setUint32(4, value, true);
  }
  reset(): void {
    this.resets++;
  }
  notify(i: number): void {
    const q = this.host.queue(i);
    const used = q.serveAll((c) => {
      const data = new Uint8Array(c.readableBytes);
      c.read(0, data);
      this.seen.push({ head: c.head, readable: c.readableBytes, writable: c.writableBytes, segments: c.addrs.length, data });
      return c.write(0, data);
    });
    if (used) this.host.usedBuffers(q);
  }
  /** Host-side config change (a resize, a new capacity). */
  changeConfig(v: number): void {
    this.config.setUint32(0, v, true);
    this.host.configChanged();
  }
}
