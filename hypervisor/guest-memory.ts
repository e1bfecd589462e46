// A VM's memory as its emulated devices reach it (shaped as the GuestMemory of
// emulator/devices/virtio, which the hypervisor does not import: src/ hands it to the device
// models): the addresses a driver in the VM writes into rings and descriptors are guest-physical (IPAs)
// and go through the VM's RAM map, as Rust-Shyper translates them with vm_ipa2pa. Only the VM's
// own RAM is reachable: an address outside it, or a range that straddles two regions or runs
// past one, is refused (false), never forwarded to host memory, an MMIO window or another VM.
import type { Vm } from './vm.ts';

export class VmGuestMemory {
  constructor(private readonly vm: Pick<Vm, 'ipaToPa' | 'readGuest' | 'writeGuest'>) {}

  /** True when [gpa, gpa+len) lies in one RAM region of the VM. */
  valid(gpa: number, len: number): boolean {
    if (!Number.isSafeInteger(gpa) || !Number.isSafeInteger(len) || gpa < 0 || len < 0) return false;
    return this.vm.ipaToPa(gpa, Math.max(len, 1)) >= 0;
  }

  /** Copies guest bytes into buf; false (buf unspecified) when not all of them are the VM's RAM. */
  read(gpa: number, buf: Uint8Array): boolean {
    if (!this.valid(gpa, buf.length)) return false;
    return buf.length === 0 || this.vm.readGuest(gpa, buf);
  }

  /** Copies data into the VM's RAM; false (nothing written) when not all of it is. */
  write(gpa: number, data: Uint8Array): boolean {
    if (!this.valid(gpa, data.length)) return false;
    // writeGuest goes through the machine's writePhys: decoded code of the pages written is dropped.
    return data.length === 0 || this.vm.writeGuest(gpa, data);
  }
}
