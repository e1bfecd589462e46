// A virtio-mmio device in a VM (Rust-Shyper src/device/virtio/mmio.rs): the transport of
// emulator/devices/virtio over the VM's guest-physical memory, its register window trapped as
// emulated MMIO, its interrupt a level line into the VM's vGIC. Rust-Shyper injects it into
// vCPU 0; here the vGIC delivers the SPI where the guest routed it (GICD_IROUTER / ITARGETSR),
// which is vCPU 0 unless the guest moved it.
import type { VirtioDevice } from '../../emulator/devices/virtio/device.ts';
import { VirtioMmio } from '../../emulator/devices/virtio/mmio.ts';
import { VmGuestMemory } from '../guest-memory.ts';
import { mmioHandler } from '../mmio.ts';
import type { EmulatedDeviceSpec } from '../vm.ts';

/** VendorID Rust-Shyper's transport reports. */
export const SHYPER_VIRTIO_VENDOR = 0x8888;

export interface VirtioSpecOptions {
  /** Name in the VM's region list and in log lines, e.g. "vm1.virtio-blk@a000000". */
  name: string;
  base: number;
  size: number;
  /** INTID (an SPI) the VM sees. */
  irq: number;
  device: VirtioDevice;
  /** Where a device error goes (one line: the transport names the device). */
  log: (line: string) => void;
  /** The transport, once the VM is built (tests, the debugger). */
  onCreate?: (t: VirtioMmio) => void;
}

export function virtioSpec(o: VirtioSpecOptions): EmulatedDeviceSpec {
  return {
    name: o.name,
    base: o.base,
    size: o.size,
    irq: o.irq,
    create: (irq, vm) => {
      const t = new VirtioMmio({
        device: o.device,
        memory: new VmGuestMemory(vm),
        irq: { set: (level) => irq?.set(level) },
        name: o.name,
        vendorId: SHYPER_VIRTIO_VENDOR,
        log: o.log,
      });
      o.onCreate?.(t);
      return mmioHandler(t);
    },
  };
}
