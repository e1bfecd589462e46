// A GVM's mediated virtio-blk (Rust-Shyper EMU_DEVICE_T_VIRTIO_BLK_MEDIATED, src/device/virtio/
// blk.rs with its mediated backend): the virtio side — queue, descriptor chains in the GVM's
// memory, status byte, used ring — of a disk whose data the MVM's daemon holds. Requests go to the
// hypervisor's mediated service (hypervisor/devices/mediated-blk.ts) as MediatedRequests; it
// decides when they are taken (at once on the trapping vCPU, or later on its I/O core) and
// completes them when the MVM has answered.
//
// Like Rust-Shyper's device it offers SIZE_MAX and SEG_MAX (and BLK_SIZE), not FLUSH: a write is
// complete once the daemon wrote it to its image (which it opens O_DSYNC). Capacity is the
// config's cfg_list [start sector, sectors]. A malformed chain or a guest buffer that is no longer
// guest memory puts the device in DEVICE_NEEDS_RESET with one log line (the transport's rule).
import { bit, readConfigSpace, VIRTIO_ID_BLOCK, type VirtioDevice, type VirtioDeviceHost, VirtioError } from '../emulator/devices/virtio/device.ts';
import {
  SECTOR, VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_SIZE_MAX, VIRTIO_BLK_ID_BYTES, VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP, VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT,
} from '../emulator/devices/virtio/blk.ts';
import type { DescriptorChain } from '../emulator/devices/virtio/virtqueue.ts';
import type { MediatedBlk, MediatedFront, MediatedRequest } from '../hypervisor/devices/mediated-blk.ts';
import type { Vm } from '../hypervisor/vm.ts';

const HEADER = 16;
/** Largest segment the driver may give (SIZE_MAX), as virtio-blk's. */
const SEGMENT = 64 * 1024;
const CFG_BYTES = 64;

interface Done {
  chain: DescriptorChain;
  status: number;
  /** Data bytes written into the chain (a read's). */
  written: number;
}

export interface VirtioBlkMediatedOptions {
  /** Rust-Shyper's mediated disk index (the MVM's disk with this idx serves it). */
  index: number;
  startSector: number;
  sectors: number;
  /** "vm1.vda@a000000". */
  name: string;
  /** The hypervisor's mediated service (the hypercall module's), once the run has one. */
  service: () => MediatedBlk | undefined;
  queueSize?: number;
}

export class VirtioBlkMediated implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_BLOCK;
  readonly name = 'virtio-blk (mediated)';
  readonly features = bit(VIRTIO_BLK_F_SIZE_MAX) | bit(VIRTIO_BLK_F_SEG_MAX) | bit(VIRTIO_BLK_F_BLK_SIZE);
  readonly queueSizes: readonly number[];
  private readonly configView = new DataView(new ArrayBuffer(CFG_BYTES));
  private readonly id = new Uint8Array(VIRTIO_BLK_ID_BYTES);
  private host!: VirtioDeviceHost;
  /** Set by the VM's region once built: the front the hypervisor sees. */
  front: MediatedFront | null = null;
  /** The vCPU whose trapped access is being handled (the region's write records it). */
  vcpu = 0;
  private mode: 'collect' | 'complete' | null = null;
  private inNotify = false;
  private done: Done[] = [];
  /** A guest buffer that vanished while the MVM had the request: reported at the next flush. */
  private broken: string | null = null;
  /** Bumped at reset: requests of an older epoch complete into nothing. */
  private epoch = 0;

  constructor(private readonly o: VirtioBlkMediatedOptions) {
    const qsize = o.queueSize ?? 256;
    this.queueSizes = [qsize];
    const c = this.configView;
    c.setBigUint64(0, BigInt(o.sectors), true);
    c.setUint32(8, SEGMENT, true);
    c.setUint32(12, qsize - 2, true);
    c.setUint32(20, SECTOR, true);
    c.setUint16(34, 1, true);
    this.id.set(new TextEncoder().encode(`mediated-${o.index}`).subarray(0, VIRTIO_BLK_ID_BYTES));
  }

  /** The hypervisor's view of this device in VM `vm`. */
  bind(vm: Vm): MediatedFront {
    this.front = { vm, index: this.o.index, startSector: this.o.startSector, name: this.o.name, collectNow: () => this.run('collect') };
    return this.front;
  }

  attach(host: VirtioDeviceHost): void {
    this.host = host;
  }

  readConfig(offset: number, size: 1 | 2 | 4): number {
    return readConfigSpace(this.configView, offset, size);
  }

  writeConfig(): void {}

  reset(): void {
    this.epoch++;
    this.done = [];
    this.broken = null;
    if (this.front !== null) this.o.service()?.cancel(this.front);
  }

  notify(i: number): void {
    if (i !== 0) return;
    this.inNotify = true;
    try {
      if (this.mode !== 'complete') {
        const svc = this.o.service();
        if (this.mode === 'collect' || svc === undefined || this.front === null) this.collect(null);
        else if (svc.guestNotify(this.front, this.vcpu) === 'now') this.collect(this.vcpu);
      }
      this.flush();
    } finally {
      this.inNotify = false;
    }
  }

  /** Run notify() through the transport (its checks: driver ready, errors to DEVICE_NEEDS_RESET). */
  private run(mode: 'collect' | 'complete'): void {
    this.mode = mode;
    try {
      this.host.kick(0);
    } finally {
      this.mode = null;
    }
  }

  /** Take every available request; data requests go to the hypervisor, the others are answered here. */
  private collect(vcpu: number | null): void {
    const q = this.host.queue(0);
    const reqs: MediatedRequest[] = [];
    for (let chain = q.pop(); chain !== null; chain = q.pop()) {
      const r = this.request(chain);
      if (r !== null) reqs.push(r);
    }
    const svc = this.o.service();
    if (svc === undefined || this.front === null) {
      for (const r of reqs) r.complete(false);
    } else if (reqs.length > 0 || vcpu !== null) {
      svc.submit(this.front, reqs, vcpu);
    }
  }

  private request(chain: DescriptorChain): MediatedRequest | null {
    if (chain.writableBytes < 1) throw new VirtioError(`request (head ${chain.head}) has no device-writable status byte`);
    const statusAt = chain.writableBytes - 1;
    const hdr = new Uint8Array(HEADER);
    const answer = (status: number, written = 0): null => {
      this.done.push({ chain, status, written });
      return null;
    };
    if (chain.read(0, hdr) < HEADER) return answer(VIRTIO_BLK_S_IOERR);
    const h = new DataView(hdr.buffer);
    const type = h.getUint32(0, true);
    const sector = h.getUint32(12, true) === 0 ? h.getUint32(8, true) : Infinity;
    if (type === VIRTIO_BLK_T_GET_ID) return answer(VIRTIO_BLK_S_OK, chain.write(0, this.id.subarray(0, Math.min(VIRTIO_BLK_ID_BYTES, statusAt))));
    if (type !== VIRTIO_BLK_T_IN && type !== VIRTIO_BLK_T_OUT) return answer(VIRTIO_BLK_S_UNSUPP);
    const write = type === VIRTIO_BLK_T_OUT;
    const bytes = write ? chain.readableBytes - HEADER : statusAt;
    // §5.2.6.1: whole sectors inside the disk; an empty request has nothing for the MVM.
    if (bytes % SECTOR !== 0 || sector + bytes / SECTOR > this.o.sectors) return answer(VIRTIO_BLK_S_IOERR);
    if (bytes === 0) return answer(VIRTIO_BLK_S_OK);
    const epoch = this.epoch;
    const front = this.front!;
    const guard = (fn: () => unknown): boolean => {
      if (epoch !== this.epoch) return false;
      try {
        fn();
        return true;
      } catch (e) {
        if (!(e instanceof VirtioError)) throw e;
        this.broken ??= e.message;
        return false;
      }
    };
    return {
      front,
      write,
      sector,
      bytes,
      readData: (off, buf) => guard(() => chain.read(HEADER + off, buf)),
      writeData: (off, data) => guard(() => chain.write(off, data)),
      complete: (ok) => {
        if (epoch !== this.epoch) return;
        this.done.push({ chain, status: ok ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR, written: ok && !write ? bytes : 0 });
        if (!this.inNotify) this.run('complete');
      },
    };
  }

  /** Finished requests to the used ring: status byte last (§5.2.6), then the interrupt. */
  private flush(): void {
    if (this.broken !== null) {
      const why = this.broken;
      this.broken = null;
      throw new VirtioError(why);
    }
    if (this.done.length === 0) return;
    const q = this.host.queue(0);
    const done = this.done;
    this.done = [];
    for (const d of done) {
      d.chain.write(d.chain.writableBytes - 1, Uint8Array.of(d.status));
      q.push(d.chain, d.written + 1);
    }
    this.host.usedBuffers(q);
  }
}
