// virtio-net (virtio v1.2 §5.1): MAC, link status and MTU in the config space; transmitted frames
// to the backend without the 12-byte header; received frames into the driver's buffers behind a
// header with num_buffers = 1; a short backlog while the driver has no buffer; drops counted.
import { describe, expect, it } from 'vitest';
import { bit } from '../../../emulator/devices/virtio/device.ts';
import * as R from '../../../emulator/devices/virtio/mmio.ts';
import { MTU, NET_HDR_BYTES, VIRTIO_NET_F_MAC, VIRTIO_NET_F_MTU, VIRTIO_NET_F_STATUS, VirtioNet } from '../../../emulator/devices/virtio/net.ts';
import { Rig } from './driver.ts';

const MAC = Uint8Array.of(0x74, 0x56, 0xaa, 0x0f, 0x47, 0xd0);

function make(backlog?: number) {
  const sent: Uint8Array[] = [];
  const dev = new VirtioNet({ mac: MAC, backend: { transmit: (f) => void sent.push(f.slice()) }, backlog });
  const rig = new Rig(dev);
  return { dev, rig, sent };
}

/** An Ethernet frame of `len` bytes: destination, source, type 0x0800, then a counting payload. */
function frame(len: number, tag = 0): Uint8Array {
  const f = new Uint8Array(len);
  f.set([0x02, 0, 0, 0, 0, 1, ...MAC, 0x08, 0x00]);
  for (let i = 14; i < len; i++) f[i] = (i + tag) & 0xff;
  return f;
}

describe('virtio-net', () => {
  it('is device 1 with MAC, STATUS and MTU; the config space holds the MAC, link up and MTU 1500; two queues of 256', () => {
    const { rig } = make();
    expect(rig.r(R.MMIO_DEVICE_ID)).toBe(1);
    const f = rig.deviceFeatures();
    const want = bit(VIRTIO_NET_F_MAC) | bit(VIRTIO_NET_F_STATUS) | bit(VIRTIO_NET_F_MTU);
    expect(f & 0xffffffn).toBe(want); // no offloads, no mergeable buffers, no control queue
    expect(Array.from({ length: 6 }, (_, i) => rig.t.read(R.MMIO_CONFIG + i, 1))).toEqual([...MAC]);
    expect(rig.t.read(R.MMIO_CONFIG + 6, 2)).toBe(1);
    expect(rig.t.read(R.MMIO_CONFIG + 10, 2)).toBe(MTU);
    rig.w(R.MMIO_QUEUE_SEL, 1);
    expect(rig.r(R.MMIO_QUEUE_NUM_MAX)).toBe(256);
    rig.w(R.MMIO_QUEUE_SEL, 2);
    expect(rig.r(R.MMIO_QUEUE_NUM_MAX)).toBe(0);
  });

  it('transmitq: the frame after the header reaches the backend, split or whole; a buffer without a full Ethernet header is dropped', () => {
    const { dev, rig, sent } = make();
    const [, tx] = rig.start();
    const f = frame(60);
    const whole = new Uint8Array(NET_HDR_BYTES + 60);
    whole.set(f, NET_HDR_BYTES);
    tx.add([{ addr: rig.put(whole), len: whole.length }]);
    tx.addIndirect([{ addr: rig.put(new Uint8Array(NET_HDR_BYTES)), len: NET_HDR_BYTES }, { addr: rig.put(frame(98, 1)), len: 98 }]);
    tx.add([{ addr: rig.put(new Uint8Array(NET_HDR_BYTES + 13)), len: NET_HDR_BYTES + 13 }]);
    tx.kick();
    expect(sent).toEqual([f, frame(98, 1)]);
    expect(tx.takeUsed()).toEqual([{ id: 0, len: 0 }, { id: 1, len: 0 }, { id: 2, len: 0 }]);
    expect(dev.stats).toMatchObject({ txFrames: 2, txDropped: 1 });
    expect(rig.interrupt()).toBe(R.INT_USED_BUFFER);
  });

  it('receive(): refused until the driver is up; then each frame fills one buffer behind a header with num_buffers 1', () => {
    const { dev, rig } = make();
    expect(dev.receive(frame(60))).toBe(false);
    const [rx] = rig.start();
    const bufs = [0, 1].map(() => rig.alloc(NET_HDR_BYTES + 1518));
    for (const b of bufs) rx.add([{ addr: b, len: NET_HDR_BYTES + 1518, write: true }]);
    rx.kick();
    expect(dev.receive(frame(60))).toBe(true);
    expect(dev.receive(frame(1514, 3))).toBe(true);
    expect(rx.takeUsed()).toEqual([{ id: 0, len: NET_HDR_BYTES + 60 }, { id: 1, len: NET_HDR_BYTES + 1514 }]);
    const hdr = rig.bytes(bufs[0]!, NET_HDR_BYTES);
    expect([...hdr]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect(rig.bytes(bufs[1]! + NET_HDR_BYTES, 1514)).toEqual(frame(1514, 3));
    expect(rig.interrupt()).toBe(R.INT_USED_BUFFER);
    expect(dev.stats).toMatchObject({ rxFrames: 2, rxDropped: 1 }); // the one before the driver was up
  });

  it('frames wait in a short backlog until buffers are posted; past it they are dropped; reset empties it', () => {
    const { dev, rig } = make(2);
    const [rx] = rig.start();
    expect([dev.receive(frame(60, 1)), dev.receive(frame(60, 2)), dev.receive(frame(60, 3))]).toEqual([true, true, false]);
    const b = rig.alloc(2048);
    rx.add([{ addr: b, len: 2048, write: true }]);
    rx.kick();
    expect(rx.takeUsed()).toEqual([{ id: 0, len: NET_HDR_BYTES + 60 }]);
    expect(rig.bytes(b + NET_HDR_BYTES, 60)).toEqual(frame(60, 1));
    // A buffer too small for the frame goes back empty; the frame is lost.
    rx.add([{ addr: rig.alloc(32), len: 32, write: true }]);
    rx.kick();
    expect(rx.takeUsed()).toEqual([{ id: 1, len: 0 }]);
    expect(dev.stats.rxDropped).toBe(2);
    dev.receive(frame(60));
    rig.w(R.MMIO_STATUS, 0);
    expect(dev.receive(frame(60))).toBe(false); // driver gone
  });
});
