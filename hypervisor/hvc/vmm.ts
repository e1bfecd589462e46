// VMM (fid 1, Rust-Shyper src/vmm/manager.rs and remove.rs, completed): the MVM lists, boots,
// shuts down, reboots and removes VMs. Reboot and shutdown take `force << 16 | vmid`: without force
// the target's own shyper module is asked through an IVC message {fid 1, event, vm_id} (an error if
// it registered no message page); with force the hypervisor acts — a reset and a reload of the
// images the VM was built from (Rust-Shyper asks the MVM to upload the kernel again; we kept it),
// or a power-off. On VM 0 the forced forms act on the whole system (SYS reboot / shutdown).
// GET_VM_STATE and SHUTDOWN_VM are todo!() in Rust-Shyper; here they work.
import type { Vm } from '../vm.ts';
import { fail, hex, num, NAME_MAX_LEN, VM_STATE, VM_TYPE, VMINFO_LIST_SIZE, VMINFO_SIZE, VMM, writeGuest } from './abi.ts';
import type { Handler, Hypercalls, VmEntry } from './index.ts';
import { systemReboot, systemShutdown } from './sys.ts';
import { kernelComplete } from './config.ts';

const OS_TYPE = { linux: VM_TYPE.LINUX, bma: VM_TYPE.BMA, freertos: VM_TYPE.FREERTOS } as const;

export function vmState(e: VmEntry): number {
  const s = e.vm?.state;
  return s === 'active' ? VM_STATE.ACTIVE : s === 'pending' ? VM_STATE.PENDING : VM_STATE.INV;
}

/** HVC_VMM_LIST_VM's VMInfoList: every VM of the table, in table order. */
export function vmInfoList(hvc: Hypercalls): Uint8Array {
  const b = new Uint8Array(VMINFO_LIST_SIZE);
  const dv = new DataView(b.buffer);
  const list = hvc.entries.slice(0, 8);
  dv.setBigUint64(0, BigInt(list.length), true);
  list.forEach((e, i) => {
    const at = 8 + i * VMINFO_SIZE;
    dv.setUint32(at, e.id, true);
    const name = new TextEncoder().encode(e.name).subarray(0, NAME_MAX_LEN - 1);
    b.set(name, at + 4);
    dv.setUint32(at + 4 + NAME_MAX_LEN, OS_TYPE[e.osType], true);
    dv.setUint32(at + 8 + NAME_MAX_LEN, vmState(e), true);
  });
  return b;
}

function target(hvc: Hypercalls, x: bigint): VmEntry {
  const id = num(x, 'vm id');
  const e = hvc.entry(id);
  if (e === undefined) fail(`there is no vm ${id}`);
  return e;
}

function built(e: VmEntry): Vm {
  if (e.vm === undefined) fail(`vm ${e.id} "${e.name}" is not built yet (its kernel has not been uploaded)`);
  return e.vm;
}

/** Start a built VM that is not running (again from its images if it ran before). */
export function bootEntry(hvc: Hypercalls, e: VmEntry): void {
  const vm = built(e);
  if (vm.state === 'pending' || vm.state === 'active') fail(`vm ${e.id} "${e.name}" is already running`);
  const missing = e.draft !== undefined ? kernelComplete(e.draft) : null;
  if (missing !== null) fail(`vm ${e.id} "${e.name}": ${missing}`);
  if (vm.state === 'off') {
    hvc.vmStopped(vm);
    hvc.hv.resetVm(vm);
  }
  hvc.log(`shyper: vm${vm.id} (${vm.name}) booted by the MVM`);
  hvc.hv.bootVm(vm);
}

/** Reboot or shut down: `arg` = force << 16 | vmid (Rust-Shyper vmm_reboot_vm). */
function power(hvc: Hypercalls, arg: bigint, event: typeof VMM.REBOOT_VM | typeof VMM.SHUTDOWN_VM): bigint {
  const e = target(hvc, arg & 0xffffn);
  const force = ((arg >> 16n) & 0xffffn) !== 0n;
  const reboot = event === VMM.REBOOT_VM;
  const vm = built(e);
  if (!force) {
    if (!hvc.ivc.send(vm, 1, event, vm.id)) fail(`vm ${vm.id} has no shyper module listening (no IVC message page registered); use force`);
    return 0n;
  }
  if (vm.id === 0) {
    if (reboot) systemReboot(hvc);
    else systemShutdown(hvc);
    return 0n;
  }
  hvc.vmStopped(vm);
  if (reboot) {
    hvc.log(`shyper: vm${vm.id} (${vm.name}) forced reboot: reset, reloaded, booting`);
    hvc.hv.resetVm(vm);
    hvc.hv.bootVm(vm);
  } else {
    hvc.log(`shyper: vm${vm.id} (${vm.name}) forced shutdown`);
    hvc.hv.stopVm(vm);
  }
  return 0n;
}

export const vmmHandlers: Record<number, Handler> = {
  [VMM.LIST_VM]: {
    name: 'HVC_VMM_LIST_VM',
    mvmOnly: true,
    run: (c) => {
      writeGuest(c.vm, c.x[0]!, vmInfoList(c.hvc), 'VMInfoList buffer');
      return 0n;
    },
  },
  [VMM.GET_VM_STATE]: {
    name: 'HVC_VMM_GET_VM_STATE',
    mvmOnly: true,
    run: (c) => BigInt(vmState(target(c.hvc, c.x[0]!))),
  },
  [VMM.BOOT_VM]: {
    name: 'HVC_VMM_BOOT_VM',
    mvmOnly: true,
    run: (c) => {
      bootEntry(c.hvc, target(c.hvc, c.x[0]!));
      return 0n;
    },
  },
  [VMM.SHUTDOWN_VM]: {
    name: 'HVC_VMM_SHUTDOWN_VM',
    mvmOnly: true,
    run: (c) => power(c.hvc, c.x[0]!, VMM.SHUTDOWN_VM),
  },
  [VMM.REBOOT_VM]: {
    name: 'HVC_VMM_REBOOT_VM',
    mvmOnly: true,
    run: (c) => power(c.hvc, c.x[0]!, VMM.REBOOT_VM),
  },
  [VMM.GET_VM_ID]: {
    // Any VM may ask its own id (its shyper module does at load).
    name: 'HVC_VMM_GET_VM_ID',
    mvmOnly: false,
    run: (c) => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, BigInt(c.vm.id), true);
      writeGuest(c.vm, c.x[0]!, b, 'vm id buffer');
      return 0n;
    },
  },
  [VMM.VM_REMOVE]: {
    name: 'HVC_VMM_VM_REMOVE',
    mvmOnly: true,
    run: (c) => {
      const e = target(c.hvc, c.x[0]!);
      if (e.id === 0) fail('vm 0, the MVM, cannot be removed');
      if (e.vm !== undefined) {
        c.hvc.vmStopped(e.vm);
        c.hvc.hv.removeVm(e.vm);
      }
      c.hvc.entries.splice(c.hvc.entries.indexOf(e), 1);
      c.hvc.log(`shyper: vm${e.id} (${e.name}) removed${e.vm ? `, its ${e.vm.setup.memory.map((m) => hex(m.size)).join('+')} bytes of memory freed` : ''}`);
      return 0n;
    },
  },
};
