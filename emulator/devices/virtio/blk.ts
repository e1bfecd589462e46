// virtio-blk (virtio v1.2 §5.2), one request queue, served synchronously from a BlockBackend as
// the driver notifies. A request is a header {type, reserved, sector} the device reads, the data,
// and one status byte the device writes last (§5.2.6). Linux's virtio_blk.c sends IN, OUT,
// FLUSH and GET_ID with this feature set.
import { bit, readConfigSpace, VIRTIO_ID_BLOCK, type VirtioDevice, type VirtioDeviceHost, VirtioError } from './device.ts';
import type { BlockBackend } from './block-backend.ts';
import type { DescriptorChain } from './virtqueue.ts';

// Feature bits (§5.2.3).
export const VIRTIO_BLK_F_SIZE_MAX = 1;
export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_RO = 5;
export const VIRTIO_BLK_F_BLK_SIZE = 6;
export const VIRTIO_BLK_F_FLUSH = 9;

// Request types and status values (§5.2.6).
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;
export const VIRTIO_BLK_ID_BYTES = 20;

export const SECTOR = 512;
const HEADER = 16;
/** Host bytes moved per step; also what SIZE_MAX tells the driver about one segment. */
const CHUNK = 64 * 1024;

// struct virtio_blk_config offsets (§5.2.4).
const CFG_CAPACITY = 0;
const CFG_SIZE_MAX = 8;
const CFG_SEG_MAX = 12;
const CFG_BLK_SIZE = 20;
const CFG_NUM_QUEUES = 34;
const CFG_BYTES = 64;

export interface VirtioBlkOptions {
  backend: BlockBackend;
  /** GET_ID answer, up to 20 bytes (default "shyper-disk"). */
  serial?: string;
  /** Queue size (default 256, as Rust-Shyper). */
  queueSize?: number;
}

export class VirtioBlk implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_BLOCK;
  readonly name = 'virtio-blk';
  readonly features: bigint;
  readonly queueSizes: readonly number[];
  readonly backend: BlockBackend;
  private readonly configView = new DataView(new ArrayBuffer(CFG_BYTES));
  private readonly id: Uint8Array;
  private readonly chunk = new Uint8Array(CHUNK);
  private host!: VirtioDeviceHost;

  constructor(o: VirtioBlkOptions) {
    this.backend = o.backend;
    const qsize = o.queueSize ?? 256;
    this.queueSizes = [qsize];
    this.features = bit(VIRTIO_BLK_F_SIZE_MAX) | bit(VIRTIO_BLK_F_SEG_MAX) | bit(VIRTIO_BLK_F_BLK_SIZE) | bit(VIRTIO_BLK_F_FLUSH)
      | (o.backend.readOnly ? bit(VIRTIO_BLK_F_RO) : 0n);
    const c = this.configView;
    c.setBigUint64(CFG_CAPACITY, BigInt(Math.floor(o.backend.size / SECTOR)), true);
    c.setUint32(CFG_SIZE_MAX, CHUNK, true);
    // A request is the header, the data segments and the status byte in one chain (§5.2.4).
    c.setUint32(CFG_SEG_MAX, qsize - 2, true);
    c.setUint32(CFG_BLK_SIZE, SECTOR, true);
    c.setUint16(CFG_NUM_QUEUES, 1, true);
    this.id = new Uint8Array(VIRTIO_BLK_ID_BYTES);
    this.id.set(new TextEncoder().encode(o.serial ?? 'shyper-disk').subarray(0, VIRTIO_BLK_ID_BYTES));
  }

  /** Capacity in 512-byte sectors. */
  get capacity(): number {
    return Math.floor(this.backend.size / SECTOR);
  }

  attach(host: VirtioDeviceHost): void {
    this.host = host;
  }

  readConfig(offset: number, size: 1 | 2 | 4): number {
    return readConfigSpace(this.configView, offset, size);
  }

  writeConfig(): void {
    // Nothing writable without VIRTIO_BLK_F_CONFIG_WCE.
  }

  reset(): void {}

  notify(i: number): void {
    if (i !== 0) return;
    const q = this.host.queue(0);
    if (q.serveAll((chain) => this.serve(chain))) this.host.usedBuffers(q);
  }

  /** Performs one request; returns the bytes written into the driver's buffers (data + status). */
  private serve(chain: DescriptorChain): number {
    if (chain.writableBytes < 1) throw new VirtioError(`request (head ${chain.head}) has no device-writable status byte`);
    const statusAt = chain.writableBytes - 1;
    let status = VIRTIO_BLK_S_OK;
    let written = 0;
    const hdr = new Uint8Array(HEADER);
    if (chain.read(0, hdr) < HEADER) {
      status = VIRTIO_BLK_S_IOERR;
    } else {
      const h = new DataView(hdr.buffer);
      const type = h.getUint32(0, true);
      // Sectors past 2^32 are past any image this host can hold: answer IOERR below.
      const sector = h.getUint32(12, true) === 0 ? h.getUint32(8, true) : Infinity;
      try {
        switch (type) {
          case VIRTIO_BLK_T_IN: {
            const len = statusAt;
            if (!this.inRange(sector, len)) status = VIRTIO_BLK_S_IOERR;
            else {
              for (let off = 0; off < len; off += CHUNK) {
                const piece = this.chunk.subarray(0, Math.min(CHUNK, len - off));
                this.backend.read(sector * SECTOR + off, piece);
                chain.write(off, piece);
              }
              written = len;
            }
            break;
          }
          case VIRTIO_BLK_T_OUT: {
            const len = chain.readableBytes - HEADER;
            // §5.2.6.2: a read-only device fails writes without writing anything.
            if (this.backend.readOnly || !this.inRange(sector, len)) status = VIRTIO_BLK_S_IOERR;
            else {
              for (let off = 0; off < len; off += CHUNK) {
                const piece = this.chunk.subarray(0, Math.min(CHUNK, len - off));
                chain.read(HEADER + off, piece);
                this.backend.write(sector * SECTOR + off, piece);
              }
            }
            break;
          }
          case VIRTIO_BLK_T_FLUSH:
            this.backend.flush();
            break;
          case VIRTIO_BLK_T_GET_ID:
            written = chain.write(0, this.id.subarray(0, Math.min(VIRTIO_BLK_ID_BYTES, statusAt)));
            break;
          default:
            status = VIRTIO_BLK_S_UNSUPP;
        }
      } catch (e) {
        if (e instanceof VirtioError) throw e;
        // A host I/O error (disk full, EIO): the guest sees IOERR, the user one line.
        this.host.log(`host I/O error: ${(e as Error).message}`);
        status = VIRTIO_BLK_S_IOERR;
        written = 0;
      }
    }
    chain.write(statusAt, Uint8Array.of(status));
    return written + 1;
  }

  // §5.2.6.1: data a whole number of sectors, all of it inside the disk.
  private inRange(sector: number, len: number): boolean {
    return len % SECTOR === 0 && sector + len / SECTOR <= this.capacity;
  }
}
