// Split virtqueues from the device side (virtio v1.2 §2.7): chains of direct and indirect
// descriptors, the used ring, and notification suppression with and without EVENT_IDX.
import { describe, expect, it } from 'vitest';
import { bit, VIRTIO_F_VERSION_1, VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC } from '../../../emulator/devices/virtio/device.ts';
import { VIRTQ_AVAIL_F_NO_INTERRUPT } from '../../../emulator/devices/virtio/virtqueue.ts';
import { EchoDevice, Rig } from './driver.ts';

const INDIRECT = bit(VIRTIO_RING_F_INDIRECT_DESC);
const EVENT_IDX = bit(VIRTIO_RING_F_EVENT_IDX);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('split virtqueue', () => {
  it('walks a direct chain: readable segments first as one stream, then writable ones; used.len = bytes written', () => {
    const echo = new EchoDevice();
    const rig = new Rig(echo);
    const [q] = rig.start({ features: bit(VIRTIO_F_VERSION_1) });
    const a = rig.put('hello, ');
    const b = rig.put('world');
    const w1 = rig.alloc(5);
    const w2 = rig.alloc(16);
    const head = q.add([{ addr: a, len: 7 }, { addr: b, len: 5 }, { addr: w1, len: 5, write: true }, { addr: w2, len: 16, write: true }]);
    q.kick();
    expect(echo.seen).toEqual([{ head, readable: 12, writable: 21, segments: 4, data: new TextEncoder().encode('hello, world') }]);
    expect(q.takeUsed()).toEqual([{ id: head, len: 12 }]);
    expect(text(rig.bytes(w1, 5)) + text(rig.bytes(w2, 7))).toBe('hello, world');
  });

  it('follows an indirect table (one descriptor of the ring, the chain in the table)', () => {
    const echo = new EchoDevice();
    const rig = new Rig(echo);
    const [q] = rig.start({ features: bit(VIRTIO_F_VERSION_1) | INDIRECT });
    const hdr = rig.put('abc');
    const body = rig.put('defgh');
    const out = rig.alloc(8);
    const head = q.addIndirect([{ addr: hdr, len: 3 }, { addr: body, len: 5 }, { addr: out, len: 8, write: true }]);
    q.kick();
    expect(echo.seen.map((s) => [s.head, s.readable, s.writable, s.segments, text(s.data)])).toEqual([[head, 8, 8, 3, 'abcdefgh']]);
    expect(q.takeUsed()).toEqual([{ id: head, len: 8 }]);
    expect(text(rig.bytes(out, 8))).toBe('abcdefgh');
  });

  it('takes direct descriptors followed by one indirect descriptor as a single chain (§2.7.5.3.2)', () => {
    const echo = new EchoDevice();
    const rig = new Rig(echo);
    const [q] = rig.start({ features: bit(VIRTIO_F_VERSION_1) | INDIRECT });
    const table = rig.alloc(32);
    const tail = rig.put('yz');
    const out = rig.alloc(3);
    q.writeDesc(table, 0, tail, 2, 1 /* NEXT */, 1);
    q.writeDesc(table, 1, out, 3, 2 /* WRITE */, 0);
    q.writeDesc(q.desc, 0, rig.put('x'), 1, 1 /* NEXT */, 1);
    q.writeDesc(q.desc, 1, table, 32, 4 /* INDIRECT */, 0);
    q.publish(0);
    q.kick();
    expect(text(rig.bytes(out, 3))).toBe('xyz');
    expect(q.takeUsed()).toEqual([{ id: 0, len: 3 }]);
    expect(rig.log).toEqual([]);
  });

  it('without EVENT_IDX interrupts after every batch unless VIRTQ_AVAIL_F_NO_INTERRUPT is set', () => {
    const rig = new Rig(new EchoDevice());
    const [q] = rig.start({ features: bit(VIRTIO_F_VERSION_1) });
    q.add([{ addr: rig.put('1'), len: 1 }]);
    q.kick();
    expect(rig.irq.rises).toBe(1);
    rig.interrupt();
    q.availFlags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    q.add([{ addr: rig.put('2'), len: 1 }]);
    q.kick();
    expect(rig.irq.rises).toBe(1);
    expect(q.takeUsed()).toHaveLength(2);
  });

  it('with EVENT_IDX interrupts only when used_event is crossed, and publishes avail_event', () => {
    const rig = new Rig(new EchoDevice());
    const [q] = rig.start({ features: bit(VIRTIO_F_VERSION_1) | EVENT_IDX });
    // The driver wants an interrupt once the used index passes 2 (the third buffer).
    q.usedEvent = 2;
    const one = (): void => {
      q.add([{ addr: rig.put('.'), len: 1 }]);
      q.kick();
      rig.interrupt();
    };
    one();
    // The first used buffer after enabling always signals (nothing signalled yet).
    expect(rig.irq.rises).toBe(1);
    one();
    expect(rig.irq.rises).toBe(1);
    one();
    expect(rig.irq.rises).toBe(2);
    one();
    expect(rig.irq.rises).toBe(2);
    // VIRTQ_AVAIL_F_NO_INTERRUPT means nothing under EVENT_IDX (§2.7.10).
    q.availFlags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    q.usedEvent = 4;
    one();
    expect(rig.irq.rises).toBe(3);
    // avail_event: the device asks for a kick when entry 5 is made available.
    expect(q.availEvent).toBe(5);
    expect(q.takeUsed().map((u) => u.id)).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps going across the 16-bit index wrap', () => {
    const rig = new Rig(new EchoDevice([4]));
    const [q] = rig.start({ features: bit(VIRTIO_F_VERSION_1) | EVENT_IDX });
    const buf = rig.put('w');
    let served = 0;
    for (let n = 0; n < 65536 + 10; n++) {
      q.add([{ addr: buf, len: 1 }]);
      if (n % 3 === 2) {
        q.kick();
        served += q.takeUsed().length;
      }
    }
    q.kick();
    served += q.takeUsed().length;
    expect(served).toBe(65546);
    expect(q.availIdx).toBe(10);
    expect(rig.log).toEqual([]);
  });
});
