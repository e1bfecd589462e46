// Booting the board under Shyper (no --native): the VM set (--config FILE or the board's default
// set), the hypervisor attached to the machine's CPUs through the EL2 port, every VM booted, the
// physical CPUs powered on at EL2. VM 0 powering off ends the run; another VM powering off stops
// alone.
import type { Machine } from '../emulator/machine.ts';
import { attachEl2 } from '../emulator/el2-machine.ts';
import type { El2Software } from '../emulator/arm64/el2.ts';
import { Shyper } from '../hypervisor/shyper.ts';
import { ConfigError, type VmConfig } from '../hypervisor/config.ts';
import { vmSetup } from './vm-setup.ts';
import type { ConsoleMux } from './console-mux.ts';
import { VmDeviceHub } from './vm-devices.ts';

export interface HypervisorRunOptions {
  vms: VmConfig[];
  mux: ConsoleMux;
  append?: string;
  seed: bigint;
  /** A line for the user (stderr). */
  log(line: string): void;
  /** VM 0 powered off or reset the system. */
  onSystemOff(): void;
  /** What the VMs' devices share (network switch, console peers, disk images); the caller closes it at the end. */
  devices?: VmDeviceHub;
}

export function startHypervisor(machine: Machine, o: HypervisorRunOptions): Shyper {
  let hv!: Shyper;
  const software: El2Software = { start: (c) => hv.start(c), sync: (c) => hv.sync(c), irq: (c) => hv.irq(c) };
  const port = attachEl2(machine, software);
  hv = new Shyper(port, {
    log: o.log,
    vmStopped: (vm, why) => {
      if (vm.id === 0 && why === 'poweroff') o.onSystemOff();
    },
  });
  const board = machine.opts.board;
  const devices = o.devices ?? new VmDeviceHub(o.log);
  for (const cfg of o.vms) {
    const setup = vmSetup(cfg, { board, gicVersion: machine.gicVersion, consoleOf: (id) => o.mux.console(id), append: o.append, seed: o.seed, devices });
    try {
      hv.bootVm(hv.createVm(setup));
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError((e as Error).message);
    }
  }
  hv.powerOn();
  return hv;
}
