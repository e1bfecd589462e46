// A PhysicalMemory that is only RAM, from physical address 0: for CPU unit tests, the
// instruction oracle and user-mode programs (run-elf), where no devices exist.
import { BusError } from '../bus/device.ts';
import type { PhysicalMemory } from './memory.ts';
import { CodeCache } from './code-cache.ts';
import { GuestMemory } from './jit/guest-memory.ts';

export class FlatMemory implements PhysicalMemory {
  readonly buffer: ArrayBuffer;
  readonly ram: DataView;
  readonly ramBytes: Uint8Array;
  readonly codeCache = new CodeCache();
  /** RAM at offset 0 of the wasm memory the CPUs' state shares (jit/guest-memory.ts). */
  readonly guest: GuestMemory;

  constructor(readonly size: number) {
    this.guest = new GuestMemory(size);
    this.buffer = this.guest.buffer;
    this.ram = new DataView(this.buffer, 0, size);
    this.ramBytes = new Uint8Array(this.buffer, 0, size);
  }

  ramOffset(pa: number): number {
    return pa >= 0 && pa < this.size ? pa : -1;
  }
  read(pa: number, size: 1 | 2 | 4): number {
    if (this.ramOffset(pa) < 0 || pa + size > this.size) throw new BusError(pa, false, size);
    return size === 1 ? this.ram.getUint8(pa) : size === 2 ? this.ram.getUint16(pa, true) : this.ram.getUint32(pa, true);
  }
  write(pa: number, size: 1 | 2 | 4, value: number): void {
    if (this.ramOffset(pa) < 0 || pa + size > this.size) throw new BusError(pa, true, size);
    this.codeCache.invalidate(pa, size);
    if (size === 1) this.ram.setUint8(pa, value);
    else if (size === 2) this.ram.setUint16(pa, value, true);
    else this.ram.setUint32(pa, value >>> 0, true);
  }
  read64(pa: number): bigint {
    if (this.ramOffset(pa) < 0 || pa + 8 > this.size) throw new BusError(pa, false, 8);
    return this.ram.getBigUint64(pa, true);
  }
  write64(pa: number, value: bigint): void {
    if (this.ramOffset(pa) < 0 || pa + 8 > this.size) throw new BusError(pa, true, 8);
    this.codeCache.invalidate(pa, 8);
    this.ram.setBigUint64(pa, value, true);
  }
  /** Copy data into RAM at pa (loader, DMA): drops decoded code there. */
  writeBytes(pa: number, data: Uint8Array): void {
    if (pa < 0 || pa + data.length > this.size) throw new BusError(pa, true, data.length);
    this.ramBytes.set(data, pa);
    this.codeCache.invalidate(pa, data.length);
  }
}
