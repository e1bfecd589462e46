// The hypervisor core on a real emulated board: VMs built from setups, stage 2 isolation, trapped
// MMIO to an emulated device, PSCI per VM, WFI sleep and wake, a world switch between two vCPUs
// sharing one physical CPU. Guests are tiny bare-metal programs (assembled with the cross
// assembler); the vGIC here is a null stand-in — test/hypervisor/vgic covers the real one.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../emulator/machine.ts';
import { attachEl2 } from '../../emulator/el2-machine.ts';
import { HostConsole } from '../../emulator/devices/console.ts';
import { boards } from '../../boards/index.ts';
import { Shyper } from '../../hypervisor/shyper.ts';
import type { VmSetup } from '../../hypervisor/vm.ts';
import type { El2Software } from '../../emulator/arm64/el2.ts';
import { code, nullVgic } from './fixtures.ts';

const PUTC_BASE = 0x0a00_0000; // an emulated "console" register: a write appends a byte

function setupFor(id: number, pcpus: number[], prog: Uint8Array, out: number[]): VmSetup {
  return {
    id, name: `t${id}`, kind: id === 0 ? 'mvm' : 'gvm', bareMetal: true, pcpus,
    memory: [{ ipa: 0x4000_0000, size: 2 << 20 }],
    kernel: { data: prog, ipa: 0x4000_0000 }, entry: 0x4000_0000,
    passthrough: [], irqs: [],
    devices: [{ name: 'putc', base: PUTC_BASE, size: 0x1000, create: () => ({ read: () => 0x55n, write: (_o, _s, v) => void out.push(Number(v)) }) }],
  };
}

function boot(setups: ((out: number[][]) => VmSetup)[], sliceNs?: number) {
  const machine = new Machine({ board: boards['qemu-virt']!, smp: 4, console: new HostConsole() });
  const log: string[] = [];
  const stopped: string[] = [];
  let hv!: Shyper;
  const sw: El2Software = { start: (c) => hv.start(c), sync: (c) => hv.sync(c), irq: (c) => hv.irq(c) };
  const port = attachEl2(machine, sw);
  hv = new Shyper(port, { log: (l) => void log.push(l), vmStopped: (vm, why) => void stopped.push(`vm${vm.id} ${why}`) }, () => nullVgic(), sliceNs);
  const outs: number[][] = setups.map(() => []);
  const vms = setups.map((s) => hv.createVm(s(outs)));
  for (const vm of vms) hv.bootVm(vm);
  hv.powerOn();
  return { machine, hv, vms, outs, log, stopped };
}

// Guest: print 'A' via the emulated device, read it back into x5, read memory outside the VM
// (a data abort lands in its own vector, which prints 'F'), then PSCI SYSTEM_OFF over HVC.
const guestA = code([
  'ldr x1, =0x0a000000', 'mov x2, #0x41', 'str w2, [x1]', 'ldr w5, [x1]',
  'adr x3, vectors', 'msr vbar_el1, x3', 'isb',
  'ldr x4, =0x40200000', 'ldr x6, [x4]', // just past the VM's 2 MiB: unmapped
  'mov x2, #0x42', 'str w2, [x1]',
  'ldr x0, =0x84000008', 'hvc #0', 'b .',
  '.balign 2048', 'vectors: .skip 0x200',
  'mrs x7, esr_el1', 'mov x2, #0x46', 'str w2, [x1]', 'mrs x8, elr_el1', 'add x8, x8, #4', 'msr elr_el1, x8', 'eret',
  '.ltorg',
]);

describe('hypervisor core', () => {
  it('runs a VM: emulated MMIO both ways, an abort for memory outside the VM, SYSTEM_OFF stops it alone', () => {
    const { machine, outs, log, stopped, vms } = boot([(o) => setupFor(0, [0], guestA, o[0]!)]);
    for (let i = 0; i < 200 && stopped.length === 0; i++) machine.runSlice();
    expect(outs[0]).toEqual([0x41, 0x46, 0x42]);
    expect(stopped).toEqual(['vm0 poweroff']);
    expect(vms[0]!.state).toBe('off');
    expect(log.some((l) => /vm0: an access to unmapped IPA 0x40200000/.test(l))).toBe(true);
    expect(machine.cpus[0]!.getX(5)).toBe(0x55n);
  });

  it('two VMs share one physical CPU round-robin on the EL2 timer; both progress, neither sees the other', () => {
    // Each guest stores its id to the device in a loop with a delay.
    const loop = (ch: number) => code(['ldr x1, =0x0a000000', `mov x2, #${ch}`, '1: str w2, [x1]', 'mov x3, #10000', '2: subs x3, x3, #1', 'b.ne 2b', 'b 1b', '.ltorg']);
    // A 1 ms slice keeps the test short (the default is Rust-Shyper's 10 ms).
    const { machine, outs } = boot([(o) => setupFor(1, [1], loop(0x31), o[0]!), (o) => setupFor(2, [1], loop(0x32), o[1]!)], 1_000_000);
    for (let i = 0; i < 300; i++) machine.runSlice(); // 6 ms of virtual time: 6 slices
    expect(outs[0]!.length).toBeGreaterThan(5);
    expect(outs[1]!.length).toBeGreaterThan(5);
    expect(new Set(outs[0])).toEqual(new Set([0x31]));
    expect(new Set(outs[1])).toEqual(new Set([0x32]));
    const ratio = outs[0]!.length / outs[1]!.length;
    expect(ratio).toBeGreaterThan(0.4);
    expect(ratio).toBeLessThan(2.5);
  });

  it('PSCI CPU_ON starts the named vCPU on its own physical CPU with the context id; AFFINITY_INFO sees it on', () => {
    const prog = code([
      'mrs x9, mpidr_el1', 'and x9, x9, #0xff', 'cbnz x9, second',
      'ldr x0, =0xc4000003', 'mov x1, #1', 'adr x2, second', 'mov x3, #0x77', 'hvc #0', 'mov x10, x0',
      '1: ldr x0, =0xc4000004', 'mov x1, #1', 'mov x2, #0', 'hvc #0', 'cbnz x0, 1b',
      'ldr x1, =0x0a000000', 'mov x2, #0x50', 'str w2, [x1]', 'b .',
      'second: ldr x1, =0x0a000000', 'str w0, [x1]', 'b .', '.ltorg',
    ]);
    const { machine, outs, vms } = boot([(o) => ({ ...setupFor(0, [2, 3], prog, o[0]!) })]);
    for (let i = 0; i < 200; i++) machine.runSlice();
    expect(outs[0]!.slice().sort((a, b) => a - b)).toEqual([0x50, 0x77]);
    expect(machine.cpus[2]!.getX(10)).toBe(0n); // CPU_ON returned SUCCESS
    expect(vms[0]!.vcpus.map((v) => v.state)).toEqual(['ready', 'ready']);
  });
});
