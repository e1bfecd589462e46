// A malformed VM configuration from the MVM (issue 9), call by call as `shyper vm config` makes it:
// overlapping memory, cores of other VMs or of no CPU, a kernel larger than its region, pointers
// outside VM 0's memory, lists and chunks running past the end of it. Each bad call gets the error
// value and changes nothing: no VM is built, no memory leaves the pool, the GVM beside it is
// untouched, and once the CLI deletes the draft (as it does when a step fails) the table is as
// before — the same id, cores and memory then serve a good configuration.
import { describe, expect, it } from 'vitest';
import { HVC_ERR } from '../../hypervisor/hvc/abi.ts';
import { ARGS, boot, configure, list, type T } from './hvc-harness.ts';

/** VM 0's RAM: 0x4000_0000 + 4 MiB (hvc-harness.ts). */
const RAM_END = 0x4040_0000;

/** What must not change when a call fails: built VMs, the table, the free memory, VM 1. */
function state(t: T): string {
  const pool = (t.hv.mem as unknown as { pool: unknown }).pool;
  return JSON.stringify({ vms: t.hv.vms.map((v) => [v.id, v.state, v.vcpus.map((c) => c.pcpu)]), pool });
}

/** ADD_VM of a bare-metal draft named "bad" (kernel at 0x4000_0000); returns its id. */
function addDraft(t: T): bigint {
  const name = t.put(ARGS, 'bad');
  const id = t.call(0, 0x11, 0, t.put(ARGS + 0x40, [BigInt(name), 3n, 1n, BigInt(name), 0n, 0x4000_0000n, 0x4008_0000n, 0n]));
  expect(id).toBe(2n);
  return id;
}

const nothingAt = (t: T, at: number, bytes: number[]): number => t.put(at, Uint8Array.from(bytes));

const mem = (t: T, id: bigint): bigint => t.call(0, 0x11, 3, id, 0x4000_0000, 0x20_0000);

// Each case: the good calls that set it up (all must succeed), then the bad one. Calls come in
// the CLI's order (memory first: the rules that need a VM's memory wait until it has some; the
// cores are checked at once, below).
const cases: [string, (t: T, id: bigint) => bigint[], (t: T, id: bigint) => bigint][] = [
  ['overlapping memory regions', (t, id) => [t.call(0, 0x11, 3, id, 0x4000_0000, 0x20_0000)], (t, id) => t.call(0, 0x11, 3, id, 0x4010_0000, 0x20_0000)],
  ['a memory region over an emulated device window', (t, id) => [t.call(0, 0x11, 3, id, 0x4000_0000, 0x20_0000)], (t, id) => {
    const dn = t.put(ARGS + 0x300, 'uart');
    return t.call(0, 0x11, 4, id, dn, 0x4001_0000, 0x1000, 33, t.put(ARGS + 0x400, new Array<bigint>(16).fill(0n)), 0);
  }],
  ['a core of another VM (vm 1 "gvm1" has core 1)', (t, id) => [mem(t, id)], (t, id) => t.call(0, 0x11, 2, id, 1, 0b10, 1)],
  ["the MVM's own core", (t, id) => [mem(t, id)], (t, id) => t.call(0, 0x11, 2, id, 1, 0b1, 0)],
  ['a core the machine does not have', (t, id) => [mem(t, id)], (t, id) => t.call(0, 0x11, 2, id, 1, 1 << 9, 9)],
  ['a kernel larger than its memory region', (t, id) => [t.call(0, 0x11, 3, id, 0x4000_0000, 0x40_0000), t.call(0, 0x11, 2, id, 1, 0b1000, 3)], (t, id) => t.call(0, 0x11, 9, id, 0x80_0000, ARGS + 0x1000, 0, 0x1000)],
  // Found when the VM is built (the first kernel chunk): its memory cannot be allocated, and what
  // was allocated and mapped before that is given back.
  ['more memory than the board has', (t, id) => [t.call(0, 0x11, 3, id, 0x4000_0000, t.hv.machine.ramSize), t.call(0, 0x11, 2, id, 1, 0b1000, 3)], (t, id) => t.call(0, 0x11, 9, id, 0x1000, ARGS + 0x1000, 0, 0x1000)],
  ['a device name pointer outside VM 0', () => [], (t, id) => t.call(0, 0x11, 4, id, 0x5000_0000, 0x900_0000, 0x1000, 33, ARGS + 0x400, 0)],
  ['a device name running off the end of VM 0 without a NUL', () => [], (t, id) => t.call(0, 0x11, 4, id, nothingAt(t, RAM_END - 4, [0x41, 0x41, 0x41, 0x41]), 0x900_0000, 0x1000, 33, ARGS + 0x400, 0)],
  ['a cfg list (16 words) running past the end of VM 0', () => [], (t, id) => t.call(0, 0x11, 4, id, t.put(ARGS + 0x300, 'uart'), 0x900_0000, 0x1000, 33, RAM_END - 64, 0)],
  ['an IRQ list running past the end of VM 0', (t, id) => [t.call(0, 0x11, 5, id, 0x900_0000, 0x900_0000, 0x1000)], (t, id) => t.call(0, 0x11, 6, id, RAM_END - 8, 2)],
  ['an IRQ list of 2^40 entries', (t, id) => [t.call(0, 0x11, 5, id, 0x900_0000, 0x900_0000, 0x1000)], (t, id) => t.call(0, 0x11, 6, id, ARGS + 0x100, 2n ** 40n)],
  ['a stream id list running past the end of VM 0', () => [], (t, id) => t.call(0, 0x11, 7, id, RAM_END - 16, 3)],
  ['a dtb device IRQ list running past the end of VM 0', () => [], (t, id) => t.call(0, 0x11, 8, id, t.put(ARGS + 0x300, 'serial1'), 0, RAM_END - 8, 4, 0x900_0000, 0x1000)],
  ['a kernel chunk read from past the end of VM 0', (t, id) => [t.call(0, 0x11, 3, id, 0x4000_0000, 0x40_0000), t.call(0, 0x11, 2, id, 1, 0b1000, 3)], (t, id) => t.call(0, 0x11, 9, id, 0x2000, RAM_END - 0x800, 0, 0x1000)],
  ['a kernel chunk past its declared size', (t, id) => [t.call(0, 0x11, 3, id, 0x4000_0000, 0x40_0000), t.call(0, 0x11, 2, id, 1, 0b1000, 3)], (t, id) => t.call(0, 0x11, 9, id, 0x1000, ARGS + 0x1000, 0x800, 0x1000)],
  ['a device tree larger than 2 MiB', () => [], (t, id) => t.call(0, 0x11, 11, id, 0x40_0000, ARGS + 0x1000, 0, 0x1000)],
  ['a colour list past the end of VM 0', () => [], (t, id) => t.call(0, 0x11, 10, id, 4, RAM_END - 8, 50)],
];

describe('a malformed configuration from the MVM', () => {
  it.each(cases)('%s: the error value, nothing built, nothing allocated; deleted, the table is as before', (_, setup, bad) => {
    const t = boot();
    const before = state(t);
    const id = addDraft(t);
    for (const r of setup(t, id)) expect(r).toBe(0n);
    expect(bad(t, id)).toBe(HVC_ERR);
    expect(t.log.at(-1)).toMatch(/^shyper: vm0: HVC_CONFIG_\w+ failed: /);
    expect(state(t)).toBe(before);
    // The CLI deletes the half-made VM when a step fails.
    expect(t.call(0, 0x11, 1, id)).toBe(0n);
    expect(list(t).map((r) => r[0])).toEqual([0, 1]);
    expect(state(t)).toBe(before);
    // Id 2, core 3 and the memory serve a good configuration, which boots.
    expect(configure(t)).toBe(2n);
    expect(t.call(0, 1, 2, 2)).toBe(0n);
    for (let i = 0; i < 100 && !t.text().includes('[vm2] hi'); i++) t.machine.runSlice();
    expect(t.text()).toContain('[vm2] hi\n');
    expect(t.hvc.entries.map((e) => e.id)).toEqual([0, 1, 2]);
  });

  it('a CPU call made before any memory region is still held to the cores (other VMs\', the machine\'s)', () => {
    const t = boot();
    const id = addDraft(t);
    expect(t.call(0, 0x11, 2, id, 1, 0b10, 1)).toBe(HVC_ERR); // vm 1's
    expect(t.log.at(-1)).toMatch(/core 1 is also vm 1 "gvm1"'s/);
    expect(t.call(0, 0x11, 2, id, 1, 1 << 9, 9)).toBe(HVC_ERR);
    expect(t.call(0, 0x11, 2, id, 1, 0, 0)).toBe(HVC_ERR);
    expect(t.call(0, 0x11, 2, id, 1, 0b1000, 3)).toBe(0n);
    expect(t.hvc.entry(Number(id))!.draft!.cpu).toEqual({ num: 1, allocate_bitmap: 0b1000, master: 3 });
  });

  it('an ADD_VM struct or name outside VM 0, or running past its end, adds nothing', () => {
    const t = boot();
    const before = state(t);
    expect(t.call(0, 0x11, 0, RAM_END - 32)).toBe(HVC_ERR); // the u64[8] runs past the end
    expect(t.call(0, 0x11, 0, t.put(ARGS, [0x5000_0000n, 1n, 1n, BigInt(ARGS), 0n, 0n, 0n, 0n]))).toBe(HVC_ERR);
    expect(t.call(0, 0x11, 0, t.put(ARGS, [BigInt(nothingAt(t, RAM_END - 2, [0x41, 0x41])), 1n, 1n, BigInt(ARGS + 0x80), 0n, 0n, 0n, 0n]))).toBe(HVC_ERR);
    expect(t.hvc.entries.map((e) => e.id)).toEqual([0, 1]);
    expect(state(t)).toBe(before);
  });

  it("the IVC message page must lie whole in the caller's memory (4 KiB from the IPA given)", () => {
    const t = boot();
    expect(t.call(0, 2, 0, RAM_END - 0x800, RAM_END - 0x800)).toBe(HVC_ERR);
    expect(t.call(0, 2, 0, ARGS, ARGS)).toBe(0n);
  });
});
