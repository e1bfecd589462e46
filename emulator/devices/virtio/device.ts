// The contract between a virtio transport (mmio.ts) and a device model (blk.ts, console.ts,
// rng.ts): feature bits and status bits of virtio v1.2 §2.1-§2.2 and §6, the device's side of
// the transport, and the error that a malformed request or ring raises.
import type { GuestMemory } from './guest-memory.ts';
import type { Virtqueue } from './virtqueue.ts';

// Device status field (§2.1).
export const STATUS_ACKNOWLEDGE = 1;
export const STATUS_DRIVER = 2;
export const STATUS_DRIVER_OK = 4;
export const STATUS_FEATURES_OK = 8;
export const STATUS_DEVICE_NEEDS_RESET = 0x40;
export const STATUS_FAILED = 0x80;

// Reserved feature bits (§6) this implementation offers.
export const VIRTIO_RING_F_INDIRECT_DESC = 28;
export const VIRTIO_RING_F_EVENT_IDX = 29;
export const VIRTIO_F_VERSION_1 = 32;

// Device IDs (§5).
export const VIRTIO_ID_NET = 1;
export const VIRTIO_ID_BLOCK = 2;
export const VIRTIO_ID_CONSOLE = 3;
export const VIRTIO_ID_RNG = 4;

/** Bit n of a feature set. */
export const bit = (n: number): bigint => 1n << BigInt(n);

/** A little-endian read of a device configuration space held in a DataView; 0 outside it. */
export function readConfigSpace(config: DataView, offset: number, size: 1 | 2 | 4): number {
  if (offset < 0 || offset + size > config.byteLength) return 0;
  return size === 1 ? config.getUint8(offset) : size === 2 ? config.getUint16(offset, true) : config.getUint32(offset, true);
}

/**
 * The driver broke the protocol in a way the device cannot answer in-band (a descriptor loop, an
 * address outside guest memory, a request without a status byte): the transport sets
 * DEVICE_NEEDS_RESET and logs the message once.
 */
export class VirtioError extends Error {}

/** What a device model asks of its transport. */
export interface VirtioDeviceHost {
  /** The driver's memory, as this device may reach it. */
  readonly memory: GuestMemory;
  /** Features both sides agreed on (valid once FEATURES_OK). */
  readonly features: bigint;
  /** The driver is up (DRIVER_OK) and the device has not failed: work from outside may start. */
  readonly live: boolean;
  /** Queue i (its `ready` says whether the driver enabled it). */
  queue(i: number): Virtqueue;
  /** Used buffers were added to q: raise the used-buffer interrupt unless the driver suppressed it. */
  usedBuffers(q: Virtqueue): void;
  /** The device configuration space changed: bump ConfigGeneration, raise the config interrupt. */
  configChanged(): void;
  /**
   * Ask the transport to run the device's notify(i) as if the driver had kicked queue i (work
   * from outside the guest: console input). Nothing happens unless the driver is ready.
   */
  kick(i: number): void;
  /** One line about something the user should know (a host I/O error), prefixed with the device's name. */
  log(line: string): void;
}

/** A virtio device type behind any transport. */
export interface VirtioDevice {
  /** Device ID (§5): VIRTIO_ID_BLOCK... */
  readonly deviceId: number;
  /** Short name for log lines ("virtio-blk"). */
  readonly name: string;
  /** Device-type feature bits; the transport adds VERSION_1, INDIRECT_DESC and EVENT_IDX. */
  readonly features: bigint;
  /** Maximum size of each virtqueue (QueueNumMax); the length is the number of queues. */
  readonly queueSizes: readonly number[];
  /** Called once by the transport that serves this device. */
  attach(host: VirtioDeviceHost): void;
  /** Device configuration space, little-endian, at any offset and width the driver uses. */
  readConfig(offset: number, size: 1 | 2 | 4): number;
  writeConfig(offset: number, size: 1 | 2 | 4, value: number): void;
  /**
   * Queue i has new available buffers (driver notification, or kick()). Runs only while the
   * driver is ready (DRIVER_OK, no DEVICE_NEEDS_RESET). May throw VirtioError.
   */
  notify(i: number): void;
  /** Device reset (status written 0): forget everything in flight; the transport resets the queues. */
  reset(): void;
}
