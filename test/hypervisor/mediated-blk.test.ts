// The mediated disk's protocol without Linux: a GVM's mediated virtio-blk (src/virtio-blk-mediated.ts,
// driven as virtio_blk.c would by the device tests' driver) and the hypervisor's service
// (hypervisor/devices/mediated-blk.ts) with a stand-in MVM whose "daemon" is this test: it reads
// the request out of the shared page, moves data between its image and the cache, and answers
// HVC_MEDIATED_DEV_NOTIFY. Checks the page layout of reference §4, the async and sync paths, the
// pieces of a request larger than the cache, and every refusal (bad pages, caches, chains).
import { beforeEach, describe, expect, it } from 'vitest';
import { VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_OK, VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT } from '../../emulator/devices/virtio/blk.ts';
import { STATUS_DEVICE_NEEDS_RESET } from '../../emulator/devices/virtio/device.ts';
import * as R from '../../emulator/devices/virtio/mmio.ts';
import { MediatedBlk, PAGE, REQ_READ, REQ_WRITE } from '../../hypervisor/devices/mediated-blk.ts';
import { FID, HvcError, MEDIATED } from '../../hypervisor/hvc/abi.ts';
import type { Hypercalls } from '../../hypervisor/hvc/index.ts';
import type { Vm } from '../../hypervisor/vm.ts';
import { VirtioBlkMediated } from '../../src/virtio-blk-mediated.ts';
import { type Buf, type DriverQueue, Rig } from '../devices/virtio/driver.ts';

const MVM_BASE = 0x5000_0000;
const MVM_SIZE = 4 << 20;
const PAGE_IPA = MVM_BASE + 0x1000;
const CACHE_IPA = MVM_BASE + 0x10_0000;
const SECTORS = 2048; // the GVM's window: 1 MiB
const START = 100; // ... at sector 100 of the MVM's image

class World {
  readonly ram = new Uint8Array(MVM_SIZE);
  readonly log: string[] = [];
  private readonly logged = new Set<string>();
  readonly sent: number[][] = [];
  readonly kicked: unknown[] = [];
  /** Work for the I/O core (Shyper.runOn): it runs at that core's next EL2 entry, after the trap. */
  readonly work: (() => void)[] = [];
  charged = 0;
  count = 1000n;
  readonly cpu = { index: 0, chargeCycles: (n: number) => void (this.charged += n), mrs: () => (this.count += 10n) };
  readonly mvm = { id: 0, setup: { pcpus: [0] }, ipaToPa: (ipa: number, len = 1) => (ipa >= MVM_BASE && ipa + len <= MVM_BASE + MVM_SIZE ? ipa : -1) } as unknown as Vm;
  readonly vcpu = { ioWait: 0 };
  readonly gvm = { id: 1, setup: { pcpus: [1] }, vcpus: [this.vcpu] } as unknown as Vm;
  hasQueue = true;
  readonly svc: MediatedBlk;
  /** The MVM's image (sectors of 512 bytes), as the daemon holds it. */
  readonly image = new Uint8Array(8192 * 512);

  constructor() {
    const machine = {
      board: { timer: { freqHz: 62_500_000 } },
      cpus: [this.cpu, {}, {}, {}],
      readPhys: (pa: number, out: Uint8Array) => out.set(this.ram.subarray(pa - MVM_BASE, pa - MVM_BASE + out.length)),
      writePhys: (pa: number, data: Uint8Array) => this.ram.set(data, pa - MVM_BASE),
      zeroPhys: (pa: number, size: number) => this.ram.fill(0, pa - MVM_BASE, pa - MVM_BASE + size),
      read64: (pa: number) => new DataView(this.ram.buffer).getBigUint64(pa - MVM_BASE, true),
      write64: (pa: number, v: bigint) => new DataView(this.ram.buffer).setBigUint64(pa - MVM_BASE, v, true),
    };
    const hvc = {
      hv: {
        machine,
        vms: [this.mvm, this.gvm],
        runOn: (_p: number, fn: (c: unknown) => void) => void this.work.push(() => fn(this.cpu)),
        kick: (v: unknown) => void this.kicked.push(v),
        logOnce: (k: string, line: string) => {
          if (!this.logged.has(k)) this.log.push(line);
          this.logged.add(k);
        },
        executingCpu: this.cpu,
      },
      ivc: { hasQueue: () => this.hasQueue, send: (_vm: Vm, fid: number, event: number, id: number) => (this.sent.push([fid, event, id]), true) },
      log: (line: string) => void this.log.push(line),
    };
    this.svc = new MediatedBlk(hvc as unknown as Hypercalls);
    for (let i = 0; i < this.image.length; i++) this.image[i] = (i * 13 + (i >> 9)) & 0xff;
  }

  /** The I/O core's turn. */
  runWork(): void {
    while (this.work.length > 0) this.work.shift()!();
  }

  page(): DataView {
    return new DataView(this.ram.buffer, PAGE_IPA - MVM_BASE, 4096);
  }

  /** What the module writes before DEV_APPEND. */
  writeConfig(o: { idx?: number; cacheIpa?: number; dmaMax?: number; cacheSize?: number; blocks?: number } = {}): void {
    const p = this.page();
    p.setBigUint64(PAGE.NREQ, 7n, true);
    new TextEncoder().encodeInto('vda', new Uint8Array(this.ram.buffer, PAGE_IPA - MVM_BASE + PAGE.NAME, 32));
    p.setBigUint64(PAGE.BLOCK_NUM, BigInt(o.blocks ?? 8192), true);
    p.setBigUint64(PAGE.DMA_BLOCK_MAX, BigInt(o.dmaMax ?? 256), true);
    p.setBigUint64(PAGE.CACHE_SIZE, BigInt(o.cacheSize ?? 128 * 1024), true);
    p.setUint16(PAGE.IDX, o.idx ?? 0, true);
    p.setBigUint64(PAGE.CACHE_IPA, BigInt(o.cacheIpa ?? CACHE_IPA), true);
  }

  append(pageIpa = PAGE_IPA): bigint {
    return this.svc.append(this.mvm, BigInt(pageIpa));
  }

  /** The daemon serves the request in the page (the module took it on {3, 0x32}); returns what it saw. */
  serve(fail = false): { type: number; sector: number; count: number } {
    const p = this.page();
    expect(p.getBigUint64(PAGE.NREQ, true)).toBe(1n);
    p.setBigUint64(PAGE.NREQ, 0n, true);
    const r = { type: p.getUint32(PAGE.REQ_TYPE, true), sector: Number(p.getBigUint64(PAGE.REQ_SECTOR, true)), count: Number(p.getBigUint64(PAGE.REQ_COUNT, true)) };
    const cache = this.ram.subarray(CACHE_IPA - MVM_BASE, CACHE_IPA - MVM_BASE + r.count * 512);
    if (r.type === REQ_READ) cache.set(this.image.subarray(r.sector * 512, (r.sector + r.count) * 512));
    else this.image.set(cache, r.sector * 512);
    this.svc.devNotify(this.cpu as never, BigInt(PAGE_IPA), fail ? 1n : 0n);
    return r;
  }
}

function header(type: number, sector: number): Uint8Array {
  const h = new DataView(new ArrayBuffer(16));
  h.setUint32(0, type, true);
  h.setUint32(8, sector, true);
  return new Uint8Array(h.buffer);
}

/** virtblk_add_req(): returns the status and data addresses; does not wait for the used ring. */
let world: World;

function submit(rig: Rig, q: DriverQueue, type: number, sector: number, d: { out?: Uint8Array; inLen?: number }): { st: number; data: number } {
  const bufs: Buf[] = [{ addr: rig.put(header(type, sector)), len: 16 }];
  if (d.out) bufs.push({ addr: rig.put(d.out), len: d.out.length });
  const data = d.inLen ? rig.alloc(d.inLen) : 0;
  if (d.inLen) bufs.push({ addr: data, len: d.inLen, write: true });
  const st = rig.alloc(1);
  rig.mem.write(st, Uint8Array.of(0xff));
  bufs.push({ addr: st, len: 1, write: true });
  q.addIndirect(bufs);
  q.kick();
  world.runWork();
  return { st, data };
}

describe('mediated disk: the hypervisor side with a stand-in MVM', () => {
  let w: World;
  let dev: VirtioBlkMediated;
  let rig: Rig;
  let q: DriverQueue;

  beforeEach(() => {
    w = world = new World();
    dev = new VirtioBlkMediated({ index: 0, startSector: START, sectors: SECTORS, name: 'vm1.vda@a000000', service: () => w.svc });
    dev.bind(w.gvm);
    rig = new Rig(dev);
    [q] = rig.start();
  });

  it('DEV_APPEND lists the disk: nreq = 0, cache_pa set; bad pages and caches are refused', () => {
    w.writeConfig();
    expect(w.append()).toBe(0n);
    expect(w.page().getBigUint64(PAGE.NREQ, true)).toBe(0n);
    expect(w.page().getBigUint64(PAGE.CACHE_PA, true)).toBe(BigInt(CACHE_IPA)); // the stand-in's PAs are its IPAs
    expect(w.log).toEqual(['shyper: mediated disk 0 "vda" (8192 sectors) served by the MVM, 128 KiB per request']);
    expect(() => w.append(PAGE_IPA + 8)).toThrow(/not a page-aligned IPA/);
    expect(() => w.append(MVM_BASE + MVM_SIZE)).toThrow(/not in the MVM's memory/);
    expect(() => w.append(-1 >>> 0)).toThrow(HvcError);
    for (const [bad, why] of [
      [{ idx: 8 }, /at most 8 mediated disks/],
      [{ cacheIpa: MVM_BASE + MVM_SIZE - 4096 }, /the cache .* is not in the MVM's memory/],
      [{ cacheIpa: 0x1000 }, /not in the MVM's memory/],
      [{ dmaMax: 0 }, /dma_block_max 0/],
      [{ dmaMax: 65537 }, /dma_block_max 65537/],
      [{ cacheSize: 100 }, /cache_size 100/],
      [{ blocks: 0 }, /block_num 0/],
    ] as const) {
      w.writeConfig(bad);
      expect(() => w.append()).toThrow(why);
    }
    expect(() => w.svc.devNotify(w.cpu as never, BigInt(PAGE_IPA), 0n)).toThrow(/has no request with the MVM/);
    expect(() => w.svc.devNotify(w.cpu as never, 0x1234n, 0n)).toThrow(/no mediated disk has its shared page at 0x1234/);
  });

  it('without a daemon a request fails with IOERR and one log line; GET_ID is answered by the device', () => {
    const a = submit(rig, q, VIRTIO_BLK_T_IN, 0, { inLen: 512 });
    const b = submit(rig, q, VIRTIO_BLK_T_IN, 1, { inLen: 512 });
    expect(q.takeUsed().length).toBe(2);
    expect(rig.bytes(a.st, 1)[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect(rig.bytes(b.st, 1)[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect(w.log).toEqual(['shyper: vm1.vda@a000000: no MVM daemon serves mediated disk 0: I/O error']);
    const id = submit(rig, q, VIRTIO_BLK_T_GET_ID, 0, { inLen: 20 });
    expect(q.takeUsed().length).toBe(1);
    expect(rig.bytes(id.st, 1)[0]).toBe(VIRTIO_BLK_S_OK);
    expect(new TextDecoder().decode(rig.bytes(id.data, 10))).toBe('mediated-0');
    expect(w.sent).toEqual([]);
  });

  it('async: a write goes through the cache to the image, a read comes back; the window starts at cfg[0]', () => {
    w.writeConfig();
    w.append();
    const data = new Uint8Array(4096).map((_, i) => (i * 31) & 0xff);
    const wr = submit(rig, q, VIRTIO_BLK_T_OUT, 8, { out: data });
    // The vCPU was not kept: the I/O core did the work, the MVM got {3, 0x32, vm 1}.
    expect(w.vcpu.ioWait).toBe(0);
    expect(w.sent).toEqual([[FID.MEDIATED, MEDIATED.DRV_NOTIFY, 1]]);
    expect(q.takeUsed()).toEqual([]); // not done before the MVM answers
    expect(w.serve()).toEqual({ type: REQ_WRITE, sector: START + 8, count: 8 });
    expect(q.takeUsed().length).toBe(1);
    expect(rig.bytes(wr.st, 1)[0]).toBe(VIRTIO_BLK_S_OK);
    expect(w.image.subarray((START + 8) * 512, (START + 8) * 512 + 4096)).toEqual(data);
    expect(rig.irq.level).toBe(true);

    const rd = submit(rig, q, VIRTIO_BLK_T_IN, 0, { inLen: 1024 });
    expect(w.serve()).toEqual({ type: REQ_READ, sector: START, count: 2 });
    const used = q.takeUsed();
    expect(used.map((u) => u.len)).toEqual([1025]);
    expect(rig.bytes(rd.st, 1)[0]).toBe(VIRTIO_BLK_S_OK);
    expect(rig.bytes(rd.data, 1024)).toEqual(w.image.subarray(START * 512, START * 512 + 1024));
    const s = w.svc.stats.async;
    // (The driver's DRIVER_OK counts as a notification too: buffers made available before it are served then.)
    expect([s.requests, s.notifies, s.waitNs]).toEqual([2, 3, 0]);
    expect(s.trapCycles).toBeGreaterThan(0);
    expect(s.latencyNs).toBeGreaterThan(0); // the stand-in's counter moves at every read
  });

  it('a request larger than the cache goes in pieces; queued requests wait their turn (FIFO)', () => {
    w.writeConfig({ dmaMax: 64 }); // 32 KiB pieces
    w.append();
    const rd = submit(rig, q, VIRTIO_BLK_T_IN, 16, { inLen: 80 * 1024 });
    const wr = submit(rig, q, VIRTIO_BLK_T_OUT, 0, { out: new Uint8Array(512).fill(0xab) });
    expect(w.serve()).toEqual({ type: REQ_READ, sector: START + 16, count: 64 });
    expect(w.serve()).toEqual({ type: REQ_READ, sector: START + 80, count: 64 });
    expect(q.takeUsed()).toEqual([]);
    expect(w.serve()).toEqual({ type: REQ_READ, sector: START + 144, count: 32 });
    expect(q.takeUsed().length).toBe(1);
    expect(rig.bytes(rd.data, 80 * 1024)).toEqual(w.image.subarray((START + 16) * 512, (START + 16) * 512 + 80 * 1024));
    expect(w.serve()).toEqual({ type: REQ_WRITE, sector: START, count: 1 });
    expect(q.takeUsed().length).toBe(1);
    expect(rig.bytes(wr.st, 1)[0]).toBe(VIRTIO_BLK_S_OK);
    expect(w.sent.length).toBe(4);
  });

  it('sync: the notifying vCPU waits until the MVM has served its requests, then is kicked', () => {
    w.writeConfig();
    w.append();
    w.svc.mode = 'sync';
    dev.vcpu = 0;
    submit(rig, q, VIRTIO_BLK_T_IN, 0, { inLen: 512 });
    expect(w.vcpu.ioWait).toBe(1);
    expect(w.kicked).toEqual([]);
    w.serve();
    expect(w.vcpu.ioWait).toBe(0);
    expect(w.kicked).toEqual([w.vcpu]);
    const s = w.svc.stats.sync;
    expect([s.requests, s.notifies]).toEqual([1, 1]);
    expect(s.waitNs).toBeGreaterThan(0);
    expect(s.trapCycles).toBeGreaterThan(w.svc.stats.async.trapCycles);
  });

  it("the daemon's failure, a request past the MVM's image and a bad request are I/O errors", () => {
    w.writeConfig({ blocks: START + 10 });
    w.append();
    const a = submit(rig, q, VIRTIO_BLK_T_IN, 0, { inLen: 512 });
    w.serve(true);
    const b = submit(rig, q, VIRTIO_BLK_T_IN, 9, { inLen: 1024 }); // sectors 109-110: past 110
    const c = submit(rig, q, VIRTIO_BLK_T_IN, SECTORS, { inLen: 512 }); // past the window
    const d = submit(rig, q, VIRTIO_BLK_T_OUT, 0, { out: new Uint8Array(100) }); // not whole sectors
    expect(q.takeUsed().length).toBe(4);
    for (const r of [a, b, c, d]) expect(rig.bytes(r.st, 1)[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect(w.log.slice(1)).toEqual(["shyper: vm1.vda@a000000: sectors 109+2 are past the end of the MVM's disk 0 (110 sectors): I/O error"]);
  });

  it('a chain without a status byte puts the device in DEVICE_NEEDS_RESET with one line; a reset drops what the MVM has', () => {
    w.writeConfig();
    w.append();
    submit(rig, q, VIRTIO_BLK_T_IN, 0, { inLen: 512 });
    // The GVM resets its device while the MVM holds the request: the answer goes nowhere.
    rig.w(R.MMIO_STATUS, 0);
    w.serve();
    expect(q.takeUsed()).toEqual([]);
    [q] = rig.start();
    q.add([{ addr: rig.put(header(VIRTIO_BLK_T_IN, 0)), len: 16 }]);
    q.kick();
    expect(rig.r(R.MMIO_STATUS) & STATUS_DEVICE_NEEDS_RESET).toBe(0); // the I/O core has not looked yet
    w.runWork();
    expect(rig.r(R.MMIO_STATUS) & STATUS_DEVICE_NEEDS_RESET).toBe(STATUS_DEVICE_NEEDS_RESET);
    expect(rig.log).toEqual(['virtio-blk (mediated): request (head 0) has no device-writable status byte; device needs reset']);
    expect(w.sent.length).toBe(1);
  });
});
