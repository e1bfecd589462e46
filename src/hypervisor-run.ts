// Booting the board under Shyper (no --native): the VM set (--config FILE or the board's default
// set), the hypervisor attached to the machine's CPUs through the EL2 port, every VM booted, the
// physical CPUs powered on at EL2. VM 0 powering off ends the run; another VM powering off stops
// alone.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Machine } from '../emulator/machine.ts';
import { attachEl2 } from '../emulator/el2-machine.ts';
import type { El2Software } from '../emulator/arm64/el2.ts';
import { Shyper } from '../hypervisor/shyper.ts';
import { ConfigError, type VmConfig } from '../hypervisor/config.ts';
import { vmSetup, type VmSetupOptions } from './vm-setup.ts';
import { installHypercalls, type Hypercalls } from '../hypervisor/hvc/index.ts';
import type { ConsoleMux } from './console-mux.ts';
import { VmDeviceHub } from './vm-devices.ts';
import type { Console } from '../emulator/devices/console.ts';

const BUILTIN_RAMDISK = fileURLToPath(new URL('../guests/initramfs.cpio.gz', import.meta.url));

function readOptional(path: string): Uint8Array | undefined {
  try {
    return new Uint8Array(readFileSync(path));
  } catch {
    return undefined;
  }
}

export interface HypervisorRunOptions {
  vms: VmConfig[];
  /** Where VM n's console goes: the multiplexer's, unless consoleOf says otherwise (benchmarks). */
  mux?: ConsoleMux;
  consoleOf?: (vmId: number) => Console;
  append?: string;
  seed: bigint;
  /** A line for the user (stderr). */
  log(line: string): void;
  /** VM 0 powered off or reset the system. */
  onSystemOff(): void;
  /** What the VMs' devices share (network switch, console peers, disk images); the caller closes it at the end. */
  devices?: VmDeviceHub;
}

/** The running hypervisor and its hypercall module. */
export interface HypervisorRun {
  hv: Shyper;
  hvc: Hypercalls;
}

export function startHypervisor(machine: Machine, o: HypervisorRunOptions): HypervisorRun {
  let hv!: Shyper;
  const software: El2Software = { start: (c) => hv.start(c), sync: (c) => hv.sync(c), irq: (c) => hv.irq(c) };
  const port = attachEl2(machine, software);
  hv = new Shyper(port, {
    log: o.log,
    vmStopped: (vm, why) => {
      hvc.vmStopped(vm);
      if (vm.id === 0 && why === 'poweroff') o.onSystemOff();
    },
  });
  const board = machine.opts.board;
  const devices = o.devices ?? new VmDeviceHub(o.log);
  const setupOptions: VmSetupOptions = {
    board,
    gicVersion: machine.gicVersion,
    consoleOf: o.consoleOf ?? ((id) => o.mux!.console(id)),
    append: o.append,
    seed: o.seed,
    sharedMemoryPa: () => hvc.ivc.sharedMemoryPa(),
    devices,
  };
  // The MVM's hypercalls (hypervisor/hvc): VMs it configures at run time get their setup here.
  let ramdisk: Uint8Array | undefined;
  const hvc = installHypercalls(hv, {
    board,
    gicVersion: machine.gicVersion,
    log: o.log,
    setupOf: (cfg, images) => vmSetup(cfg, setupOptions, images),
    // Rust-Shyper's built-in CPIO: the kit's initramfs.
    builtinRamdisk: () => (ramdisk ??= readOptional(BUILTIN_RAMDISK)),
  });
  devices.mediated = hvc.mediated;
  for (const cfg of o.vms) {
    const setup = vmSetup(cfg, setupOptions);
    try {
      const vm = hv.createVm(setup);
      hvc.adopt(vm, cfg);
      hv.bootVm(vm);
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError((e as Error).message);
    }
  }
  hv.powerOn();
  return { hv, hvc };
}
