// IVC (fid 2, Rust-Shyper src/kernel/ivc.rs and hvc_send_msg_to_vm): how the hypervisor talks to
// a VM's shyper module. The module registers a 4 KiB message page (HVC_IVC_UPDATE_MQ); each message
// goes in the next of its 8 slots of 512 bytes (wrapping), as {fid u64, event u64, vm_id u64},
// and HVC_IRQ — the interrupt of the VM's shyper device (48 on rk3588/pi4, 64 on qemu/tx2) — is
// injected into the VM. The shared memory (SHARED_MEM, 2 MiB) is mapped at the shyper device's
// base in every VM whose shyper device has a base and a length (src/vm-setup.ts maps it).
import type { Vm } from '../vm.ts';
import { fail, guestRange, IVC } from './abi.ts';
import type { Handler, Hypercalls } from './index.ts';

const PAGE = 4096;
const SLOTS = 8;
const SLOT_SIZE = PAGE / SLOTS;
/** Rust-Shyper's SHARED_MEM_SIZE_MAX. */
export const SHARED_MEM_SIZE = 2 << 20;

interface Queue {
  /** Host PA of the message page. */
  pa: number;
  /** Slot written last (-1: none yet, so the first message goes in slot 0, as ptr = arg - 512). */
  slot: number;
}

export class Ivc {
  private readonly queues = new Map<Vm, Queue>();
  private sharedPa = -1;

  constructor(private readonly hvc: Hypercalls) {}

  /** HVC_IVC_UPDATE_MQ: the page at cfg_ipa (all of it in the caller's RAM) receives its messages. */
  register(vm: Vm, cfgIpa: bigint, receiveIpa: bigint): void {
    guestRange(vm, receiveIpa, 1, 'receive buffer');
    const pa = guestRange(vm, cfgIpa, PAGE, 'message page');
    this.queues.set(vm, { pa, slot: -1 });
  }

  forget(vm: Vm): void {
    this.queues.delete(vm);
  }

  hasQueue(vm: Vm): boolean {
    return this.queues.has(vm);
  }

  /**
   * Queue {fid, event, vmId} for `vm` and raise its HVC_IRQ; false (nothing sent) when the VM has
   * registered no message page or has no shyper device.
   */
  send(vm: Vm, fid: number, event: number, vmId: number): boolean {
    const q = this.queues.get(vm);
    const irq = this.hvcIrq(vm);
    if (q === undefined || irq === undefined || vm.state === 'off') return false;
    q.slot = (q.slot + 1) % SLOTS;
    const msg = new DataView(new ArrayBuffer(24));
    msg.setBigUint64(0, BigInt(fid), true);
    msg.setBigUint64(8, BigInt(event), true);
    msg.setBigUint64(16, BigInt(vmId), true);
    vm.machine.writePhys(q.pa + q.slot * SLOT_SIZE, new Uint8Array(msg.buffer));
    vm.vgic.inject(irq, 0);
    return true;
  }

  /** The VM's HVC_IRQ: its shyper (vm_service) device's interrupt. */
  hvcIrq(vm: Vm): number | undefined {
    const cfg = this.hvc.entry(vm.id)?.config;
    return cfg?.emulatedDevices.find((d) => d.type === 'shyper')?.irq;
  }

  /** Host PA of the shared memory (allocated from the VM pool on first use). */
  sharedMemoryPa(): number {
    if (this.sharedPa < 0) {
      const pa = this.hvc.hv.mem.allocVm(SHARED_MEM_SIZE);
      if (pa < 0) fail('no memory left for the 2 MiB IVC shared memory');
      this.hvc.hv.mem.zero(pa, SHARED_MEM_SIZE);
      this.sharedPa = pa;
    }
    return this.sharedPa;
  }
}

export const ivcHandlers: Record<number, Handler> = {
  [IVC.UPDATE_MQ]: {
    name: 'HVC_IVC_UPDATE_MQ',
    mvmOnly: false,
    run: (c) => {
      c.hvc.ivc.register(c.vm, c.x[1]!, c.x[0]!);
      return 0n; // Rust-Shyper writes the vm id to x0, then the handler's 0 overwrites it
    },
  },
  [IVC.SHARE_MEM]: {
    name: 'HVC_IVC_SHARE_MEM',
    mvmOnly: false,
    // The shared memory is mapped when the VM is built (its shyper device's window).
    run: () => 0n,
  },
};
