// --net user and --hostfwd on the command line: which NIC each --hostfwd rule reaches (the
// --native machine's eth0, or a VM's first virtio-net from its config), and the listeners opened
// before the machine runs. Errors are one line for the user (UsageError: exit 2).
import { type Gateway } from '../emulator/net/gateway.ts';
import { HostForwarder, HostfwdError, type HostfwdRule, type HostfwdTarget, parseHostfwd } from '../emulator/net/hostfwd.ts';
import type { VmConfig } from '../hypervisor/config.ts';
import { UsageError } from './errors.ts';

/** The MAC of a --native boot's NIC on the user network (QEMU's first NIC). */
export const NATIVE_NIC_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);

/** `--hostfwd VALUE`, or a one-line usage error. */
export function hostfwdOption(value: string): HostfwdRule {
  try {
    return parseHostfwd(value);
  } catch (e) {
    if (e instanceof HostfwdError) throw new UsageError(e.message);
    throw e;
  }
}

/** The NIC a rule forwards to: the native NIC, or the named VM's first virtio-net. */
export function hostfwdTarget(rule: HostfwdRule, native: boolean, vms: readonly VmConfig[]): HostfwdTarget {
  const fail = (why: string): UsageError => new UsageError(`--hostfwd '${rule.spec}': ${why}`);
  if (native) {
    if (rule.vm !== null) throw fail(`a --native boot has one NIC: leave the VM part empty (tcp:${rule.hostPort}-:${rule.guestPort})`);
    return { label: 'the guest', mac: NATIVE_NIC_MAC };
  }
  if (rule.vm === null) throw fail(`name the VM (tcp:${rule.hostPort}-VM:${rule.guestPort}; VM: its id, vmN or its name)`);
  const id = /^(?:vm)?(\d+)$/i.exec(rule.vm);
  const vm = vms.find((v) => (id !== null ? v.id === Number(id[1]) : v.name === rule.vm));
  if (vm === undefined) throw fail(`no VM '${rule.vm}' in the VM set (${vms.map((v) => `vm${v.id} "${v.name}"`).join(', ')})`);
  const nic = vm.emulatedDevices.find((d) => d.type === 'virtio-net');
  if (nic === undefined || nic.mac === undefined) throw fail(`vm ${vm.id} "${vm.name}" has no virtio-net (EMU_DEVICE_T_VIRTIO_NET in its config)`);
  return { label: `vm${vm.id} (${vm.name})`, mac: Uint8Array.from(nic.mac) };
}

/**
 * Checks every rule against the machine, then listens on each rule's host port. A port that is
 * taken is a UsageError (after the listeners already opened are closed). Port 0 (any free port)
 * reports the port chosen through `log`.
 */
export async function openHostForwards(
  gateway: Gateway,
  rules: readonly HostfwdRule[],
  o: { native: boolean; vms: readonly VmConfig[]; log: (line: string) => void; onActivity: () => void },
): Promise<HostForwarder> {
  const targets = rules.map((r) => hostfwdTarget(r, o.native, o.vms));
  const fwd = new HostForwarder(gateway, { log: o.log, onActivity: o.onActivity });
  try {
    for (let i = 0; i < rules.length; i++) {
      const port = await fwd.listen(rules[i]!, targets[i]!);
      if (rules[i]!.hostPort === 0) o.log(`shyper-emu: hostfwd ${rules[i]!.spec}: listening on 127.0.0.1:${port}`);
    }
  } catch (e) {
    fwd.close();
    if (e instanceof HostfwdError) throw new UsageError(e.message);
    throw e;
  }
  return fwd;
}
