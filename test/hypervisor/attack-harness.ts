// Runs VM sets under Shyper for the attack suite (attack.test.ts): the kit's Linux beside our
// bare-metal test guest (guests/baremetal/bma.bin, its parameter block patched per VM), through
// the same path as `shyper-emu --config FILE` (config loader, src/hypervisor-run.ts, the console
// multiplexer), with every console line recorded with the VM it came from and the virtual time
// at which it was complete.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine, type RunState } from '../../emulator/machine.ts';
import type { BoardDescription } from '../../boards/types.ts';
import { parseVmConfig, type VmConfig } from '../../hypervisor/config.ts';
import type { Shyper } from '../../hypervisor/shyper.ts';
import { ConsoleMux, type MuxSink } from '../../src/console-mux.ts';
import { startHypervisor } from '../../src/hypervisor-run.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const GUESTS = resolve(REPO, 'guests');
export const BMA_BIN = resolve(GUESTS, 'baremetal', 'bma.bin');

// ---- the bare-metal guest's parameter block (guests/baremetal/bma.h) ----

export const Mode = { hello: 0, mem: 1, sgi: 2, gicd: 3, hvc: 4, wfi: 5, victim: 6, mvm: 7 } as const;
export const After = { park: 0, spin: 1, off: 2, reset: 3 } as const;

export interface BmaParams {
  mode: number;
  uart?: number;
  uartKind?: number;
  gicVersion?: number;
  gicd?: number;
  gicr?: number;
  seed?: bigint;
  iter?: number;
  after?: number;
  vtimer?: number;
  iter2?: number;
  probes?: number[];
  sweepBase?: number;
  sweepPages?: number;
  timerTicks?: number;
  gicdSize?: number;
  /** Leave the virtual timer firing when done. */
  exitTimer?: boolean;
  /** MODE_SGI: just send itself every SGI and leave them pending. */
  sgiKeep?: boolean;
  /** MODE_MVM: VMs with ids below this are never powered off, reset or removed (P_NPROBE). */
  keep?: number;
}

const PARAMS_OFFSET = 0x40;
const P = { mode: 0, uart: 1, uartKind: 2, gicVersion: 3, gicd: 4, gicr: 5, seed: 6, iter: 7, after: 8, vtimer: 9, iter2: 10, nprobe: 11, probe: 12, sweepBase: 44, sweepPages: 45, timerTicks: 46, gicdSize: 47, exitTimer: 48, sgiKeep: 49 } as const;

/** The board's facts a bare-metal guest needs: its console UART, GIC windows, virtual timer PPI. */
export function boardParams(board: BoardDescription, gicVersion: 2 | 3): Omit<BmaParams, 'mode'> {
  const u = board.uarts[0]!;
  const g = board.gic;
  return {
    uart: u.base,
    uartKind: u.kind === 'pl011' ? 0 : u.regShift === 2 ? 2 : 1,
    gicVersion,
    gicd: g.distBase,
    gicr: gicVersion === 3 ? g.redistBase! : g.cpuBase!,
    gicdSize: g.distSize,
    vtimer: board.timer.ppis[2] + 16,
  };
}

/** bma.bin with its parameter block filled in. */
export function bmaImage(p: BmaParams): Uint8Array {
  return writeParams(new Uint8Array(readFileSync(BMA_BIN)), p);
}

/** Fill in the parameter block of a bma image (in place; the block is cleared first). */
export function writeParams(img: Uint8Array, p: BmaParams): Uint8Array {
  if (new TextDecoder().decode(img.subarray(8, 16)) !== 'SHYPBMA1') throw new Error('not a bma image: no SHYPBMA1 magic at offset 8');
  img.fill(0, PARAMS_OFFSET, PARAMS_OFFSET + 64 * 8);
  const dv = new DataView(img.buffer, img.byteOffset + PARAMS_OFFSET, 64 * 8);
  const set = (i: number, v: number | bigint | undefined): void => {
    if (v !== undefined) dv.setBigUint64(i * 8, BigInt(v), true);
  };
  for (const k of ['mode', 'uart', 'uartKind', 'gicVersion', 'gicd', 'gicr', 'seed', 'iter', 'after', 'vtimer', 'iter2', 'sweepBase', 'sweepPages', 'timerTicks', 'gicdSize'] as const) set(P[k], p[k]);
  set(P.exitTimer, p.exitTimer ? 1 : 0);
  set(P.sgiKeep, p.sgiKeep ? 1 : 0);
  const probes = p.probes ?? [];
  if (probes.length > 32) throw new Error('at most 32 probe addresses');
  set(P.nprobe, p.keep ?? probes.length);
  probes.forEach((a, i) => set(P.probe + i, a));
  return img;
}

// ---- VM sets ----

/** A VM of the set: the kit's Linux or a bare-metal guest. */
export type VmSpec =
  | { kind: 'linux'; name: string; cores: number[]; cmdline: string; memory: number; vmKind?: 'mvm' | 'gvm'; shared?: boolean; noInitrd?: boolean }
  | {
      kind: 'bma';
      name: string;
      cores: number[];
      /** The parameter block, or a function of the VM set as the loader placed it (host PAs of every VM's RAM). */
      params: BmaParams | ((vms: VmConfig[]) => BmaParams);
      ipa?: number;
      memory?: number;
      shared?: boolean;
    };

/** Where bare-metal guests live in their IPA space unless told (256 GiB): clear of every Linux VM's RAM IPAs and of every board's RAM PAs, so probes of those numbers are probes outside the VM. */
export const BMA_IPA = 0x40_0000_0000;

function configEntry(vm: VmSpec, index: number, board: BoardDescription, dir: string): object {
  const hex = (n: number): string => `0x${n.toString(16)}`;
  const bitmap = hex(vm.cores.reduce((m, c) => m + 2 ** c, 0));
  const uart = board.uarts[0]!;
  const cpu = { num: vm.cores.length, allocate_bitmap: bitmap, master: vm.cores[0], ...(vm.shared ? { shared: true } : {}) };
  if (vm.kind === 'linux') {
    const base = board.memory.base;
    const console =
      index === 0
        ? { passthrough_device_list: [{ name: 'uart', base_pa: hex(uart.base), base_ipa: hex(uart.base), length: hex(Math.max(uart.size, 0x1000)), irq_list: [32 + uart.spi] }] }
        : { emulated_device_list: [{ name: 'uart', base_ipa: hex(uart.base), length: hex(Math.max(uart.size, 0x1000)), irq_id: 32 + uart.spi, type: 'EMU_DEVICE_T_CONSOLE' }] };
    return {
      id: index,
      name: vm.name,
      type: 'VM_T_LINUX',
      kind: vm.vmKind ?? (index === 0 ? 'mvm' : 'gvm'),
      cmdline: vm.cmdline,
      image: {
        kernel_filename: join(GUESTS, 'Image.gz'),
        kernel_load_ipa: hex(base + 0x200000),
        kernel_entry_point: hex(base + 0x200000),
        device_tree_load_ipa: hex(base),
        ...(vm.noInitrd ? {} : { ramdisk_filename: join(GUESTS, 'initramfs.cpio.gz'), ramdisk_load_ipa: hex(base + 0x1000000) }),
      },
      memory: { region: [{ ipa_start: hex(base), length: hex(vm.memory) }] },
      cpu,
      console: 'uart',
      ...console,
    };
  }
  const file = join(dir, `vm${index}-${vm.name}.bin`);
  writeFileSync(file, readFileSync(BMA_BIN)); // patched once the set is placed (runVms)
  const ipa = vm.ipa ?? BMA_IPA;
  return {
    id: index,
    name: vm.name,
    type: 'VM_T_BARE_MATEL_APP',
    kind: index === 0 ? 'mvm' : 'gvm',
    image: { kernel_filename: file, kernel_load_ipa: hex(ipa), kernel_entry_point: hex(ipa), device_tree_load_ipa: hex(ipa + 0x100000) },
    memory: { region: [{ ipa_start: hex(ipa), length: hex(vm.memory ?? 2 << 20) }] },
    cpu,
    console: 'uart',
    emulated_device_list: [{ name: 'uart', base_ipa: hex(uart.base), length: hex(Math.max(uart.size, 0x1000)), irq_id: 32 + uart.spi, type: 'EMU_DEVICE_T_CONSOLE' }],
  };
}

export interface ConsoleLine {
  vm: number;
  text: string;
  /** Virtual time (ns) of the slice in which the line was complete. */
  ns: number;
}

export interface RunResult {
  /** The VM set as the config loader read and placed it. */
  configs: VmConfig[];
  /** Virtual time at which VM 0 powered off (-1: it did not). */
  vm0OffNs: number;
  lines: ConsoleLine[];
  /** Hypervisor log lines. */
  log: string[];
  state: RunState;
  /** Virtual time at the end of the run (ns). */
  virtualNs: number;
  wallMs: number;
  instructions: number;
  hv: Shyper;
  machine: Machine;
  /** The lines of VM `id`, without the [vmN] prefix. */
  of(id: number): string[];
  /** Virtual time at which VM `id` completed a line matching `re` (-1 if never). */
  when(id: number, re: RegExp): number;
}

export interface RunOptions {
  board: BoardDescription;
  gic?: 2 | 3;
  memBytes?: number;
  vms: VmSpec[];
  seed?: bigint;
  /** Stop at this much virtual time (ms) if VM 0 has not powered off. */
  maxVirtualMs: number;
  /** Stop early when this returns true (checked after each complete line). */
  until?: (r: { lines: ConsoleLine[] }) => boolean;
  /**
   * VM 0 powering off ends the run (as in the program) unless this is set: then the other VMs run
   * on until `until` holds or the time limit (RunResult.vm0OffNs says when VM 0 stopped).
   */
  outliveVm0?: boolean;
  /** Called with each complete line as the guest finishes it (the guest has not run on yet). */
  onLine?: (l: ConsoleLine, hv: Shyper) => void;
}

/**
 * Boot the VM set and run it until VM 0 powers off, `until` holds, or the virtual-time limit.
 * Yields to the event loop between 20 ms chunks of host time (a test runner's worker stays
 * responsive); the emulation itself is deterministic whatever the chunking.
 */
export async function runVms(o: RunOptions): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'shyper-attack-'));
  const gic = o.gic ?? o.board.gic.version;
  const json = JSON.stringify(o.vms.map((vm, i) => configEntry(vm, i, o.board, dir)), null, 1);
  writeFileSync(join(dir, 'vms.json'), json);
  const vms = parseVmConfig(json, o.board, { label: 'vms.json', imageDir: dir, gicVersion: gic, ramSize: o.memBytes });
  o.vms.forEach((vm, i) => {
    if (vm.kind === 'bma') writeFileSync(vms[i]!.image.kernelFile, bmaImage(typeof vm.params === 'function' ? vm.params(vms) : vm.params));
  });

  const lines: ConsoleLine[] = [];
  let pending = '';
  let stop = false;
  let machine!: Machine;
  const sink: MuxSink = {
    write: (b) => {
      pending += String.fromCharCode(b);
      if (b !== 0x0a) return;
      const m = /^\[vm(\d)\] ([^]*)\n$/.exec(pending) ?? [pending, '0', pending.slice(0, -1)];
      const line = { vm: Number(m[1]), text: m[2]!.replace(/\r$/, ''), ns: machine.virtualNs() };
      lines.push(line);
      pending = '';
      o.onLine?.(line, hv);
      if (!stop && (o.outliveVm0 !== true || vm0OffNs >= 0) && o.until?.({ lines })) {
        stop = true;
        machine.stop(); // at the end of this slice: where a run stops does not depend on the host
      }
    },
    read: () => -1,
    hasInput: () => false,
    setInputListener: () => {},
  };
  const mux = new ConsoleMux(sink, { interactive: false, prefix: true });
  machine = new Machine({ board: o.board, gicVersion: gic, memBytes: o.memBytes, console: mux.console(0) });
  const log: string[] = [];
  machine.traceSink = (l) => void log.push(l);
  let vm0OffNs = -1;
  const onSystemOff = (): void => {
    vm0OffNs = machine.virtualNs();
    if (o.outliveVm0 !== true) machine.end('poweroff');
    else if (o.until?.({ lines })) machine.stop();
  };
  const hv = startHypervisor(machine, { vms, mux, seed: o.seed ?? 0n, log: (l) => void log.push(l), onSystemOff }).hv;

  const started = performance.now();
  const limit = o.maxVirtualMs * 1e6;
  let state: RunState = 'running';
  while (!stop && machine.virtualNs() < limit) {
    state = machine.runFor(20);
    if (state === 'idle') {
      machine.advanceIdle(Infinity); // every CPU waits: on to the next event (no host sleep here)
      state = 'running';
    }
    if (state !== 'running') break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  mux.flushAll();
  const r: RunResult = {
    configs: vms,
    vm0OffNs,
    lines,
    log,
    state,
    virtualNs: machine.virtualNs(),
    wallMs: performance.now() - started,
    instructions: machine.instructions(),
    hv,
    machine,
    of: (id) => lines.filter((l) => l.vm === id).map((l) => l.text),
    when: (id, re) => lines.find((l) => l.vm === id && re.test(l.text))?.ns ?? -1,
  };
  return r;
}
