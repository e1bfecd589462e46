// SYS (fid 0, Rust-Shyper hvc_sys_handler, completed): the whole system, from VM 0 only.
// REBOOT is a platform reset (Rust-Shyper platform_sys_reboot): the VMs the MVM added at run time
// are removed, the boot set is reset and boots again from its images, as at power-on. SHUTDOWN
// stops every VM, VM 0 last (its power-off ends the run). TEST logs a line and returns 0.
import type { Vm } from '../vm.ts';
import { SYS } from './abi.ts';
import type { Handler, Hypercalls } from './index.ts';

/** Platform reset. */
export function systemReboot(hvc: Hypercalls): void {
  hvc.log('shyper: system reboot: every VM restarts from the boot set');
  for (const e of [...hvc.entries]) {
    if (e.runtime) {
      if (e.vm) {
        hvc.vmStopped(e.vm);
        hvc.hv.removeVm(e.vm);
      }
      hvc.entries.splice(hvc.entries.indexOf(e), 1);
    }
  }
  for (const e of hvc.entries) {
    if (e.vm === undefined) continue;
    hvc.vmStopped(e.vm);
    hvc.hv.resetVm(e.vm);
    hvc.hv.bootVm(e.vm);
  }
}

/** Power the system off: every VM stops, VM 0 last. */
export function systemShutdown(hvc: Hypercalls): void {
  let vm0: Vm | undefined;
  for (const vm of [...hvc.hv.vms]) {
    hvc.vmStopped(vm);
    if (vm.id === 0) vm0 = vm;
    else if (vm.state !== 'off') hvc.hv.stopVm(vm);
  }
  if (vm0 !== undefined) hvc.hv.systemOff(vm0.vcpus[0]!);
}

export const sysHandlers: Record<number, Handler> = {
  [SYS.REBOOT]: {
    name: 'HVC_SYS_REBOOT',
    mvmOnly: true,
    run: (c) => {
      systemReboot(c.hvc);
      return 0n;
    },
  },
  [SYS.SHUTDOWN]: {
    name: 'HVC_SYS_SHUTDOWN',
    mvmOnly: true,
    run: (c) => {
      systemShutdown(c.hvc);
      return 0n;
    },
  },
  [SYS.TEST]: {
    name: 'HVC_SYS_TEST',
    mvmOnly: true,
    run: (c) => {
      c.hvc.log(`shyper: HVC SYS TEST from vm${c.vm.id}`);
      return 0n;
    },
  },
};
