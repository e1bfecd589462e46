// The hypercall ABI on the real hypervisor wiring (src/hypervisor-run.ts) of a qemu-virt board,
// shared by hvc.test.ts and hvc-config-attack.test.ts: a bare-metal MVM and GVM from a config file;
// calls are made through a stand-in El2Cpu holding x0..x7 (the arguments a guest's HVC leaves
// there), with argument structs written into the caller's RAM.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { boards } from '../../boards/index.ts';
import { Machine } from '../../emulator/machine.ts';
import { HostConsole } from '../../emulator/devices/console.ts';
import type { El2Cpu } from '../../emulator/arm64/el2.ts';
import { loadVmConfig } from '../../hypervisor/config.ts';
import { HVC_ERR, VMINFO_LIST_SIZE } from '../../hypervisor/hvc/abi.ts';
import type { Vm } from '../../hypervisor/vm.ts';
import { ConsoleMux, type MuxSink } from '../../src/console-mux.ts';
import { startHypervisor } from '../../src/hypervisor-run.ts';
import { code } from './fixtures.ts';

export const virt = boards['qemu-virt']!;
export const MEM = 0x4000_0000;
/** Scratch IPA in VM 0's RAM where the tests put argument structs and strings. */
export const ARGS = MEM + 0x10_0000;

export const SPIN = code(['b .']);
/** Bare-metal guest that prints "hi\n" on a PL011 at 0x9000000, then spins. */
export const HELLO = code(['ldr x1, =0x09000000', 'mov w2, #0x68', 'str w2, [x1]', 'mov w2, #0x69', 'str w2, [x1]', 'mov w2, #0x0a', 'str w2, [x1]', 'b .', '.ltorg']);

export const vmEntry = (name: string, core: number, file: string, devices: object[]) => ({
  name,
  type: 'VM_T_BARE_MATEL_APP',
  image: { kernel_filename: file, kernel_load_ipa: '0x40000000', kernel_entry_point: '0x40000000', device_tree_load_ipa: '0x40080000' },
  memory: { region: [{ ipa_start: '0x40000000', length: '0x400000' }] },
  cpu: { num: 1, allocate_bitmap: `0b${(1 << core).toString(2)}`, master: core },
  emulated_device_list: devices,
});
export const shyperDev = { name: 'vm_service', base_ipa: '0', length: '0', irq_id: 64, type: 'EMU_DEVICE_T_SHYPER' };
export const uartDev = { name: 'uart', base_ipa: '0x9000000', length: '0x1000', irq_id: 33, type: 'EMU_DEVICE_T_CONSOLE' };

export function boot(vm0 = SPIN) {
  const dir = mkdtempSync(join(tmpdir(), 'hvc-'));
  writeFileSync(join(dir, 'vm0.bin'), vm0);
  writeFileSync(join(dir, 'spin.bin'), SPIN);
  writeFileSync(join(dir, 'vms.json'), JSON.stringify([vmEntry('mvm', 0, 'vm0.bin', [shyperDev]), vmEntry('gvm1', 1, 'spin.bin', [uartDev, shyperDev])]));
  const vms = loadVmConfig(join(dir, 'vms.json'), virt, { gicVersion: 3 });
  const out: number[] = [];
  const sink: MuxSink = { write: (b) => void out.push(b), read: () => -1, hasInput: () => false, setInputListener: () => {} };
  const mux = new ConsoleMux(sink, { interactive: false, prefix: true });
  const machine = new Machine({ board: virt, smp: 4, gicVersion: 3, console: new HostConsole() });
  const log: string[] = [];
  let off = 0;
  const { hv, hvc } = startHypervisor(machine, { vms, mux, seed: 0n, log: (l) => void log.push(l), onSystemOff: () => off++ });
  const vm = (id: number): Vm => hv.vms.find((v) => v.id === id)!;
  /** Make hypercall (fid, event) from VM `from` with x0..x6 = args. */
  const call = (from: number, fid: number, event: number, ...args: (number | bigint)[]): bigint => {
    const x = [...args.map(BigInt), 0n, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 7);
    x[7] = BigInt((fid << 8) | event);
    const cpu = { x: (n: number) => x[n] ?? 0n } as unknown as El2Cpu;
    return hvc.call(cpu, vm(from).vcpus[0]!);
  };
  /** Put bytes (or u64s, or a NUL-terminated string) in VM 0's RAM at `at`; returns at. */
  const put = (at: number, data: Uint8Array | bigint[] | string): number => {
    let b: Uint8Array;
    if (typeof data === 'string') b = new TextEncoder().encode(data + '\0');
    else if (data instanceof Uint8Array) b = data;
    else {
      b = new Uint8Array(data.length * 8);
      data.forEach((v, i) => new DataView(b.buffer).setBigUint64(i * 8, v, true));
    }
    expect(vm(0).writeGuest(at, b)).toBe(true);
    return at;
  };
  const get = (v: Vm, at: number, n: number): Uint8Array => {
    const b = new Uint8Array(n);
    expect(v.readGuest(at, b)).toBe(true);
    return b;
  };
  const text = () => new TextDecoder().decode(Uint8Array.from(out));
  return { machine, hv, hvc, vm, call, put, get, log, text, offCount: () => off, mux };
}

export type T = ReturnType<typeof boot>;

/** The `shyper vm config` sequence for a bare-metal GVM on `core` printing through an emulated PL011. */
export function configure(t: T, o: { core?: number; kernel?: Uint8Array; memLen?: number; chunk?: number; gppt?: boolean } = {}): bigint {
  const kernel = o.kernel ?? HELLO;
  const name = t.put(ARGS, 'bm3');
  const cmdline = t.put(ARGS + 0x100, '');
  const add = t.put(ARGS + 0x200, [BigInt(name), 3n, 1n, BigInt(cmdline), 0n, 0x4000_0000n, 0x4008_0000n, 0n]);
  const id = t.call(0, 0x11, 0, add);
  if (id === HVC_ERR) return id;
  const steps: bigint[] = [];
  steps.push(t.call(0, 0x11, 3, id, 0x4000_0000, o.memLen ?? 0x20_0000));
  steps.push(t.call(0, 0x11, 2, id, 1, 1 << (o.core ?? 3), o.core ?? 3));
  const devName = t.put(ARGS + 0x300, 'uart');
  const cfg = t.put(ARGS + 0x400, new Array<bigint>(16).fill(0n));
  steps.push(t.call(0, 0x11, 4, id, devName, 0x900_0000, 0x1000, 33, cfg, 0));
  // EMU_DEVICE_T_GPPT at qemu-virt's distributor: an RTVM with the GIC passed through.
  if (o.gppt) steps.push(t.call(0, 0x11, 4, id, t.put(ARGS + 0x340, 'gppt'), 0x800_0000, 0x1_0000, 0, cfg, 2));
  const chunk = o.chunk ?? kernel.length;
  for (let off = 0; off < kernel.length; off += chunk) {
    const part = kernel.subarray(off, off + chunk);
    t.put(ARGS + 0x1000, part);
    steps.push(t.call(0, 0x11, 9, id, kernel.length, ARGS + 0x1000, off, part.length));
  }
  return steps.every((s) => s === 0n) ? id : HVC_ERR;
}

/** VMInfoList → [id, name, type, state] rows. */
export function list(t: T): [number, string, number, number][] {
  expect(t.call(0, 1, 0, ARGS + 0x800)).toBe(0n);
  const b = t.get(t.vm(0), ARGS + 0x800, VMINFO_LIST_SIZE);
  const dv = new DataView(b.buffer);
  const rows: [number, string, number, number][] = [];
  for (let i = 0; i < Number(dv.getBigUint64(0, true)); i++) {
    const at = 8 + i * 44;
    const name = b.subarray(at + 4, at + 36);
    rows.push([dv.getUint32(at, true), new TextDecoder().decode(name.subarray(0, name.indexOf(0))), dv.getUint32(at + 36, true), dv.getUint32(at + 40, true)]);
  }
  return rows;
}
