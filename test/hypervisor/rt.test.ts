// GIC passthrough for an RTVM (hypervisor/rt.ts) on rk3588's GICv3: the RTVM's own interrupts come
// straight from the physical GIC at EL1, and what stays shared is checked — a guest that tries to
// reach another VM's SPI through the distributor, disable the distributor, or touch another core's
// redistributor changes nothing physical and gets zeros or an abort.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../emulator/machine.ts';
import { attachEl2 } from '../../emulator/el2-machine.ts';
import { HostConsole } from '../../emulator/devices/console.ts';
import { boards } from '../../boards/index.ts';
import { Shyper } from '../../hypervisor/shyper.ts';
import type { VmSetup } from '../../hypervisor/vm.ts';
import type { El2Software } from '../../emulator/arm64/el2.ts';
import { code } from './fixtures.ts';

const GICD = 0xfe60_0000;
const GICR = 0xfe68_0000;
const RAM = 0x1000_0000;
const OTHER_SPI = 365; // the MVM's UART2: ISENABLER11 bit 13
const OWN_SPI = 100; // the RTVM's own passthrough SPI: ISENABLER3 bit 4

function setup(id: number, pcpus: number[], prog: Uint8Array, extra: Partial<VmSetup>): VmSetup {
  return {
    id, name: `t${id}`, kind: id === 0 ? 'mvm' : 'rtvm', bareMetal: true, pcpus,
    memory: [{ ipa: RAM, size: 2 << 20 }], kernel: { data: prog, ipa: RAM }, entry: RAM,
    passthrough: [], irqs: [], devices: [], ...extra,
  };
}

function boot(setups: VmSetup[]) {
  const m = new Machine({ board: boards.rk3588!, console: new HostConsole() });
  const stopped: string[] = [];
  const log: string[] = [];
  let hv!: Shyper;
  const sw: El2Software = { start: (c) => hv.start(c), sync: (c) => hv.sync(c), irq: (c) => hv.irq(c) };
  hv = new Shyper(attachEl2(m, sw), { log: (l) => void log.push(l), vmStopped: (vm, why) => void stopped.push(`vm${vm.id} ${why}`) });
  const vms = setups.map((s) => hv.createVm(s));
  for (const vm of vms) hv.bootVm(vm);
  hv.powerOn();
  return { m, hv, vms, stopped, log };
}

const phys = (m: Machine, off: number): number => m.bus.read(GICD + off, 4) >>> 0;
const bit = (v: number, n: number): number => (v >>> n) & 1;

describe('GIC passthrough (RTVM)', () => {
  it("the RTVM reaches its own SPI through the checked GICD, never another VM's; other cores' redistributors abort", () => {
    // VM 0 (vGIC) enables its SPI 365 with priority 0x40 through its emulated distributor.
    const mvm = code([
      'ldr x1, =0xfe600000', 'mov w2, #0x12', 'str w2, [x1]',
      'mov w2, #0x40', 'strb w2, [x1, #0x56d]', // IPRIORITYR byte 365
      'mov w2, #0x2000', 'str w2, [x1, #0x12c]', // ISENABLER11 bit 13
      'mov x9, #1', '1: wfi', 'b 1b', '.ltorg',
    ]);
    // VM 1, the RTVM on core 7: waits, then attacks SPI 365 and configures its own SPI 100.
    const rtvm = code([
      'adr x3, vectors', 'msr vbar_el1, x3', 'isb',
      'ldr x4, =20000', '0: subs x4, x4, #1', 'b.ne 0b', // let VM 0 finish first
      'ldr x1, =0xfe600000',
      'mov w2, #-1', 'str w2, [x1, #0x1ac]', // ICENABLER11: disable 365 (and 352-383)
      'str w2, [x1, #0x22c]', // ISPENDR11: pend 365
      'strb wzr, [x1, #0x56d]', // IPRIORITYR 365 = 0
      'ldr x5, =0x300', 'ldr x6, =0x6b68', 'str x5, [x1, x6]', // IROUTER365 -> core 3
      'str wzr, [x1]', // GICD_CTLR = 0: the distributor off for everyone
      'ldr w10, [x1, #0x12c]', // ISENABLER11 as the RTVM sees it
      'mov w2, #0x10', 'str w2, [x1, #0x10c]', // ISENABLER3 bit 4: its own SPI 100
      'ldr x5, =0x300', 'ldr x6, =0x6320', 'str x5, [x1, x6]', // IROUTER100 -> core 3: not its core
      'ldr w11, [x1, #0x10c]',
      'ldr w12, [x1]', // GICD_CTLR as it sees it
      'ldr x1, =0xfe680000', 'ldr w13, [x1, #0x8]', // its own redistributor: GICR_TYPER (core 7)
      'ldr w14, [x1, #0xc]',
      'ldr x1, =0xfe6a0000', 'ldr w15, [x1, #0x8]', // the next frame: not mapped
      'mov x9, #1', '1: b 1b',
      '.balign 2048', 'vectors: .skip 0x200',
      'mrs x20, esr_el1', 'mrs x21, far_el1', 'mrs x22, elr_el1', 'add x22, x22, #4', 'msr elr_el1, x22', 'eret',
      '.ltorg',
    ]);
    const { m, hv, vms } = boot([setup(0, [0], mvm, { irqs: [OTHER_SPI] }), setup(1, [7], rtvm, { irqs: [OWN_SPI], gicPassthrough: true })]);
    const x = (cpu: number, n: number): bigint => m.cpus[cpu]!.getX(n);
    for (let i = 0; i < 400 && !(x(0, 9) === 1n && x(7, 9) === 1n); i++) m.runSlice();
    expect([x(0, 9), x(7, 9)]).toEqual([1n, 1n]);
    void hv;

    // SPI 365 is exactly as VM 0 set it: enabled, not pending, priority 0x40, routed to core 0.
    expect(bit(phys(m, 0x100 + 44), 13)).toBe(1);
    expect(bit(phys(m, 0x200 + 44), 13)).toBe(0);
    expect(m.bus.read(GICD + 0x400 + OTHER_SPI, 1)).toBe(0x40);
    expect(phys(m, 0x6000 + OTHER_SPI * 8)).toBe(0); // core 0's affinity
    // The distributor stayed on.
    expect(phys(m, 0) & 3).toBe(3);
    // What the RTVM saw: zeros for another VM's SPI, the physical GICD_CTLR (read-only for it).
    expect(x(7, 10)).toBe(0n);
    expect(x(7, 12) & 3n).toBe(3n);
    // Its own SPI 100: enabled physically, routed to its own core 7 (core 3 is not the VM's).
    expect(bit(phys(m, 0x100 + 12), 4)).toBe(1);
    expect(x(7, 11)).toBe(0x10n);
    expect(phys(m, 0x6000 + OWN_SPI * 8)).toBe(0x700);
    // Its redistributor is core 7's physical frame; its vCPU's MPIDR is core 7's.
    expect(x(7, 14)).toBe(0x700n); // GICR_TYPER affinity
    expect(Number(x(7, 13)) & 0x10).toBe(0x10); // Last: core 7 is the last frame
    expect(vms[1]!.vcpus[0]!.vmpidr).toBe(0x8100_0700);
    // Core 6's frame is not in its stage 2: a data abort, injected into the guest (EC 0x25).
    expect(Number(x(7, 20)) >>> 26).toBe(0x25);
    expect(x(7, 21)).toBe(BigInt(GICR + 0x20008));
  });

  it("the RTVM's virtual timer interrupt never enters the hypervisor", () => {
    // Program the virtual timer through the core's own redistributor and take 3 interrupts.
    const rtvm = code([
      'adr x3, vectors', 'msr vbar_el1, x3', 'isb',
      'ldr x1, =0xfe600000', 'mov w2, #0x12', 'str w2, [x1]',
      'ldr x1, =0xfe680000', 'ldr w2, [x1, #0x14]', 'bic w2, w2, #2', 'str w2, [x1, #0x14]',
      'ldr x1, =0xfe690000', 'mov w2, #0x08000000', 'str w2, [x1, #0x80]', 'str w2, [x1, #0x100]',
      'mov x2, #0xff', 'msr icc_pmr_el1, x2', 'mov x2, #1', 'msr icc_igrpen1_el1, x2', 'isb',
      'mov x9, #0',
      '2: mrs x2, cntvct_el0', 'add x2, x2, #240', 'msr cntv_cval_el0, x2', 'mov x2, #1', 'msr cntv_ctl_el0, x2',
      'msr daifclr, #2', '3: cmp x9, x8', 'b.eq 3b', 'mov x8, x9', 'cmp x9, #3', 'b.ne 2b',
      '4: b 4b',
      '.balign 2048', 'vectors: .skip 0x280',
      'mrs x2, icc_iar1_el1', 'msr cntv_ctl_el0, xzr', 'msr icc_eoir1_el1, x2', 'add x9, x9, #1', 'eret',
      '.ltorg',
    ]);
    const idle = code(['1: wfi', 'b 1b']);
    const { m, hv } = boot([setup(0, [0], idle, {}), setup(1, [7], rtvm, { gicPassthrough: true })]);
    const entries = { irq: 0, sync: 0 };
    const irq = hv.irq.bind(hv);
    const sync = hv.sync.bind(hv);
    hv.irq = (c) => void (c.index === 7 && entries.irq++, irq(c));
    hv.sync = (c) => void (c.index === 7 && entries.sync++, sync(c));
    const before = { ...entries };
    for (let i = 0; i < 200 && m.cpus[7]!.getX(9) < 3n; i++) m.runSlice();
    expect(m.cpus[7]!.getX(9)).toBe(3n);
    // Only the two trapped GICD writes at start; no IRQ exit at all.
    expect(entries.irq - before.irq).toBe(0);
    expect(entries.sync - before.sync).toBeLessThanOrEqual(2);
  });
});
