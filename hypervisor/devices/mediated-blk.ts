// The mediated block device (Rust-Shyper src/device/mediated.rs and src/kernel/async_task.rs;
// reference/rust-shyper-behaviour.md §4 "Mediated block protocol"): a GVM's virtio-blk whose
// requests the hypervisor hands to the MVM. The MVM's daemon appends each disk image it serves
// (HVC_MEDIATED_DEV_APPEND with the IPA of the disk's 4 KiB shared page, whose config names a
// cache in the MVM's RAM); the hypervisor copies a write's data into that cache, puts {type,
// sector, count} in the page, nreq++, and sends the MVM {fid 3, event 0x32} (IVC message +
// HVC_IRQ); the daemon does the I/O between its image and the cache and answers
// HVC_MEDIATED_DEV_NOTIFY; the hypervisor copies a read's data from the cache into the GVM's
// buffers, completes the request in the GVM's used ring and interrupts it. One request is with
// the MVM at a time (FIFO over all disks, as Rust-Shyper's task list); a request larger than the
// cache goes in cache-sized pieces.
//
// Two ways of handling a GVM's notification, the seed's real-time point:
// - async (Rust-Shyper): the notification becomes a task for a dedicated physical core (the
//   lowest core no vCPU is pinned to, else core 0 as in Rust-Shyper); the vCPU returns to its
//   guest at once, and the parsing, copying and messaging are that core's cycles;
// - sync: the trapping vCPU parses and dispatches its requests itself and is kept out of its
//   guest (Vcpu.ioWait) until the MVM has served all of them.
// `stats` counts how long vCPUs were kept out of their guests per request, in each mode.
//
// The virtio side (descriptor chains in the GVM's memory) is the program's device model
// (src/virtio-blk-mediated.ts); this file sees a request only through MediatedRequest. Every
// address the MVM gives (the page, the cache) is checked against its RAM: a bad one is a failed
// hypercall, never a host exception.
import { El2Reg, type El2Cpu } from '../../emulator/arm64/el2.ts';
import { COST } from '../cost.ts';
import type { Hypercalls } from '../hvc/index.ts';
import { fail, FID, hex, MEDIATED } from '../hvc/abi.ts';
import type { Vcpu } from '../vcpu.ts';
import type { Vm } from '../vm.ts';

export const SECTOR = 512;
/** struct mediated_blk: the shared page of one disk. */
export const PAGE_SIZE = 4096;
export const PAGE = {
  NREQ: 0,
  NAME: 0x08,
  DEV_PATH: 0x28,
  BLOCK_NUM: 0x48,
  DMA_BLOCK_MAX: 0x50,
  CACHE_SIZE: 0x58,
  IDX: 0x60,
  PCACHE: 0x62,
  CACHE_VA: 0x68,
  CACHE_IPA: 0x70,
  CACHE_PA: 0x78,
  REQ_TYPE: 0x80,
  REQ_SECTOR: 0x88,
  REQ_COUNT: 0x90,
} as const;
/** Rust-Shyper's dma_block_max: 65536 sectors (32 MiB) per piece at most. */
export const DMA_BLOCK_MAX = 65536;
/** Mediated disks the MVM may append (one per GVM device index). */
export const MEDIATED_DISKS_MAX = 8;
export const REQ_READ = 0;
export const REQ_WRITE = 1;

/** A GVM's mediated virtio-blk as the hypervisor sees it (src/virtio-blk-mediated.ts). */
export interface MediatedFront {
  readonly vm: Vm;
  /** Rust-Shyper's mediated disk index: the MVM's disk appended with this idx serves it. */
  readonly index: number;
  /** cfg_list[0]: the window's first sector in the MVM's image. */
  readonly startSector: number;
  /** For log lines: "vm1.vda@a000000". */
  readonly name: string;
  /** Take the driver's new requests now (on the core that handles them); they come back through submit(). */
  collectNow(): void;
}

/** One block request of a GVM (Rust-Shyper's IoTask with its UsedInfo). */
export interface MediatedRequest {
  readonly front: MediatedFront;
  readonly write: boolean;
  /** First sector, within the device's window. */
  readonly sector: number;
  /** Data bytes, a whole number of sectors. */
  readonly bytes: number;
  /** Copy request data [off, off + buf.length) out of the guest's buffers; false: they are gone. */
  readData(off: number, buf: Uint8Array): boolean;
  /** Copy data into the guest's buffers at request offset `off`; false: they are gone. */
  writeData(off: number, data: Uint8Array): boolean;
  /** The request is finished: status byte, used ring, interrupt. */
  complete(ok: boolean): void;
}

interface Disk {
  idx: number;
  name: string;
  pageIpa: number;
  pagePa: number;
  cachePa: number;
  /** Bytes of one piece (dma_block_max sectors that fit the cache). */
  pieceBytes: number;
  blockNum: number;
}

interface Task {
  req: MediatedRequest;
  /** Bytes done, and bytes of the piece with the MVM now. */
  done: number;
  piece: number;
  /** sync: the vCPU kept out of its guest until this task is done. */
  waiter: Vcpu | null;
  /** The counter when the guest notified, and the mode the request was taken in. */
  since: bigint | null;
  mode: MediatedMode;
}

export type MediatedMode = 'async' | 'sync';

/**
 * How long GVM vCPUs were kept out of their guests for mediated requests, summed over all
 * notifications: the hypervisor's modeled cycles on the trap path (cost.ts), and (sync) the time
 * the vCPU waited for the MVM, in the counter's time — cycles at the core's clock are the
 * program's to work out (the core model is not the hypervisor's to know).
 */
export interface MediatedStats {
  requests: number;
  notifies: number;
  trapCycles: number;
  waitNs: number;
  /** Request latency: from the guest's notification to the completion, summed (counter time). */
  latencyNs: number;
}

export class MediatedBlk {
  /** How GVM notifications are handled (see the top of the file). */
  mode: MediatedMode = process.env.SHYPER_MEDIATED === 'sync' ? 'sync' : 'async';
  readonly stats: Record<MediatedMode, MediatedStats> = {
    async: { requests: 0, notifies: 0, trapCycles: 0, waitNs: 0, latencyNs: 0 },
    sync: { requests: 0, notifies: 0, trapCycles: 0, waitNs: 0, latencyNs: 0 },
  };
  private readonly disks = new Map<number, Disk>();
  private readonly queue: Task[] = [];
  private current: Task | null = null;
  /** Fronts notified, waiting for the I/O core (async). */
  private readonly notified: MediatedFront[] = [];
  /** sync: per waiting vCPU, when (its CPU's counter) and after how many trap cycles it stopped. */
  private readonly waits = new Map<Vcpu, { since: bigint; cycles: number }>();
  /** The wait of the synchronous trap being handled, while its vCPU still runs the hypervisor's code. */
  private trapWait: { since: bigint; cycles: number } | null = null;
  private readonly scratch = new Uint8Array(64 * 1024);
  /** When each front last notified (counter of the trapping CPU): the start of its requests' latency. */
  private readonly notifiedAt = new Map<MediatedFront, bigint>();

  constructor(private readonly hvc: Hypercalls) {}

  private get machine() {
    return this.hvc.hv.machine;
  }

  /** The MVM (VM 0), if it runs. */
  private mvm(): Vm | undefined {
    return this.hvc.hv.vms.find((v) => v.id === 0);
  }

  /** The core async tasks run on: the lowest with no vCPU pinned to it, else core 0 (Rust-Shyper). */
  ioCore(): number {
    const used = new Set(this.hvc.hv.vms.flatMap((v) => v.setup.pcpus));
    for (let i = 0; i < this.machine.cpus.length; i++) if (!used.has(i)) return i;
    return 0;
  }

  // ---- the MVM's hypercalls ----

  /** HVC_MEDIATED_DEV_APPEND: the disk whose shared page is at `pageIpa` (MVM RAM) is served. */
  append(mvm: Vm, pageIpaArg: bigint): bigint {
    const pageIpa = Number(pageIpaArg);
    if (pageIpaArg > BigInt(Number.MAX_SAFE_INTEGER) || pageIpa % PAGE_SIZE !== 0) fail(`the shared page ${hex(pageIpaArg)} is not a page-aligned IPA`);
    const pagePa = mvm.ipaToPa(pageIpa, PAGE_SIZE);
    if (pagePa < 0) fail(`the shared page ${hex(pageIpa)} is not in the MVM's memory`);
    const page = new Uint8Array(PAGE_SIZE);
    this.machine.readPhys(pagePa, page);
    const dv = new DataView(page.buffer);
    const idx = dv.getUint16(PAGE.IDX, true);
    const blockNum = dv.getBigUint64(PAGE.BLOCK_NUM, true);
    const dmaMax = dv.getBigUint64(PAGE.DMA_BLOCK_MAX, true);
    const cacheSize = dv.getBigUint64(PAGE.CACHE_SIZE, true);
    const cacheIpa = dv.getBigUint64(PAGE.CACHE_IPA, true);
    if (idx >= MEDIATED_DISKS_MAX) fail(`disk index ${idx}: at most ${MEDIATED_DISKS_MAX} mediated disks`);
    if (blockNum === 0n || blockNum > BigInt(Number.MAX_SAFE_INTEGER) / 512n) fail(`disk ${idx}: block_num ${blockNum} is not a disk size in sectors`);
    if (dmaMax === 0n || dmaMax > BigInt(DMA_BLOCK_MAX)) fail(`disk ${idx}: dma_block_max ${dmaMax} is not 1..${DMA_BLOCK_MAX}`);
    if (cacheSize < SECTOR || cacheSize > BigInt(DMA_BLOCK_MAX * SECTOR)) fail(`disk ${idx}: cache_size ${cacheSize} is not ${SECTOR}..${DMA_BLOCK_MAX * SECTOR} bytes`);
    const pieceBytes = Math.min(Number(dmaMax) * SECTOR, Math.floor(Number(cacheSize) / SECTOR) * SECTOR);
    const cachePa = cacheIpa > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : mvm.ipaToPa(Number(cacheIpa), pieceBytes);
    if (cachePa < 0) fail(`disk ${idx}: the cache ${hex(cacheIpa)}+${hex(pieceBytes)} is not in the MVM's memory`);
    const name = cString(page.subarray(PAGE.NAME, PAGE.NAME + 32));
    // The daemon restarted: what the old one had in hand is lost.
    if (this.disks.has(idx) && this.current !== null && this.current.req.front.index === idx) this.finish(this.current, false);
    dv.setBigUint64(PAGE.NREQ, 0n, true);
    dv.setBigUint64(PAGE.CACHE_PA, BigInt(cachePa), true);
    this.machine.writePhys(pagePa, page.subarray(0, PAGE.NAME));
    this.machine.writePhys(pagePa + PAGE.CACHE_PA, page.subarray(PAGE.CACHE_PA, PAGE.CACHE_PA + 8));
    this.disks.set(idx, { idx, name, pageIpa, pagePa, cachePa, pieceBytes, blockNum: Number(blockNum) });
    this.hvc.log(`shyper: mediated disk ${idx} "${name}" (${blockNum} sectors) served by the MVM, ${pieceBytes / 1024} KiB per request`);
    if (this.current === null) this.startNext(this.cpuHere());
    return 0n;
  }

  /** HVC_MEDIATED_DEV_NOTIFY: the daemon finished the request of the disk whose page is at x0 (x1 != 0: it failed). */
  devNotify(cpu: El2Cpu, pageIpa: bigint, status: bigint): bigint {
    const disk = [...this.disks.values()].find((d) => BigInt(d.pageIpa) === pageIpa);
    if (disk === undefined) fail(`no mediated disk has its shared page at ${hex(pageIpa)}`);
    const t = this.current;
    if (t === null || t.req.front.index !== disk.idx) fail(`mediated disk ${disk.idx} has no request with the MVM`);
    if (status !== 0n) this.finish(t, false);
    else if (t.req.write || this.copy(cpu, t, disk, 'from-cache')) {
      t.done += t.piece;
      if (t.done < t.req.bytes) this.dispatch(cpu, t, disk);
      else this.finish(t, true);
    }
    if (this.current === null) this.startNext(cpu);
    return 0n;
  }

  // ---- the GVM side ----

  /**
   * A GVM's driver notified its queue (a trapped QUEUE_NOTIFY on its vCPU): 'now' when the front
   * takes its requests at once (sync), 'later' when the I/O core will ask it (async).
   */
  guestNotify(front: MediatedFront, vcpuId: number): 'now' | 'later' {
    const cpu = this.cpuHere();
    const v = front.vm.vcpus[vcpuId];
    const trap = COST.trapVector + COST.syncDispatch + COST.mmioEmulate;
    this.stats[this.mode].notifies++;
    if (cpu !== null) this.notifiedAt.set(front, counter(cpu));
    if (this.mode === 'sync' || cpu === null || v === undefined) {
      if (v !== undefined && cpu !== null && this.mode === 'sync') {
        // What this trap's vCPU does for its requests counts until it waits (submit()).
        this.trapWait = { since: 0n, cycles: trap };
        this.waits.set(v, this.trapWait);
      }
      return 'now';
    }
    cpu.chargeCycles(COST.taskSubmit);
    this.stats.async.trapCycles += trap + COST.taskSubmit;
    if (!this.notified.includes(front)) this.notified.push(front);
    this.hvc.hv.runOn(this.ioCore(), (core) => this.drain(core));
    return 'later';
  }

  /** The front's new requests (taken by collectNow() or at once on 'now'), from vCPU `vcpuId` if it waits for them. */
  submit(front: MediatedFront, reqs: MediatedRequest[], vcpuId: number | null): void {
    const cpu = this.cpuHere();
    this.charge(cpu, COST.blkRequest * Math.max(1, reqs.length));
    const v = vcpuId === null ? undefined : front.vm.vcpus[vcpuId];
    const wait = v === undefined ? undefined : this.waits.get(v);
    this.stats[this.mode].requests += reqs.length;
    for (const req of reqs) {
      const since = this.notifiedAt.get(front) ?? (cpu !== null ? counter(cpu) : null);
      const t: Task = { req, done: 0, piece: 0, waiter: wait !== undefined ? v! : null, since, mode: this.mode };
      if (t.waiter !== null) t.waiter.ioWait++;
      this.queue.push(t);
    }
    if (this.current === null) this.startNext(cpu);
    this.trapWait = null;
    if (wait !== undefined && cpu !== null) wait.since = counter(cpu);
    if (v !== undefined && wait !== undefined && v.ioWait === 0) this.endWait(v); // served at once (no MVM disk: errors)
  }

  /** Cycles of hypervisor work on `cpu`; in a synchronous trap they keep its vCPU out of the guest too. */
  private charge(cpu: El2Cpu | null, n: number): void {
    cpu?.chargeCycles(n);
    if (this.trapWait !== null) this.trapWait.cycles += n;
  }

  /** The front was reset (driver reset, the GVM stopped or rebooted): its requests are dropped. */
  cancel(front: MediatedFront): void {
    const mine = (t: Task): boolean => t.req.front === front;
    for (const t of this.queue.filter(mine)) this.drop(t);
    this.queue.splice(0, this.queue.length, ...this.queue.filter((t) => !mine(t)));
    const i = this.notified.indexOf(front);
    if (i >= 0) this.notified.splice(i, 1);
    // The one with the MVM stays current until the daemon answers (its cache is in use); its completion goes nowhere.
    if (this.current !== null && mine(this.current)) this.current.req = orphan(this.current.req);
    for (const v of front.vm.vcpus) {
      v.ioWait = 0;
      this.waits.delete(v);
    }
  }

  /** A VM stopped: the MVM's disks go with it (the GVMs' requests fail); a GVM's requests are dropped by its fronts' reset. */
  vmStopped(vm: Vm): void {
    if (vm.id !== 0) return;
    this.disks.clear();
    if (this.current !== null) this.finish(this.current, false);
    while (this.queue.length > 0) this.finish(this.queue.shift()!, false);
  }

  // ---- tasks ----

  /** The I/O core's turn: take the notified fronts' requests (Rust-Shyper's async executor). */
  private drain(core: El2Cpu): void {
    while (this.notified.length > 0) this.notified.shift()!.collectNow();
    if (this.current === null) this.startNext(core);
  }

  /** Hand the next queued request to the MVM (requests no disk serves fail at once). */
  private startNext(cpu: El2Cpu | null): void {
    while (this.current === null && this.queue.length > 0) {
      const t = this.queue.shift()!;
      const disk = this.disks.get(t.req.front.index);
      const mvm = this.mvm();
      const first = t.req.front.startSector + t.req.sector;
      let why: string | null = null;
      if (disk === undefined || mvm === undefined || !this.hvc.ivc.hasQueue(mvm)) why = `no MVM daemon serves mediated disk ${t.req.front.index}`;
      else if (first + t.req.bytes / SECTOR > disk.blockNum) why = `sectors ${first}+${t.req.bytes / SECTOR} are past the end of the MVM's disk ${disk.idx} (${disk.blockNum} sectors)`;
      if (why !== null) {
        this.hvc.hv.logOnce(`mediated:${t.req.front.name}:${why}`, `shyper: ${t.req.front.name}: ${why}: I/O error`, t.req.front.vm.id);
        this.finish(t, false);
        continue;
      }
      this.current = t;
      this.dispatch(cpu, t, disk!);
    }
  }

  /** The next piece of the current request to the MVM: data into the cache, req into the page, the message. */
  private dispatch(cpu: El2Cpu | null, t: Task, disk: Disk): void {
    t.piece = Math.min(disk.pieceBytes, t.req.bytes - t.done);
    if (t.req.write && !this.copy(cpu, t, disk, 'to-cache')) return;
    const m = this.machine;
    const req = new DataView(new ArrayBuffer(0x18));
    req.setUint32(0, t.req.write ? REQ_WRITE : REQ_READ, true);
    req.setBigUint64(8, BigInt(t.req.front.startSector + t.req.sector + t.done / SECTOR), true);
    req.setBigUint64(0x10, BigInt(t.piece / SECTOR), true);
    m.writePhys(disk.pagePa + PAGE.REQ_TYPE, new Uint8Array(req.buffer));
    m.write64(disk.pagePa + PAGE.NREQ, m.read64(disk.pagePa + PAGE.NREQ) + 1n);
    this.charge(cpu, COST.mediatedDispatch + COST.virqInject);
    if (!this.hvc.ivc.send(this.mvm()!, FID.MEDIATED, MEDIATED.DRV_NOTIFY, t.req.front.vm.id)) this.finish(t, false);
  }

  /** Copy the current piece between the guest's buffers and the cache; false (the task failed) when the guest's are gone. */
  private copy(cpu: El2Cpu | null, t: Task, disk: Disk, dir: 'to-cache' | 'from-cache'): boolean {
    const m = this.machine;
    for (let off = 0; off < t.piece; off += this.scratch.length) {
      const buf = this.scratch.subarray(0, Math.min(this.scratch.length, t.piece - off));
      if (dir === 'to-cache') {
        if (!t.req.readData(t.done + off, buf)) return this.fail(t);
        m.writePhys(disk.cachePa + off, buf);
      } else {
        m.readPhys(disk.cachePa + off, buf);
        if (!t.req.writeData(t.done + off, buf)) return this.fail(t);
      }
    }
    this.charge(cpu, Math.ceil((t.piece / 1024) * COST.copyPerKiB));
    return true;
  }

  private fail(t: Task): false {
    this.finish(t, false);
    return false;
  }

  /** The task is over: the front completes it, a vCPU waiting for it goes back to its guest. */
  private finish(t: Task, ok: boolean): void {
    if (this.current === t) this.current = null;
    const cpu = this.cpuHere();
    this.charge(cpu, COST.usedUpdate + COST.virqInject);
    if (cpu !== null && t.since !== null) this.stats[t.mode].latencyNs += Math.max(0, (Number(counter(cpu) - t.since) * 1e9) / this.machine.board.timer.freqHz);
    t.req.complete(ok);
    this.drop(t);
  }

  private drop(t: Task): void {
    const v = t.waiter;
    t.waiter = null;
    if (v === null || v.ioWait === 0) return;
    if (--v.ioWait === 0) this.endWait(v);
  }

  /** A sync waiter's requests are all done: count its time out of the guest, let it run. */
  private endWait(v: Vcpu): void {
    const w = this.waits.get(v);
    this.waits.delete(v);
    const cpu = this.cpuHere();
    if (w !== undefined && cpu !== null) {
      const ticks = Number(counter(cpu) - w.since);
      this.stats.sync.trapCycles += w.cycles + COST.worldSwitch;
      this.stats.sync.waitNs += Math.max(0, (ticks * 1e9) / this.machine.board.timer.freqHz);
    }
    this.hvc.hv.kick(v);
  }

  private cpuHere(): El2Cpu | null {
    return this.hvc.hv.executingCpu;
  }
}

/** A request whose front is gone: the MVM's answer is taken, nothing reaches the old guest. */
function orphan(r: MediatedRequest): MediatedRequest {
  return { ...r, readData: () => false, writeData: () => true, complete: () => {} };
}

function counter(cpu: El2Cpu): bigint {
  return cpu.mrs(El2Reg.CNTPCT_EL0);
}

function cString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end)).replace(/[^\x20-\x7e]/g, '?');
}
