// The hypercall ABI module (DESIGN.md "hvc/"): Rust-Shyper's hvc_guest_handler. It decodes
// x7 = fid << 8 | event, refuses management calls from any VM but VM 0 (the MVM), runs the handler
// of sys.ts, vmm.ts, config.ts, ivc.ts or mediated.ts, and turns every failure — an unknown call, a
// bad pointer, a config the rules reject — into HVC_ERR in x0 plus one log line for the user.
//
// It keeps Rust-Shyper's VM config table (`entries`, in the order VMs were added): the VMs of the
// boot set, adopted at start, then those the MVM adds with HVC_CONFIG calls — a draft until the
// first kernel chunk arrives, then a VM built like any other (Shyper.createVm).
import type { BoardDescription } from '../../boards/types.ts';
import type { El2Cpu } from '../../emulator/arm64/el2.ts';
import type { VmConfig, VmOsType } from '../config.ts';
import { VM_NUM_MAX } from '../config.ts';
import type { Shyper } from '../shyper.ts';
import type { Vcpu } from '../vcpu.ts';
import type { Vm, VmSetup } from '../vm.ts';
import { FID, hex, HVC_ERR, HvcError } from './abi.ts';
import { configHandlers, type Draft } from './config.ts';
import { Ivc, ivcHandlers } from './ivc.ts';
import { mediatedHandlers } from './mediated.ts';
import { MediatedBlk } from '../devices/mediated-blk.ts';
import { sysHandlers } from './sys.ts';
import { vmmHandlers } from './vmm.ts';

/** Images of a VM built by HVC_CONFIG calls, in memory. */
export interface RuntimeImages {
  kernel: Uint8Array;
  dtb?: Uint8Array;
  initrd?: Uint8Array;
}

/** What the program gives the hypercall module. */
export interface HvcHost {
  readonly board: BoardDescription;
  readonly gicVersion: 2 | 3;
  /** One line for the user. */
  log(line: string): void;
  /** The setup of a VM checked from HVC_CONFIG calls (its emulated console, device tree...). */
  setupOf(cfg: VmConfig, images: RuntimeImages): VmSetup;
  /** Rust-Shyper's built-in CPIO: loaded at ramdisk_load_ipa of a VM the MVM adds with one. */
  builtinRamdisk?(): Uint8Array | undefined;
}

/** One row of the VM config table. */
export interface VmEntry {
  id: number;
  name: string;
  osType: VmOsType;
  /** The checked config (boot set; a CONFIG VM once built). */
  config?: VmConfig;
  /** The VM, once built. */
  vm?: Vm;
  /** A VM the MVM is still describing with HVC_CONFIG calls. */
  draft?: Draft;
  /** Added by HVC_CONFIG (a platform reset removes it; the boot set comes back). */
  runtime: boolean;
}

/** One hypercall being handled: the caller and x0..x6. */
export interface Call {
  readonly hvc: Hypercalls;
  readonly cpu: El2Cpu;
  readonly vcpu: Vcpu;
  readonly vm: Vm;
  readonly x: readonly bigint[];
}

export interface Handler {
  /** Rust-Shyper's name, for the log. */
  name: string;
  /** A management call: VM 0 only. */
  mvmOnly: boolean;
  /** x0 on success; throws HvcError (or anything) on failure. */
  run(c: Call): bigint;
}

const HANDLERS: Record<number, Record<number, Handler>> = {
  [FID.SYS]: sysHandlers,
  [FID.VMM]: vmmHandlers,
  [FID.IVC]: ivcHandlers,
  [FID.MEDIATED]: mediatedHandlers,
  [FID.CONFIG]: configHandlers,
};

export class Hypercalls {
  readonly entries: VmEntry[] = [];
  readonly ivc = new Ivc(this);
  /** The mediated disks the MVM serves for GVMs (fid 3). */
  readonly mediated = new MediatedBlk(this);

  constructor(
    readonly hv: Shyper,
    readonly host: HvcHost,
  ) {}

  /** A VM of the boot set joins the table (in boot order). */
  adopt(vm: Vm, config: VmConfig): void {
    this.entries.push({ id: vm.id, name: vm.name, osType: config.osType, config, vm, runtime: false });
  }

  entry(id: number): VmEntry | undefined {
    return this.entries.find((e) => e.id === id);
  }

  /** The lowest id no VM has (Rust-Shyper), or -1 when VM_NUM_MAX are there. */
  freeId(): number {
    for (let id = 0; id < VM_NUM_MAX; id++) if (!this.entries.some((e) => e.id === id) && !this.hv.vms.some((v) => v.id === id)) return id;
    return -1;
  }

  /** A VM stopped or reset (by itself or by a hypercall): its message queue is gone with its RAM. */
  vmStopped(vm: Vm): void {
    this.ivc.forget(vm);
    this.mediated.vmStopped(vm);
  }

  /** Shyper.hypercalls: handle the HVC the vCPU made; the result goes to x0. */
  call(cpu: El2Cpu, v: Vcpu): bigint {
    const x7 = cpu.x(7);
    const fid = Number((x7 >> 8n) & 0xffn);
    const event = Number(x7 & 0xffn);
    const vm = v.vm;
    const h = HANDLERS[fid]?.[event];
    if (h === undefined) {
      this.report(vm, `${fid}:${event}`, `shyper: vm${vm.id}: unknown hypercall fid ${hex(fid)} event ${hex(event)}: error returned`);
      return HVC_ERR;
    }
    if (h.mvmOnly && vm.id !== 0) {
      this.report(vm, `${fid}:${event}`, `shyper: vm${vm.id}: ${h.name} is a management call, only VM 0 may make it: error returned`);
      return HVC_ERR;
    }
    try {
      return BigInt.asUintN(64, h.run({ hvc: this, cpu, vcpu: v, vm, x: [0, 1, 2, 3, 4, 5, 6].map((i) => cpu.x(i)) }));
    } catch (e) {
      const why = e instanceof HvcError ? e.message : `internal error: ${(e as Error).message}`;
      this.report(vm, `${fid}:${event}:${why}`, `shyper: vm${vm.id}: ${h.name} failed: ${why}`);
      return HVC_ERR;
    }
  }

  log(line: string): void {
    this.host.log(line);
  }

  /**
   * A failure line, once per key, within the calling VM's log budget (Shyper.logOnce): a guest
   * looping on bad calls must not flood the terminal, nor use up what another VM may report (a
   * budget shared by all VMs let one GVM's random hypercalls silence the MVM's failures).
   */
  private report(vm: Vm, key: string, line: string): void {
    this.hv.logOnce(`hvc:${vm.id}:${key}`, line, vm.id);
  }
}

/** Handle Shyper's hypercalls with this module (Shyper.hypercalls). */
export function installHypercalls(hv: Shyper, host: HvcHost): Hypercalls {
  const h = new Hypercalls(hv, host);
  hv.hypercalls = (cpu, v) => h.call(cpu, v);
  return h;
}
