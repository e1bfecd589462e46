// An unused virtio-mmio transport slot (virtio v1.2 §4.2.2): MagicValue "virt", Version 2,
// DeviceID 0 = "no device here". Linux's virtio_mmio probe reads these and skips the slot, as on
// QEMU's virt board where all 32 slots exist whether or not a device is plugged in.
import type { MmioDevice } from '../bus/device.ts';

export class EmptyVirtioSlot implements MmioDevice {
  readonly name = 'virtio-mmio (empty)';
  read(offset: number): number {
    switch (offset) {
      case 0x000:
        return 0x74726976; // "virt"
      case 0x004:
        return 2;
      case 0x00c:
        return 0x554d4551; // VendorID "QEMU", as QEMU's transport reports
      default:
        return 0;
    }
  }
  write(): void {}
}
