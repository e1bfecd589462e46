// A virtio-mmio device inside a VM (src/vm-devices.ts virtioSpec): the driver's addresses are
// IPAs translated through the VM's RAM map (VmGuestMemory); DMA to an address outside the VM's
// RAM — past a region's end, straddling two regions, in another VM's memory — is refused with
// DEVICE_NEEDS_RESET and one log line, never a host exception and never another VM's bytes; the
// interrupt is a level line into the VM's vGIC; stopping the VM resets the device.
import { describe, expect, it } from 'vitest';
import { nullVgic } from './fixtures.ts';
import { boards } from '../../boards/index.ts';
import type { El2Software } from '../../emulator/arm64/el2.ts';
import { HostConsole } from '../../emulator/devices/console.ts';
import { attachEl2 } from '../../emulator/el2-machine.ts';
import { Machine } from '../../emulator/machine.ts';
import { MemoryBackend } from '../../emulator/devices/virtio/block-backend.ts';
import { VirtioBlk } from '../../emulator/devices/virtio/blk.ts';
import { STATUS_DEVICE_NEEDS_RESET } from '../../emulator/devices/virtio/device.ts';
import * as R from '../../emulator/devices/virtio/mmio.ts';
import { VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '../../emulator/devices/virtio/virtqueue.ts';
import { VmGuestMemory } from '../../hypervisor/guest-memory.ts';
import { SHYPER_VIRTIO_VENDOR, virtioSpec } from '../../src/vm-devices.ts';
import { Shyper } from '../../hypervisor/shyper.ts';
import type { Vm, VmSetup } from '../../hypervisor/vm.ts';

const BASE = 0x0a00_0000;
const IRQ = 48;
const MiB = 1 << 20;

function rig() {
  const machine = new Machine({ board: boards['qemu-virt']!, smp: 2, console: new HostConsole() });
  const levels: [number, number, boolean][] = [];
  let vmOf = 0;
  const vgic = () => {
    const id = vmOf++;
    return nullVgic({ setLevel: (i, l) => void levels.push([id, i, l]) });
  };
  const log: string[] = [];
  let hv!: Shyper;
  const sw: El2Software = { start: (c) => hv.start(c), sync: (c) => hv.sync(c), irq: (c) => hv.irq(c) };
  hv = new Shyper(attachEl2(machine, sw), { log: (l) => void log.push(l), vmStopped: () => {} }, vgic);
  const disk = new Uint8Array(64 * 512);
  for (let i = 0; i < disk.length; i++) disk[i] = (i * 7) & 0xff;
  const setup = (id: number, memory: VmSetup['memory'], devices: VmSetup['devices']): VmSetup => ({
    id, name: `vm${id}`, kind: id === 0 ? 'mvm' : 'gvm', bareMetal: true, pcpus: [id], memory,
    kernel: { data: new Uint8Array(4), ipa: memory[0]!.ipa }, entry: memory[0]!.ipa, passthrough: [], irqs: [], devices,
  });
  const spec = virtioSpec({ name: 'vm0.vda', base: BASE, size: 0x1000, irq: IRQ, device: new VirtioBlk({ backend: new MemoryBackend(disk, false) }), log: (l) => void log.push(l) });
  const vm0 = hv.createVm(setup(0, [{ ipa: 0x4000_0000, size: 2 * MiB }, { ipa: 0x4020_0000, size: 2 * MiB }, { ipa: 0x4800_0000, size: 2 * MiB }], [spec]));
  const vm1 = hv.createVm(setup(1, [{ ipa: 0x4000_0000, size: 2 * MiB }], []));
  const dev = vm0.regionAt(BASE)!.handler;
  const r = (off: number): number => Number(dev.read(off, 4, 0));
  const w = (off: number, v: number): void => dev.write(off, 4, BigInt(v), 0);
  return { hv, vm0, vm1, dev, r, w, levels, log, disk };
}

const u8 = (n: number): Uint8Array => new Uint8Array(n);
function put(vm: Vm, ipa: number, bytes: Uint8Array): void {
  if (!vm.writeGuest(ipa, bytes)) throw new Error('test setup: not guest RAM');
}
function get(vm: Vm, ipa: number, n: number): Uint8Array {
  const b = u8(n);
  if (!vm.readGuest(ipa, b)) throw new Error('test setup: not guest RAM');
  return b;
}
const le = (v: number, n: number): Uint8Array => {
  const b = u8(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(v / 2 ** (8 * i)) & 0xff;
  return b;
};
function desc(addr: number, len: number, flags: number, next: number): Uint8Array {
  const d = u8(16);
  d.set(le(addr, 8), 0);
  d.set(le(len, 4), 8);
  d.set(le(flags, 2), 12);
  d.set(le(next, 2), 14);
  return d;
}

// Ring of 8 at 0x40001000 (desc) / 0x40002000 (avail) / 0x40003000 (used); request header at
// 0x40004000, status byte at 0x40005000.
const DESC = 0x4000_1000;
const AVAIL = 0x4000_2000;
const USED = 0x4000_3000;
let avail = 0;
function bringUp(x: ReturnType<typeof rig>): void {
  const { w } = x;
  avail = 0;
  // Fresh rings, as virtio_ring.c allocates them zeroed.
  put(x.vm0, AVAIL, u8(4));
  put(x.vm0, USED, u8(4));
  w(R.MMIO_STATUS, 0);
  w(R.MMIO_STATUS, 3);
  w(R.MMIO_DRIVER_FEATURES_SEL, 1);
  w(R.MMIO_DRIVER_FEATURES, 1); // VERSION_1
  w(R.MMIO_DRIVER_FEATURES_SEL, 0);
  w(R.MMIO_DRIVER_FEATURES, 0);
  w(R.MMIO_STATUS, 11);
  w(R.MMIO_QUEUE_SEL, 0);
  w(R.MMIO_QUEUE_NUM, 8);
  w(R.MMIO_QUEUE_DESC_LOW, DESC);
  w(R.MMIO_QUEUE_DRIVER_LOW, AVAIL);
  w(R.MMIO_QUEUE_DEVICE_LOW, USED);
  w(R.MMIO_QUEUE_READY, 1);
  w(R.MMIO_STATUS, 15);
}
/** A read of `len` bytes from sector 1 into `data`; returns the status byte (or -1 if the request was not completed). */
function readRequest(x: ReturnType<typeof rig>, data: number, len: number): number {
  const { vm0, w } = x;
  const hdr = u8(16);
  hdr.set(le(1, 8), 8);
  put(vm0, 0x4000_4000, hdr);
  put(vm0, 0x4000_5000, Uint8Array.of(0xee));
  put(vm0, DESC, desc(0x4000_4000, 16, VIRTQ_DESC_F_NEXT, 1));
  put(vm0, DESC + 16, desc(data, len, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2));
  put(vm0, DESC + 32, desc(0x4000_5000, 1, VIRTQ_DESC_F_WRITE, 0));
  put(vm0, AVAIL + 4 + 2 * (avail % 8), le(0, 2));
  avail++;
  put(vm0, AVAIL + 2, le(avail, 2));
  w(R.MMIO_QUEUE_NOTIFY, 0);
  const st = get(vm0, 0x4000_5000, 1)[0]!;
  return st === 0xee ? -1 : st;
}

describe('virtio-mmio in a VM: DMA through the VM\'s RAM map', () => {
  it('VmGuestMemory: inside one RAM region only; not past its end, not across regions, not outside RAM', () => {
    const { vm0 } = rig();
    const m = new VmGuestMemory(vm0);
    expect(m.valid(0x4000_0000, 2 * MiB)).toBe(true);
    expect(m.valid(0x401f_fff0, 16)).toBe(true);
    expect(m.valid(0x401f_fff0, 17)).toBe(false); // two adjacent regions: not one buffer
    expect(m.valid(0x4800_0000, 16)).toBe(true);
    expect(m.valid(0x4400_0000, 1)).toBe(false);
    expect(m.valid(BASE, 4)).toBe(false); // the device's own window is not memory
    expect(m.valid(-16, 16) || m.valid(2 ** 60, 1) || m.valid(0.5, 1)).toBe(false);
    expect(m.read(0x4000_0000, u8(0))).toBe(true);
    expect(m.write(0x4040_0000, u8(1))).toBe(false);
  });

  it('serves a request in the VM\'s memory (Rust-Shyper\'s vendor id), raises the VM\'s line, leaves the other VM\'s same IPAs alone', () => {
    const x = rig();
    expect(x.r(R.MMIO_MAGIC_VALUE)).toBe(R.MMIO_MAGIC);
    expect(x.r(R.MMIO_VENDOR_ID)).toBe(SHYPER_VIRTIO_VENDOR);
    put(x.vm1, 0x4000_6000, u8(512).fill(0x5a));
    bringUp(x);
    expect(readRequest(x, 0x4000_6000, 512)).toBe(0);
    expect(get(x.vm0, 0x4000_6000, 512)).toEqual(x.disk.subarray(512, 1024));
    expect(get(x.vm1, 0x4000_6000, 512)).toEqual(u8(512).fill(0x5a));
    expect(x.levels).toEqual([[0, IRQ, true]]);
    x.w(R.MMIO_INTERRUPT_ACK, 1);
    expect(x.levels.at(-1)).toEqual([0, IRQ, false]);
    // A buffer in the VM's third region is as good as one in the first.
    expect(readRequest(x, 0x4800_0100, 512)).toBe(0);
    expect(get(x.vm0, 0x4800_0100, 512)).toEqual(x.disk.subarray(512, 1024));
  });

  it('a buffer past the VM\'s RAM, across two regions or in a hole: device error, one log line, no exception', () => {
    for (const [addr, why] of [[0x4060_0000, 'past RAM'], [0x401f_ff00, 'across regions'], [0x4400_0000, 'a hole']] as const) {
      const x = rig();
      bringUp(x);
      expect(() => readRequest(x, addr, 512), why).not.toThrow();
      expect(x.r(R.MMIO_STATUS) & STATUS_DEVICE_NEEDS_RESET, why).toBe(STATUS_DEVICE_NEEDS_RESET);
      expect(x.log, why).toEqual([`vm0.vda: queue 0: buffer at 0x${addr.toString(16)}+512 (descriptor 1) is outside guest memory; device needs reset`]);
      // The driver resets the device and it works again.
      bringUp(x);
      expect(readRequest(x, 0x4000_6000, 512)).toBe(0);
    }
  });

  it('a ring outside the VM\'s RAM is refused at QueueReady', () => {
    const x = rig();
    const { w, r } = x;
    w(R.MMIO_STATUS, 3);
    w(R.MMIO_DRIVER_FEATURES_SEL, 1);
    w(R.MMIO_DRIVER_FEATURES, 1);
    w(R.MMIO_STATUS, 11);
    w(R.MMIO_QUEUE_NUM, 8);
    w(R.MMIO_QUEUE_DESC_LOW, 0x4400_0000);
    w(R.MMIO_QUEUE_DRIVER_LOW, AVAIL);
    w(R.MMIO_QUEUE_DEVICE_LOW, USED);
    w(R.MMIO_QUEUE_READY, 1);
    expect(r(R.MMIO_QUEUE_READY)).toBe(0);
    expect(r(R.MMIO_STATUS) & STATUS_DEVICE_NEEDS_RESET).toBe(STATUS_DEVICE_NEEDS_RESET);
    expect(x.log).toEqual(['vm0.vda: queue 0: descriptor table at 0x44000000+128 is outside guest memory; device needs reset']);
  });

  it('the VM powering off resets its devices: the queue is gone, the line low', () => {
    const x = rig();
    bringUp(x);
    expect(readRequest(x, 0x4000_6000, 512)).toBe(0);
    x.hv.systemOff(x.vm0.vcpus[0]!);
    expect(x.r(R.MMIO_STATUS)).toBe(0);
    expect(x.r(R.MMIO_QUEUE_READY)).toBe(0);
    expect(x.levels.at(-1)).toEqual([0, IRQ, false]);
  });
});
