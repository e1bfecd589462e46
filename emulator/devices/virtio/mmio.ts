// The virtio-mmio transport, version 2 (virtio v1.2 §4.2.2), as Linux's virtio_mmio.c drives
// it: identification, 64-bit feature negotiation in two 32-bit windows (VIRTIO_F_VERSION_1
// required: no legacy devices), the status field, per-queue size and area addresses, QueueReady,
// QueueNotify, InterruptStatus / InterruptACK, ConfigGeneration and the device configuration
// space from 0x100.
//
// The interrupt line is level: asserted while InterruptStatus is non-zero (bit 0 used buffer,
// bit 1 configuration change). On a GIC SPI configured edge-triggered (QEMU's device tree, and
// ours) each 0 -> 1 change is one edge; Linux's vm_interrupt acknowledges before it walks the
// queues, so a buffer used afterwards raises a new edge.
//
// A malformed ring or request (VirtioError from the queue or the device) moves the device to
// DEVICE_NEEDS_RESET with one log line and a configuration-change interrupt (§2.1.2); it then
// ignores notifications until the driver resets it by writing 0 to Status.
import type { MmioDevice } from '../../bus/device.ts';
import type { IrqLine } from '../irq.ts';
import {
  bit, STATUS_DEVICE_NEEDS_RESET, STATUS_DRIVER_OK, STATUS_FEATURES_OK, VIRTIO_F_VERSION_1, VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC, type VirtioDevice, type VirtioDeviceHost, VirtioError,
} from './device.ts';
import type { GuestMemory } from './guest-memory.ts';
import { Virtqueue } from './virtqueue.ts';

// Register offsets (§4.2.2, include/uapi/linux/virtio_mmio.h).
export const MMIO_MAGIC_VALUE = 0x000;
export const MMIO_VERSION = 0x004;
export const MMIO_DEVICE_ID = 0x008;
export const MMIO_VENDOR_ID = 0x00c;
export const MMIO_DEVICE_FEATURES = 0x010;
export const MMIO_DEVICE_FEATURES_SEL = 0x014;
export const MMIO_DRIVER_FEATURES = 0x020;
export const MMIO_DRIVER_FEATURES_SEL = 0x024;
export const MMIO_QUEUE_SEL = 0x030;
export const MMIO_QUEUE_NUM_MAX = 0x034;
export const MMIO_QUEUE_NUM = 0x038;
export const MMIO_QUEUE_READY = 0x044;
export const MMIO_QUEUE_NOTIFY = 0x050;
export const MMIO_INTERRUPT_STATUS = 0x060;
export const MMIO_INTERRUPT_ACK = 0x064;
export const MMIO_STATUS = 0x070;
export const MMIO_QUEUE_DESC_LOW = 0x080;
export const MMIO_QUEUE_DESC_HIGH = 0x084;
export const MMIO_QUEUE_DRIVER_LOW = 0x090;
export const MMIO_QUEUE_DRIVER_HIGH = 0x094;
export const MMIO_QUEUE_DEVICE_LOW = 0x0a0;
export const MMIO_QUEUE_DEVICE_HIGH = 0x0a4;
export const MMIO_SHM_SEL = 0x0ac;
export const MMIO_SHM_LEN_LOW = 0x0b0;
export const MMIO_SHM_LEN_HIGH = 0x0b4;
export const MMIO_SHM_BASE_LOW = 0x0b8;
export const MMIO_SHM_BASE_HIGH = 0x0bc;
export const MMIO_CONFIG_GENERATION = 0x0fc;
export const MMIO_CONFIG = 0x100;

export const MMIO_MAGIC = 0x74726976; // "virt"
export const INT_USED_BUFFER = 1;
export const INT_CONFIG_CHANGE = 2;
/** VendorID of QEMU's transport, which the board's empty slots report too. */
export const VENDOR_QEMU = 0x554d4551;

/** Transport features every device gets (§6). */
export const TRANSPORT_FEATURES = bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_RING_F_INDIRECT_DESC) | bit(VIRTIO_RING_F_EVENT_IDX);

export interface VirtioMmioOptions {
  device: VirtioDevice;
  /** The driver's memory: BusGuestMemory natively, a stage-2 translating view for a VM. */
  memory: GuestMemory;
  /** The device's interrupt: a GIC SPI natively, an injection into the VM under the hypervisor. */
  irq: IrqLine;
  /** Name in log lines, e.g. "virtio-blk@a000000" (default: the device's name). */
  name?: string;
  /** VendorID register (default QEMU's; Rust-Shyper reports 0x8888). */
  vendorId?: number;
  /** Where the one line about a device error goes (default: stderr). */
  log?: (line: string) => void;
}

export class VirtioMmio implements MmioDevice {
  readonly name: string;
  readonly device: VirtioDevice;
  private readonly memory: GuestMemory;
  private readonly irq: IrqLine;
  private readonly vendorId: number;
  private readonly log: (line: string) => void;
  private readonly queues: Virtqueue[];
  private readonly offered: bigint;

  private status = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverFeatures = 0n;
  private queueSel = 0;
  private interruptStatus = 0;
  private configGeneration = 0;
  private irqLevel = false;
  /** Set while the device is running notify(): kicks from inside are folded into the loop. */
  private busy = false;
  private pendingKicks = 0;

  constructor(o: VirtioMmioOptions) {
    this.device = o.device;
    this.name = o.name ?? o.device.name;
    this.memory = o.memory;
    this.irq = o.irq;
    this.vendorId = o.vendorId ?? VENDOR_QEMU;
    this.log = o.log ?? ((line) => process.stderr.write(line + '\n'));
    this.queues = o.device.queueSizes.map((n, i) => new Virtqueue(i, n, o.memory));
    if (this.queues.length > 31) throw new Error(`${this.name}: more than 31 queues`);
    this.offered = o.device.features | TRANSPORT_FEATURES;
    const negotiated = (): bigint => (this.status & STATUS_FEATURES_OK ? this.driverFeatures : 0n);
    const live = (): boolean => this.live;
    const host: VirtioDeviceHost = {
      memory: this.memory,
      get features() {
        return negotiated();
      },
      get live() {
        return live();
      },
      queue: (i) => this.queues[i]!,
      usedBuffers: (q) => this.usedBuffers(q),
      configChanged: () => this.configChanged(),
      kick: (i) => this.kick(i),
      log: (line) => this.log(`${this.name}: ${line}`),
    };
    o.device.attach(host);
  }

  /** The Status register (tests, debugger). */
  get deviceStatus(): number {
    return this.status;
  }

  /** True once DRIVER_OK is set and the device has not failed. */
  get live(): boolean {
    return (this.status & (STATUS_DRIVER_OK | STATUS_DEVICE_NEEDS_RESET)) === STATUS_DRIVER_OK;
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (offset >= MMIO_CONFIG) return this.device.readConfig(offset - MMIO_CONFIG, size) >>> 0;
    // §4.2.2.2: control registers are 32-bit wide and aligned; anything else reads as 0.
    if (size !== 4 || offset & 3) return 0;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case MMIO_MAGIC_VALUE:
        return MMIO_MAGIC;
      case MMIO_VERSION:
        return 2;
      case MMIO_DEVICE_ID:
        return this.device.deviceId;
      case MMIO_VENDOR_ID:
        return this.vendorId >>> 0;
      case MMIO_DEVICE_FEATURES:
        return this.deviceFeaturesSel > 1 ? 0 : Number((this.offered >> BigInt(32 * this.deviceFeaturesSel)) & 0xffffffffn);
      case MMIO_QUEUE_NUM_MAX:
        return q ? q.maxSize : 0;
      case MMIO_QUEUE_READY:
        return q?.ready ? 1 : 0;
      case MMIO_INTERRUPT_STATUS:
        return this.interruptStatus;
      case MMIO_STATUS:
        return this.status;
      case MMIO_SHM_LEN_LOW:
      case MMIO_SHM_LEN_HIGH:
      case MMIO_SHM_BASE_LOW:
      case MMIO_SHM_BASE_HIGH:
        return 0xffffffff; // no shared memory regions: length ~0 (virtio_mmio.c vm_get_shm_region)
      case MMIO_CONFIG_GENERATION:
        return this.configGeneration;
      default:
        return 0;
    }
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset >= MMIO_CONFIG) {
      this.device.writeConfig(offset - MMIO_CONFIG, size, value);
      return;
    }
    if (size !== 4 || offset & 3) return;
    const v = value >>> 0;
    const q = this.queues[this.queueSel];
    // §4.2.2.3: the queue's size and addresses may change only while it is not ready.
    const qw = q !== undefined && !q.ready;
    switch (offset) {
      case MMIO_DEVICE_FEATURES_SEL:
        this.deviceFeaturesSel = v;
        return;
      case MMIO_DRIVER_FEATURES_SEL:
        this.driverFeaturesSel = v;
        return;
      case MMIO_DRIVER_FEATURES:
        // Feature bits are frozen once FEATURES_OK is set (§3.1.1 step 5).
        if (this.status & STATUS_FEATURES_OK || this.driverFeaturesSel > 1) return;
        {
          const shift = BigInt(32 * this.driverFeaturesSel);
          this.driverFeatures = (this.driverFeatures & ~(0xffffffffn << shift)) | (BigInt(v) << shift);
        }
        return;
      case MMIO_QUEUE_SEL:
        this.queueSel = v;
        return;
      case MMIO_QUEUE_NUM:
        if (qw) q.size = v;
        return;
      case MMIO_QUEUE_READY:
        if (q) this.setQueueReady(q, (v & 1) === 1);
        return;
      case MMIO_QUEUE_NOTIFY:
        this.kick(v & 0xffff);
        return;
      case MMIO_INTERRUPT_ACK:
        this.interruptStatus &= ~v;
        this.updateIrq();
        return;
      case MMIO_STATUS:
        this.writeStatus(v & 0xff);
        return;
      case MMIO_QUEUE_DESC_LOW:
        if (qw) q.desc = setLow(q.desc, v);
        return;
      case MMIO_QUEUE_DESC_HIGH:
        if (qw) q.desc = setHigh(q.desc, v);
        return;
      case MMIO_QUEUE_DRIVER_LOW:
        if (qw) q.driver = setLow(q.driver, v);
        return;
      case MMIO_QUEUE_DRIVER_HIGH:
        if (qw) q.driver = setHigh(q.driver, v);
        return;
      case MMIO_QUEUE_DEVICE_LOW:
        if (qw) q.device = setLow(q.device, v);
        return;
      case MMIO_QUEUE_DEVICE_HIGH:
        if (qw) q.device = setHigh(q.device, v);
        return;
      default:
        return; // read-only or legacy (GuestPageSize, QueueAlign, QueuePFN): ignored
    }
  }

  /** Device reset (Status = 0, or the board's reset). */
  reset(): void {
    this.status = 0;
    this.deviceFeaturesSel = this.driverFeaturesSel = 0;
    this.driverFeatures = 0n;
    this.queueSel = 0;
    this.interruptStatus = 0;
    for (const q of this.queues) q.reset();
    this.device.reset();
    this.updateIrq();
  }

  private writeStatus(v: number): void {
    if (v === 0) {
      this.reset();
      return;
    }
    const was = this.status;
    let next = v | (was & STATUS_DEVICE_NEEDS_RESET);
    if (next & STATUS_FEATURES_OK && !(was & STATUS_FEATURES_OK)) {
      // §2.2.2 / §3.1.1: accept only a subset of what was offered, and never a legacy driver.
      const f = this.driverFeatures;
      if ((f & ~this.offered) !== 0n || (f & bit(VIRTIO_F_VERSION_1)) === 0n) next &= ~STATUS_FEATURES_OK;
    }
    this.status = next;
    if (next & STATUS_DRIVER_OK && !(was & STATUS_DRIVER_OK)) {
      // Buffers the driver made available before DRIVER_OK are served now (§3.1.1 step 8).
      for (const q of this.queues) if (q.ready) this.kick(q.index);
    }
  }

  private setQueueReady(q: Virtqueue, on: boolean): void {
    if (!on) {
      q.ready = false;
      return;
    }
    if (q.ready || this.status & STATUS_DEVICE_NEEDS_RESET) return;
    try {
      q.enable(this.driverFeatures);
    } catch (e) {
      if (!(e instanceof VirtioError)) throw e;
      this.fail(e.message);
    }
  }

  private kick(i: number): void {
    const q = this.queues[i];
    if (q === undefined || !q.ready || !this.live) return;
    if (this.busy) {
      // A device asking to run again from inside notify() (console input while transmitting).
      this.pendingKicks |= 1 << i;
      return;
    }
    this.busy = true;
    try {
      this.device.notify(i);
      while (this.pendingKicks !== 0 && this.live) {
        const k = 31 - Math.clz32(this.pendingKicks & -this.pendingKicks);
        this.pendingKicks &= ~(1 << k);
        if (this.queues[k]?.ready) this.device.notify(k);
      }
    } catch (e) {
      if (!(e instanceof VirtioError)) throw e;
      this.fail(e.message);
    } finally {
      this.busy = false;
      this.pendingKicks = 0;
    }
  }

  private usedBuffers(q: Virtqueue): void {
    if (q.shouldInterrupt()) this.raise(INT_USED_BUFFER);
  }

  private configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) >>> 0;
    if (this.status & STATUS_DRIVER_OK) this.raise(INT_CONFIG_CHANGE);
  }

  /** DEVICE_NEEDS_RESET, one log line, and a configuration-change interrupt if the driver is up. */
  private fail(reason: string): void {
    if (this.status & STATUS_DEVICE_NEEDS_RESET) return;
    this.status |= STATUS_DEVICE_NEEDS_RESET;
    this.log(`${this.name}: ${reason}; device needs reset`);
    if (this.status & STATUS_DRIVER_OK) this.raise(INT_CONFIG_CHANGE);
  }

  private raise(bits: number): void {
    this.interruptStatus |= bits;
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = this.interruptStatus !== 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }
}

const setLow = (cur: number, v: number): number => Math.floor(cur / 4294967296) * 4294967296 + v;
const setHigh = (cur: number, v: number): number => v * 4294967296 + (cur % 4294967296);
