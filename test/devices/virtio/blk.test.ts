// virtio-blk (virtio v1.2 §5.2) requests as virtio_blk.c builds them: header, data, status byte.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  SECTOR, VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_RO, VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_SIZE_MAX,
  VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_OK, VIRTIO_BLK_S_UNSUPP, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT, VirtioBlk,
} from '../../../emulator/devices/virtio/blk.ts';
import { type BlockBackend, DiskImageError, FileBackend, MemoryBackend, openDiskImage, WindowBackend } from '../../../emulator/devices/virtio/block-backend.ts';
import { bit } from '../../../emulator/devices/virtio/device.ts';
import * as R from '../../../emulator/devices/virtio/mmio.ts';
import { type Buf, type DriverQueue, Rig } from './driver.ts';

const dir = mkdtempSync(join(tmpdir(), 'virtio-blk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function header(type: number, sector: number): Uint8Array {
  const h = new DataView(new ArrayBuffer(16));
  h.setUint32(0, type, true);
  h.setUint32(8, sector, true);
  return new Uint8Array(h.buffer);
}

/** virtblk_add_req(): header out, data out (write) or in (read), status in; one indirect table. */
function request(rig: Rig, q: DriverQueue, type: number, sector: number, data: { out?: Uint8Array; inLen?: number; inSegs?: number }): { status: () => number; data: () => Uint8Array; len: () => number } {
  const bufs: Buf[] = [{ addr: rig.put(header(type, sector)), len: 16 }];
  if (data.out) bufs.push({ addr: rig.put(data.out), len: data.out.length });
  const inAddr = data.inLen ? rig.alloc(data.inLen) : 0;
  // Contiguous in guest memory, but split into segments as a scatter list would be.
  const segs = data.inSegs ?? 1;
  for (let k = 0, at = 0; data.inLen && k < segs; k++) {
    const len = k === segs - 1 ? data.inLen - at : Math.floor(data.inLen / segs / SECTOR) * SECTOR;
    bufs.push({ addr: inAddr + at, len, write: true });
    at += len;
  }
  const st = rig.alloc(1);
  rig.mem.write(st, Uint8Array.of(0xff));
  bufs.push({ addr: st, len: 1, write: true });
  const head = q.addIndirect(bufs);
  q.kick();
  const used = q.takeUsed();
  expect(used.map((u) => u.id)).toEqual([head]);
  return { status: () => rig.bytes(st, 1)[0], data: () => rig.bytes(inAddr, data.inLen ?? 0), len: () => used[0].len };
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

function disk(backend: BlockBackend, serial?: string) {
  const rig = new Rig(new VirtioBlk({ backend, serial }));
  const [q] = rig.start();
  return { rig, q };
}

describe('virtio-blk', () => {
  it('offers SIZE_MAX, SEG_MAX, BLK_SIZE, FLUSH; config: capacity, size_max, seg_max, blk_size', () => {
    const rig = new Rig(new VirtioBlk({ backend: new MemoryBackend(new Uint8Array(8192 * SECTOR + 100), false) }));
    expect(rig.t.read(R.MMIO_DEVICE_ID, 4)).toBe(2);
    const f = rig.deviceFeatures();
    for (const b of [VIRTIO_BLK_F_SIZE_MAX, VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_FLUSH]) expect(f & bit(b)).toBe(bit(b));
    expect(f & bit(VIRTIO_BLK_F_RO)).toBe(0n);
    // virtio_cread(capacity) on version 2: two 32-bit reads.
    expect(rig.t.read(R.MMIO_CONFIG, 4)).toBe(8192);
    expect(rig.t.read(R.MMIO_CONFIG + 4, 4)).toBe(0);
    expect(rig.t.read(R.MMIO_CONFIG + 8, 4)).toBe(65536);
    expect(rig.t.read(R.MMIO_CONFIG + 12, 4)).toBe(254);
    expect(rig.t.read(R.MMIO_CONFIG + 20, 4)).toBe(512);
    rig.w(R.MMIO_QUEUE_SEL, 0);
    expect(rig.r(R.MMIO_QUEUE_NUM_MAX)).toBe(256);
  });

  it('reads and writes sectors; a write reaches the image file at once (write-through)', () => {
    const path = join(dir, 'rw.img');
    writeFileSync(path, pattern(64 * SECTOR, 1));
    const backend = FileBackend.open(path, false);
    const { rig, q } = disk(backend);
    const r = request(rig, q, VIRTIO_BLK_T_IN, 3, { inLen: 2 * SECTOR });
    expect(r.status()).toBe(VIRTIO_BLK_S_OK);
    expect(r.data()).toEqual(pattern(64 * SECTOR, 1).subarray(3 * SECTOR, 5 * SECTOR));
    expect(r.len()).toBe(2 * SECTOR + 1);
    const w = request(rig, q, VIRTIO_BLK_T_OUT, 10, { out: pattern(3 * SECTOR, 9) });
    expect(w.status()).toBe(VIRTIO_BLK_S_OK);
    expect(w.len()).toBe(1);
    expect(readFileSync(path).subarray(10 * SECTOR, 13 * SECTOR)).toEqual(Buffer.from(pattern(3 * SECTOR, 9)));
    expect(request(rig, q, VIRTIO_BLK_T_FLUSH, 0, {}).status()).toBe(VIRTIO_BLK_S_OK);
    backend.close();
  });

  it('moves requests larger than its 64 KiB step, across many segments', () => {
    const { rig, q } = disk(new MemoryBackend(pattern(1024 * SECTOR, 5), false));
    const r = request(rig, q, VIRTIO_BLK_T_IN, 1, { inLen: 300 * SECTOR, inSegs: 7 });
    expect(r.status()).toBe(VIRTIO_BLK_S_OK);
    expect(Buffer.compare(r.data(), pattern(1024 * SECTOR, 5).subarray(SECTOR, 301 * SECTOR))).toBe(0);
  });

  it('refuses out-of-range and ragged requests with IOERR, unknown types with UNSUPP', () => {
    const { rig, q } = disk(new MemoryBackend(new Uint8Array(16 * SECTOR), false));
    expect(request(rig, q, VIRTIO_BLK_T_IN, 15, { inLen: 2 * SECTOR }).status()).toBe(VIRTIO_BLK_S_IOERR);
    expect(request(rig, q, VIRTIO_BLK_T_OUT, 16, { out: new Uint8Array(SECTOR) }).status()).toBe(VIRTIO_BLK_S_IOERR);
    expect(request(rig, q, VIRTIO_BLK_T_IN, 0, { inLen: 100 }).status()).toBe(VIRTIO_BLK_S_IOERR);
    expect(request(rig, q, 11 /* DISCARD */, 0, { out: new Uint8Array(16) }).status()).toBe(VIRTIO_BLK_S_UNSUPP);
    expect(rig.log).toEqual([]);
  });

  it('read-only: VIRTIO_BLK_F_RO offered, writes fail with IOERR and leave the image untouched', () => {
    const path = join(dir, 'ro.img');
    writeFileSync(path, pattern(8 * SECTOR, 2));
    const backend = FileBackend.open(path, true);
    const { rig, q } = disk(backend);
    expect(rig.deviceFeatures() & bit(VIRTIO_BLK_F_RO)).toBe(bit(VIRTIO_BLK_F_RO));
    expect(request(rig, q, VIRTIO_BLK_T_OUT, 0, { out: new Uint8Array(SECTOR) }).status()).toBe(VIRTIO_BLK_S_IOERR);
    expect(readFileSync(path)).toEqual(Buffer.from(pattern(8 * SECTOR, 2)));
    expect(request(rig, q, VIRTIO_BLK_T_IN, 0, { inLen: SECTOR }).status()).toBe(VIRTIO_BLK_S_OK);
    backend.close();
  });

  it('GET_ID answers the serial, up to 20 bytes', () => {
    const { rig, q } = disk(new MemoryBackend(new Uint8Array(SECTOR), false), 'disk.ext2');
    const r = request(rig, q, VIRTIO_BLK_T_GET_ID, 0, { inLen: 20 });
    expect(r.status()).toBe(VIRTIO_BLK_S_OK);
    expect(new TextDecoder().decode(r.data()).replace(/\0+$/, '')).toBe('disk.ext2');
  });

  it('openDiskImage: a missing file is one clear error; a gzip image is decompressed and attached read-only', () => {
    expect(() => openDiskImage(join(dir, 'none.img'), false)).toThrow(new DiskImageError(`disk '${join(dir, 'none.img')}': no such file`));
    const gz = join(dir, 'd.img.gz');
    writeFileSync(gz, gzipSync(pattern(4 * SECTOR, 3)));
    const rw = openDiskImage(gz, false);
    expect(rw.backend.readOnly).toBe(true);
    expect(rw.backend.size).toBe(4 * SECTOR);
    expect(rw.note).toMatch(/gzip-compressed: attached read-only/);
    expect(openDiskImage(gz, true).note).toBeUndefined();
    const raw = join(dir, 'd.img');
    writeFileSync(raw, pattern(4 * SECTOR, 3));
    const plain = openDiskImage(raw, false);
    expect(plain.backend.readOnly).toBe(false);
    plain.backend.close();
  });
});

describe('WindowBackend (Rust-Shyper cfg [start sector, sectors])', () => {
  it('a window of an image: offsets shifted, reads past its end zero, writes past it refused, read-only on request', () => {
    const bytes = new Uint8Array(8 * 512).map((_, i) => i & 0xff);
    const base = new MemoryBackend(bytes, false);
    const w = new WindowBackend(base, 2 * 512, 4 * 512);
    const buf = new Uint8Array(8);
    w.read(0, buf);
    expect(buf).toEqual(bytes.subarray(1024, 1032));
    const tail = new Uint8Array(16).fill(0xee);
    w.read(4 * 512 - 8, tail);
    expect(tail).toEqual(Uint8Array.from([...bytes.subarray(3064, 3072), 0, 0, 0, 0, 0, 0, 0, 0]));
    w.write(512, Uint8Array.of(1, 2, 3));
    expect(bytes.subarray(1536, 1539)).toEqual(Uint8Array.of(1, 2, 3));
    expect(() => w.write(4 * 512 - 1, Uint8Array.of(1, 2))).toThrow('write past the end of the disk window');
    expect(bytes[3072]).toBe(3072 & 0xff);
    expect(() => new WindowBackend(base, 4 * 512, 5 * 512)).toThrow(RangeError);
    const ro = new WindowBackend(base, 0, 512, true);
    expect(ro.readOnly).toBe(true);
    expect(() => ro.write(0, Uint8Array.of(9))).toThrow('read-only image');
    // virtio-blk over a window: the capacity is the window's, RO offered for a read-only one.
    expect(new VirtioBlk({ backend: w }).capacity).toBe(4);
    expect(new VirtioBlk({ backend: ro }).features & bit(VIRTIO_BLK_F_RO)).toBe(bit(VIRTIO_BLK_F_RO));
  });
});
