// A guest cannot flood the host's log: each VM gets LOG_LINES_PER_VM distinct lines (faults,
// unknown hypercalls), then one "suppressed" line, and another VM's first fault is still reported.
// (Found by the attack suite: 100 000 random hypercalls printed a line each once 4096 distinct
// messages had been seen, whichever VM caused them.)
import { describe, expect, it } from 'vitest';
import { Machine } from '../../emulator/machine.ts';
import { attachEl2 } from '../../emulator/el2-machine.ts';
import { HostConsole } from '../../emulator/devices/console.ts';
import { boards } from '../../boards/index.ts';
import { LOG_LINES_PER_VM, Shyper } from '../../hypervisor/shyper.ts';
import type { VirtualGic, VmSetup } from '../../hypervisor/vm.ts';
import type { El2Software } from '../../emulator/arm64/el2.ts';
import { installHypercalls } from '../../hypervisor/hvc/index.ts';
import { assemble } from '../arm64/ls-oracle.ts';

const nullVgic = (): VirtualGic => ({
  own: () => {}, inject: () => {}, setLevel: () => {}, injectHw: () => false,
  gicdAccess: () => 0n, gicrAccess: () => 0n, sgi1r: () => {},
  flush: () => {}, sync: () => {}, save: () => {}, restore: () => {}, maintenance: () => {}, pending: () => false,
});

function code(lines: string[]): Uint8Array {
  const w = assemble(lines);
  const b = new Uint8Array(w.length * 4);
  const dv = new DataView(b.buffer);
  w.forEach((x, i) => dv.setUint32(i * 4, x >>> 0, true));
  return b;
}

// Loads from `pages` distinct unmapped pages from 0x50000000 on (each abort skipped by the
// guest's vector), then `hvcs` hypercalls with x7 = x7, x7 + 1, ..., then sleep.
const flood = (pages: number, hvcs: number, x7 = 0) => code([
  'adr x3, vectors', 'msr vbar_el1, x3', 'isb',
  'ldr x4, =0x50000000', `ldr x5, =${pages}`, 'cbz x5, 9f',
  '1: ldr x6, [x4]', 'add x4, x4, #4096', 'subs x5, x5, #1', 'b.ne 1b',
  `9: ldr x7, =${x7}`, `ldr x5, =${hvcs}`, 'cbz x5, 3f',
  '2: mov x0, #1', 'hvc #0', 'add x7, x7, #1', 'subs x5, x5, #1', 'b.ne 2b',
  '3: wfi', 'b 3b',
  '.balign 2048', 'vectors: .skip 0x200',
  'mrs x8, elr_el1', 'add x8, x8, #4', 'msr elr_el1, x8', 'eret',
  '.ltorg',
]);

function setup(id: number, pcpu: number, prog: Uint8Array): VmSetup {
  return {
    id, name: `t${id}`, kind: id === 0 ? 'mvm' : 'gvm', bareMetal: true, pcpus: [pcpu],
    memory: [{ ipa: 0x4000_0000, size: 2 << 20 }],
    kernel: { data: prog, ipa: 0x4000_0000 }, entry: 0x4000_0000,
    passthrough: [], irqs: [], devices: [],
  };
}

function twoVms(progs: [Uint8Array, Uint8Array], hypercallModule: boolean) {
  const machine = new Machine({ board: boards['qemu-virt']!, smp: 2, console: new HostConsole() });
  const log: string[] = [];
  let hv!: Shyper;
  const sw: El2Software = { start: (c) => hv.start(c), sync: (c) => hv.sync(c), irq: (c) => hv.irq(c) };
  hv = new Shyper(attachEl2(machine, sw), { log: (l) => void log.push(l), vmStopped: () => {} }, nullVgic);
  if (hypercallModule) {
    installHypercalls(hv, {
      board: machine.opts.board,
      gicVersion: machine.gicVersion,
      log: (l) => void log.push(l),
      setupOf: () => {
        throw new Error('not used');
      },
    });
  }
  const vms = progs.map((p, i) => hv.createVm(setup(i, i, p)));
  return { machine, log, hv, vms };
}

describe('hypervisor log budget', () => {
  it("the hypercall module: one GVM's flood of failed hypercalls does not silence the MVM's", () => {
    // VM 1 makes 5000 hypercalls (x7 = 0..4999: unknown, management-only or failing ones), then VM 0 one.
    const { machine, log, hv, vms } = twoVms([flood(0, 1, 0x7f00), flood(0, 5000)], true);
    hv.bootVm(vms[1]!);
    hv.powerOn();
    for (let i = 0; i < 300; i++) machine.runSlice();
    expect(machine.cpus[1]!.getX(7)).toBe(5000n);
    const vm1 = log.filter((l) => /vm1/.test(l));
    expect(vm1).toHaveLength(LOG_LINES_PER_VM + 1);
    expect(vm1.at(-1)).toBe('shyper: vm1: further messages about this VM suppressed');
    hv.bootVm(vms[0]!);
    for (let i = 0; i < 50; i++) machine.runSlice();
    expect(log.filter((l) => /vm0/.test(l))).toEqual(['shyper: vm0: unknown hypercall fid 0x7f event 0x0: error returned']);
  });

  it(`a VM's faults and unknown hypercalls: at most ${LOG_LINES_PER_VM} lines and one "suppressed"; another VM still reported`, () => {
    const machine = new Machine({ board: boards['qemu-virt']!, smp: 2, console: new HostConsole() });
    const log: string[] = [];
    let hv!: Shyper;
    const sw: El2Software = { start: (c) => hv.start(c), sync: (c) => hv.sync(c), irq: (c) => hv.irq(c) };
    hv = new Shyper(attachEl2(machine, sw), { log: (l) => void log.push(l), vmStopped: () => {} }, nullVgic);
    const a = hv.createVm(setup(0, 0, flood(300, 5000)));
    hv.bootVm(a);
    hv.powerOn();
    for (let i = 0; i < 400; i++) machine.runSlice();
    const vm0 = log.filter((l) => /vm0/.test(l));
    expect(vm0).toHaveLength(LOG_LINES_PER_VM + 1);
    expect(vm0.at(-1)).toBe('shyper: vm0: further messages about this VM suppressed');
    expect(machine.cpus[0]!.getX(7)).toBe(5000n); // it went on, through every call
    expect(a.vcpus[0]!.state).toBe('sleeping');
    // Another VM's first fault is still reported.
    const b = hv.createVm(setup(1, 1, flood(1, 1)));
    hv.bootVm(b);
    for (let i = 0; i < 50; i++) machine.runSlice();
    expect(log.filter((l) => /vm1/.test(l))).toEqual([
      expect.stringMatching(/^vm1: an access to unmapped IPA 0x50000000 /),
      expect.stringMatching(/^shyper: vm1: unknown hypercall fid 0x0 event 0x0: error returned$/),
    ]);
  });
});
