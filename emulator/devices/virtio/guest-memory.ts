// What a virtio device sees of the memory of the driver it serves (virtio v1.2 §2.7: rings and
// buffers are addressed by the driver's physical addresses). A native boot hands the devices
// the board's physical address space (BusGuestMemory); under the hypervisor a VM's view
// translates guest-physical addresses through that VM's stage 2, so the same device models serve
// both. Every access is checked: an address the driver may not use is refused with `false`,
// never with a host exception.
import type { Bus } from '../../bus/bus.ts';

export interface GuestMemory {
  /** True when the device may read and write every byte of [gpa, gpa+len). */
  valid(gpa: number, len: number): boolean;
  /** Copies [gpa, gpa+buf.length) into buf; false (buf unspecified) when not all of it is valid. */
  read(gpa: number, buf: Uint8Array): boolean;
  /** Copies data to gpa; false (nothing written) when not all of [gpa, gpa+data.length) is valid. */
  write(gpa: number, data: Uint8Array): boolean;
}

/**
 * Identity view of the board's RAM for native boots. Writes go through Bus.writeBytes so the
 * CPUs drop decoded instructions of the pages a device writes (a disk read into a page that
 * held code). MMIO is not DMA-able: only RAM is valid.
 */
export class BusGuestMemory implements GuestMemory {
  constructor(private readonly bus: Bus) {}

  valid(gpa: number, len: number): boolean {
    return this.bus.isRam(gpa, len);
  }

  read(gpa: number, buf: Uint8Array): boolean {
    if (!this.bus.isRam(gpa, buf.length)) return false;
    this.bus.readInto(gpa, buf);
    return true;
  }

  write(gpa: number, data: Uint8Array): boolean {
    if (!this.bus.isRam(gpa, data.length)) return false;
    this.bus.writeBytes(gpa, data);
    return true;
  }
}

/** A flat window of memory at [base, base+bytes.length): tests, and small self-contained rigs. */
export class ArrayGuestMemory implements GuestMemory {
  readonly bytes: Uint8Array;
  constructor(readonly base: number, size: number) {
    this.bytes = new Uint8Array(size);
  }

  valid(gpa: number, len: number): boolean {
    return Number.isSafeInteger(gpa) && Number.isSafeInteger(len) && len >= 0 && gpa >= this.base && gpa + len <= this.base + this.bytes.length;
  }

  read(gpa: number, buf: Uint8Array): boolean {
    if (!this.valid(gpa, buf.length)) return false;
    buf.set(this.bytes.subarray(gpa - this.base, gpa - this.base + buf.length));
    return true;
  }

  write(gpa: number, data: Uint8Array): boolean {
    if (!this.valid(gpa, data.length)) return false;
    this.bytes.set(data, gpa - this.base);
    return true;
  }
}
