// The hypercall ABI (hypervisor/hvc) on the real hypervisor wiring (src/hypervisor-run.ts) of a
// qemu-virt board: a bare-metal MVM and GVM from a config file; most calls are made through a
// stand-in El2Cpu holding x0..x7 (the arguments a guest's HVC leaves there), with argument structs
// written into the caller's RAM (hvc-harness.ts); one test makes them from a running guest.
import { describe, expect, it, vi } from 'vitest';
import { HVC_ERR, VMINFO_LIST_SIZE } from '../../hypervisor/hvc/abi.ts';
import { code } from './fixtures.ts';
import { ARGS, boot, configure, list } from './hvc-harness.ts';

describe('hypercall ABI (x7 = fid << 8 | event)', () => {
  it('an unknown fid or event is an error, logged once per VM and call', () => {
    const t = boot();
    expect(t.call(0, 0x7f, 0)).toBe(HVC_ERR);
    expect(t.call(0, 0x7f, 0)).toBe(HVC_ERR);
    expect(t.call(0, 1, 0x33)).toBe(HVC_ERR);
    expect(t.call(1, 0x7f, 0)).toBe(HVC_ERR);
    expect(t.log.filter((l) => /unknown hypercall/.test(l))).toEqual([
      'shyper: vm0: unknown hypercall fid 0x7f event 0x0: error returned',
      'shyper: vm0: unknown hypercall fid 0x1 event 0x33: error returned',
      'shyper: vm1: unknown hypercall fid 0x7f event 0x0: error returned',
    ]);
  });

  it('management calls from a GVM get the error value and change nothing; its own id it may ask', () => {
    const t = boot();
    const before = list(t);
    const gvmBuf = 0x4010_0000;
    for (const [fid, event] of [[0, 0], [0, 1], [0, 4], [1, 0], [1, 1], [1, 2], [1, 3], [1, 4], [1, 16], [0x11, 0], [0x11, 1], [0x11, 9], [3, 0x30]]) {
      expect(t.call(1, fid!, event!, event === 0 ? gvmBuf : 1), `fid ${fid} event ${event}`).toBe(HVC_ERR);
    }
    expect(list(t)).toEqual(before);
    expect(t.vm(1).state).toBe('pending');
    expect(t.call(1, 1, 8, gvmBuf)).toBe(0n);
    expect(new DataView(t.get(t.vm(1), gvmBuf, 8).buffer).getBigUint64(0, true)).toBe(1n);
    expect(t.offCount()).toBe(0);
  });

  it('VMM list fills the 360-byte VMInfoList in table order; get_state agrees', () => {
    const t = boot();
    expect(list(t)).toEqual([[0, 'mvm', 1, 1], [1, 'gvm1', 1, 1]]);
    expect(t.call(0, 1, 1, 1)).toBe(1n);
    expect(t.call(0, 1, 1, 5)).toBe(HVC_ERR);
  });

  it('a bad pointer is an error, never a host exception', () => {
    const t = boot();
    const outside = [0n, 0x4040_0000n, 0x403f_fff0n, 2n ** 60n, HVC_ERR];
    for (const p of outside) {
      expect(t.call(0, 1, 0, p)).toBe(HVC_ERR); // the 360 bytes must all be in RAM
      expect(t.call(0, 0x11, 0, p)).toBe(HVC_ERR);
      expect(t.call(0, 2, 0, p, p)).toBe(HVC_ERR);
    }
    // ADD_VM whose name pointer leaves RAM, or whose name has no NUL before the end of RAM.
    expect(t.call(0, 0x11, 0, t.put(ARGS, [0x5000_0000n, 1n, 1n, BigInt(ARGS), 0n, 0n, 0n, 0n]))).toBe(HVC_ERR);
    t.put(0x403f_fff8, new Uint8Array(8).fill(0x41));
    expect(t.call(0, 0x11, 0, t.put(ARGS, [0x403f_fff8n, 8n, 1n, BigInt(ARGS), 0n, 0n, 0n, 0n]))).toBe(HVC_ERR);
    // Lists longer than the hypervisor takes, chunks past their size.
    expect(t.log.some((l) => /not in the caller's memory/.test(l))).toBe(true);
    expect(list(t).length).toBe(2);
  });
});

describe('HVC_CONFIG: a VM built at run time', () => {
  it('the vm config sequence builds a bare-metal GVM; boot starts it and its console appears as [vm2]', () => {
    const t = boot();
    const id = configure(t, { chunk: 8 });
    expect(id).toBe(2n);
    expect(list(t)[2]).toEqual([2, 'bm3', 1, 0]);
    expect(t.call(0, 1, 2, id)).toBe(0n);
    for (let i = 0; i < 100 && !t.text().includes('[vm2] hi'); i++) t.machine.runSlice();
    expect(t.text()).toContain('[vm2] hi\n');
    expect(list(t)[2]).toEqual([2, 'bm3', 1, 2]);
    expect(t.call(0, 1, 2, id)).toBe(HVC_ERR); // already running
  });

  it('rules of a config file hold call by call; a failing call changes nothing', () => {
    const t = boot();
    const name = t.put(ARGS, 'x');
    const id = t.call(0, 0x11, 0, t.put(ARGS + 0x40, [BigInt(name), 1n, 1n, BigInt(name), 0n, 0x4000_0000n, 0x4008_0000n, 0n]));
    expect(id).toBe(2n);
    expect(t.call(0, 0x11, 3, id, 0x4000_0000, 0x20_0000)).toBe(0n);
    expect(t.call(0, 0x11, 3, id, 0x4010_0000, 0x20_0000)).toBe(HVC_ERR); // overlaps region 0
    expect(t.log.at(-1)).toMatch(/memory.region\[1\]: 0x40100000\+0x200000 overlaps region\[0\]/);
    expect(t.call(0, 0x11, 3, id, 0x4000_1001, 0x1000)).toBe(HVC_ERR); // unaligned
    expect(t.call(0, 0x11, 2, id, 1, 0b10, 1)).toBe(HVC_ERR); // core 1 is gvm1's
    expect(t.log.at(-1)).toMatch(/core 1 is also vm 1 "gvm1"'s/);
    expect(t.call(0, 0x11, 2, id, 1, 0b10000, 4)).toBe(HVC_ERR); // no core 4 on this 4-core machine
    expect(t.call(0, 0x11, 2, id, 1, 0b1000, 3)).toBe(0n);
    const irqs = t.put(ARGS + 0x100, [33n]);
    expect(t.call(0, 0x11, 6, id, irqs, 1)).toBe(HVC_ERR); // IRQs before any passthrough region
    expect(t.call(0, 0x11, 5, id, 0x900_0000, 0x4000_0000, 0x1000)).toBe(HVC_ERR); // RAM is not a device
    expect(t.call(0, 0x11, 5, id, 0x900_0000, 0x900_0000, 0x1000)).toBe(0n); // the PL011 (its SPI assumed until the IRQs come)
    expect(t.call(0, 0x11, 6, id, irqs, 1)).toBe(0n);
    // A kernel larger than its region: an error at upload, and no VM is built.
    const big = new Uint8Array(0x30_0000);
    expect(t.call(0, 0x11, 9, id, big.length, ARGS + 0x1000, 0, 0x1000)).toBe(HVC_ERR);
    expect(t.log.at(-1)).toMatch(/the kernel \(3 MiB\) at 0x40000000 runs past the end of its memory region/);
    expect(t.hv.vms.map((v) => v.id)).toEqual([0, 1]);
    expect(t.call(0, 0x11, 1, id)).toBe(0n);
    expect(list(t).map((r) => r[0])).toEqual([0, 1]);
  });

  it('stream ids and dtb-device IRQ lists keep every entry; memory colours are accepted', () => {
    const t = boot();
    const name = t.put(ARGS, 'lists');
    const id = t.call(0, 0x11, 0, t.put(ARGS + 0x40, [BigInt(name), 5n, 0n, BigInt(name), 0n, 0x4008_0000n, 0x4000_0000n, 0n]));
    expect(t.call(0, 0x11, 3, id, 0x4000_0000, 0x80_0000)).toBe(0n);
    const ids = t.put(ARGS + 0x100, [1n, 2n, 3n, 4n, 5n]);
    expect(t.call(0, 0x11, 7, id, ids, 5)).toBe(0n);
    const draft = t.hvc.entry(Number(id))!.draft!;
    expect(draft.streamIds).toEqual([1, 2, 3, 4, 5]);
    const dn = t.put(ARGS + 0x200, 'serial1');
    const dirqs = t.put(ARGS + 0x300, [40n, 41n, 42n]);
    expect(t.call(0, 0x11, 8, id, dn, 0, dirqs, 3, 0x900_0000, 0x1000)).toBe(0n);
    expect(draft.dtbDevices[0]!.irq_list).toEqual([40, 41, 42]);
    const colours = t.put(ARGS + 0x400, [0n, 1n, 2n]);
    expect(t.call(0, 0x11, 10, id, 3, colours, 50)).toBe(0n);
    expect(draft.colors).toEqual([0, 1, 2]);
    expect(draft.budget).toBe(50);
  });

  it("an emulated device's 16 cfg words: a virtio-console keeps its peer [vm, IPA], none when all zero", () => {
    const t = boot();
    const name = t.put(ARGS, 'peer');
    const id = t.call(0, 0x11, 0, t.put(ARGS + 0x40, [BigInt(name), 4n, 1n, BigInt(name), 0n, 0x4000_0000n, 0x4008_0000n, 0n]));
    expect(t.call(0, 0x11, 3, id, 0x4000_0000, 0x20_0000)).toBe(0n);
    const words = (w: bigint[]) => t.put(ARGS + 0x400, [...w, ...new Array<bigint>(16 - w.length).fill(0n)]);
    const dev = (n: string, ipa: number, irq: number, cfg: number) => t.call(0, 0x11, 4, id, t.put(ARGS + 0x300, n), ipa, 0x1000, irq, cfg, 5); // EMU_DEVICE_T_VIRTIO_CONSOLE
    expect(dev('hvc0', 0xa00_2000, 50, words([0n, 0xa00_3000n]))).toBe(0n); // peer: VM 0's console at 0xa003000
    expect(dev('hvc1', 0xa00_4000, 51, words([]))).toBe(0n);
    expect(t.hvc.entry(Number(id))!.draft!.emulated.map((e) => e.cfg_list)).toEqual([['0', String(0xa00_3000)], []]);
  });

  it('an EMU_DEVICE_T_GPPT device makes the VM an RTVM with the GIC passed through (kind rtvm, physical MPIDR)', () => {
    const t = boot();
    const id = configure(t, { gppt: true });
    expect(id).toBe(2n);
    const cfg = t.hvc.entry(2)!.config!;
    expect([cfg.kind, cfg.gicPassthrough]).toEqual(['rtvm', true]);
    expect(t.vm(2).setup.gicPassthrough).toBe(true);
    expect(t.vm(2).vcpus[0]!.vmpidr & 0xffffff).toBe(3); // core 3's affinity, not vCPU 0's (0)
    expect(t.call(0, 1, 2, id)).toBe(0n);
    for (let i = 0; i < 100 && !t.text().includes('[vm2] hi'); i++) t.machine.runSlice();
    expect(t.text()).toContain('[vm2] hi\n');
  });

  it('remove frees the VM: its id and memory serve the next VM', () => {
    const t = boot();
    expect(t.call(0, 1, 16, 0)).toBe(HVC_ERR);
    expect(t.call(0, 1, 16, 1)).toBe(0n);
    expect(list(t).map((r) => r[0])).toEqual([0]);
    expect(t.hv.vms.map((v) => v.id)).toEqual([0]);
    // Core 1 and id 1 are free again.
    const id = configure(t, { core: 1 });
    expect(id).toBe(1n);
    expect(t.call(0, 1, 2, id)).toBe(0n);
    for (let i = 0; i < 100 && !t.text().includes('[vm1] hi'); i++) t.machine.runSlice();
    expect(t.text()).toContain('[vm1] hi\n');
  });

  it('forced reboot resets the VM and reloads its images; soft reboot is an IVC message', () => {
    const t = boot();
    const id = configure(t);
    expect(t.call(0, 1, 2, id)).toBe(0n);
    for (let i = 0; i < 100 && !t.text().includes('[vm2] hi'); i++) t.machine.runSlice();
    t.vm(2).writeGuest(0x4010_0000, Uint8Array.of(1, 2, 3));
    expect(t.call(0, 1, 4, (1n << 16n) | id)).toBe(0n);
    expect(t.get(t.vm(2), 0x4010_0000, 3)).toEqual(Uint8Array.of(0, 0, 0)); // RAM zeroed
    for (let i = 0; i < 100 && t.text().split('[vm2] hi').length < 3; i++) t.machine.runSlice();
    expect(t.text().split('[vm2] hi').length).toBe(3); // printed again
    // Soft: the target has registered no message page.
    expect(t.call(0, 1, 4, id)).toBe(HVC_ERR);
  });
});

describe('IVC', () => {
  it('update_mq registers the page; messages fill its 8 slots of 512 bytes in turn', () => {
    const t = boot();
    const page = 0x4020_0000;
    expect(t.call(1, 2, 0, page, page)).toBe(0n); // the GVM registers its own page
    expect(t.call(1, 2, 0, 0x403f_f800, 0x403f_f800)).toBe(HVC_ERR); // the page must be all in RAM
    const inject = vi.spyOn(t.vm(1).vgic, 'inject');
    for (let k = 0; k < 9; k++) expect(t.call(0, 1, 4, 1)).toBe(0n); // soft reboot of vm1: a message
    const u64 = (at: number) => new DataView(t.get(t.vm(1), at, 8).buffer).getBigUint64(0, true);
    for (let k = 0; k < 8; k++) expect([u64(page + k * 512), u64(page + k * 512 + 8), u64(page + k * 512 + 16)]).toEqual([1n, 4n, 1n]);
    expect(inject.mock.calls).toEqual(new Array(9).fill([64, 0])); // HVC_IRQ into vCPU 0, per message
  });
});

describe('SYS', () => {
  it('test returns 0 and logs; shutdown powers the system off, VM 0 last', () => {
    const t = boot();
    expect(t.call(0, 0, 4)).toBe(0n);
    expect(t.log).toContain('shyper: HVC SYS TEST from vm0');
    expect(t.call(0, 0, 1)).toBe(0n);
    expect(t.offCount()).toBe(1);
    expect(t.hv.vms.map((v) => v.state)).toEqual(['off', 'off']);
  });
});

describe('from a running guest', () => {
  it('VM 0 makes HVC #0 with x7 = 0x0100: its VMInfoList lands in its RAM', () => {
    const prog = code(['ldr x0, =0x40100000', 'mov x7, #0x100', 'hvc #0', 'mov x20, x0', 'ldr x0, =0x40100400', 'mov x7, #0x108', 'hvc #0', 'b .', '.ltorg']);
    const t = boot(prog);
    for (let i = 0; i < 50; i++) t.machine.runSlice();
    expect(t.machine.cpus[0]!.getX(20)).toBe(0n);
    const b = t.get(t.vm(0), 0x4010_0000, VMINFO_LIST_SIZE);
    expect(new DataView(b.buffer).getBigUint64(0, true)).toBe(2n);
    expect(new TextDecoder().decode(b.subarray(8 + 44 + 4, 8 + 44 + 8))).toBe('gvm1');
  });
});

describe('attacks', () => {
  it('100 000 random hypercalls from the MVM never throw, and leave a running GVM and its memory alone', () => {
    const t = boot();
    const canary = Uint8Array.from({ length: 64 }, (_, i) => i * 3 + 1);
    t.vm(1).writeGuest(0x4030_0000, canary);
    // Plausible arguments: valid structures in VM 0's RAM, edges of it, ids, huge values.
    const plant = (): void => {
      const name = t.put(ARGS, 'fz');
      t.put(ARGS + 0x40, [BigInt(name), 2n, 1n, BigInt(name), 0n, 0x4000_0000n, 0x4008_0000n, 0n]);
      t.put(ARGS + 0x100, [33n, 64n, 1000n, 2n ** 63n]);
    };
    let seed = 0x9e3779b97f4a7c15n;
    const rand = (): bigint => {
      seed ^= seed << 13n;
      seed &= 2n ** 64n - 1n;
      seed ^= seed >> 7n;
      seed ^= seed << 17n;
      seed &= 2n ** 64n - 1n;
      return seed;
    };
    const pick = <T>(xs: T[]): T => xs[Number(rand() % BigInt(xs.length))]!;
    const pool = [0n, 1n, 2n, 3n, 4n, 7n, 8n, 16n, 0xffffn, 1n << 16n, HVC_ERR, BigInt(ARGS), BigInt(ARGS + 0x40), BigInt(ARGS + 0x100), 0x4000_0000n, 0x403f_fff8n, 0x4040_0000n, 0x900_0000n, 0x20_0000n, 0x1000n, 0b1000n, 0b100n, 48n];
    const start = performance.now();
    for (let i = 0; i < 100_000; i++) {
      if (i % 64 === 0) plant(); // calls write into VM 0's RAM too (LIST, GET_ID)
      const fid = pick([0x11, 0x11, 0x11, 1, 2, 3, Number(rand() & 0xffn)]);
      const event = Number(rand() % 18n);
      const args = Array.from({ length: 7 }, () => (rand() % 4n === 0n ? rand() : pick(pool)));
      // Management of the running VMs themselves is the MVM's right, not an attack: leave it out.
      if (fid === 0 || (fid === 1 && [3, 4, 16].includes(event) && (args[0]! & 0xffffn) < 2n)) continue;
      t.call(0, fid, event, ...args);
    }
    const ms = performance.now() - start;
    expect(t.vm(1).state).toBe('pending');
    expect(t.get(t.vm(1), 0x4030_0000, 64)).toEqual(canary);
    expect(list(t).slice(0, 2).map((r) => r[1])).toEqual(['mvm', 'gvm1']);
    for (let i = 0; i < 20; i++) t.machine.runSlice(); // whatever the calls built still runs without a host exception
    expect(t.log.filter((l) => /internal error/.test(l))).toEqual([]);
    expect(t.log.some((l) => /added by the MVM/.test(l))).toBe(true); // the calls got past ADD_VM
    expect(ms).toBeLessThan(120_000);
  });
});

