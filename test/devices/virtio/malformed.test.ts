// A driver that breaks the ring rules gets DEVICE_NEEDS_RESET, one log line and a configuration
// interrupt — never a host exception — and the device stays quiet until it is reset.
import { describe, expect, it } from 'vitest';
import { VirtioBlk } from '../../../emulator/devices/virtio/blk.ts';
import { MemoryBackend } from '../../../emulator/devices/virtio/block-backend.ts';
import {
  bit, STATUS_DEVICE_NEEDS_RESET, STATUS_DRIVER_OK, VIRTIO_F_VERSION_1, VIRTIO_RING_F_INDIRECT_DESC,
} from '../../../emulator/devices/virtio/device.ts';
import * as R from '../../../emulator/devices/virtio/mmio.ts';
import { VIRTQ_DESC_F_INDIRECT as IND, VIRTQ_DESC_F_NEXT as NEXT, VIRTQ_DESC_F_WRITE as WR } from '../../../emulator/devices/virtio/virtqueue.ts';
import { type DriverQueue, EchoDevice, RAM_BASE, RAM_SIZE, Rig } from './driver.ts';

const V1 = bit(VIRTIO_F_VERSION_1);
const INDIRECT = bit(VIRTIO_RING_F_INDIRECT_DESC);
const END = RAM_BASE + RAM_SIZE;

/** Sets up a rig, lets `spoil` write a bad ring, kicks; returns the rig and its queue. */
function refused(spoil: (rig: Rig, q: DriverQueue) => void, features = V1 | INDIRECT): { rig: Rig; q: DriverQueue } {
  const echo = new EchoDevice([8]);
  const rig = new Rig(echo);
  const [q] = rig.start({ features });
  spoil(rig, q);
  expect(() => q.kick()).not.toThrow();
  expect(rig.r(R.MMIO_STATUS) & STATUS_DEVICE_NEEDS_RESET).toBe(STATUS_DEVICE_NEEDS_RESET);
  expect(rig.log).toHaveLength(1);
  expect(rig.log[0]).toMatch(/^echo: queue 0: .*; device needs reset$/);
  expect(rig.r(R.MMIO_INTERRUPT_STATUS) & R.INT_CONFIG_CHANGE).toBe(R.INT_CONFIG_CHANGE);
  expect(echo.seen).toEqual([]);
  expect(q.takeUsed()).toEqual([]);
  return { rig, q };
}

describe('malformed rings', () => {
  it('a descriptor loop (0 -> 1 -> 0)', () => {
    const { rig } = refused((rig, q) => {
      q.writeDesc(q.desc, 0, rig.put('a'), 1, NEXT, 1);
      q.writeDesc(q.desc, 1, rig.put('b'), 1, NEXT, 0);
      q.publish(0);
    });
    expect(rig.log[0]).toContain('descriptor loop in the chain from head 0');
  });

  it('a descriptor that links to itself', () => {
    refused((rig, q) => {
      q.writeDesc(q.desc, 3, rig.put('a'), 1, NEXT, 3);
      q.publish(3);
    });
  });

  it('a loop inside an indirect table', () => {
    const { rig } = refused((rig, q) => {
      const t = rig.alloc(32);
      q.writeDesc(t, 0, rig.put('a'), 1, NEXT, 1);
      q.writeDesc(t, 1, rig.put('b'), 1, NEXT, 0);
      q.writeDesc(q.desc, 0, t, 32, IND, 0);
      q.publish(0);
    });
    expect(rig.log[0]).toContain('(indirect table)');
  });

  it('a next index past the table', () => {
    refused((rig, q) => {
      q.writeDesc(q.desc, 0, rig.put('a'), 1, NEXT, 8);
      q.publish(0);
    });
  });

  it('an available ring entry naming a descriptor past the table', () => {
    refused((_rig, q) => q.publish(9));
  });

  it('an available index more than the queue size ahead', () => {
    const { rig } = refused((_rig, q) => q.set16(q.avail + 2, 9));
    expect(rig.log[0]).toContain('available index 9 is 9 entries ahead of 0');
  });

  it('a buffer address outside guest memory', () => {
    refused((_rig, q) => {
      q.writeDesc(q.desc, 0, 0x1000, 16, 0, 0);
      q.publish(0);
    });
  });

  it('a buffer whose length runs past the end of memory', () => {
    const { rig } = refused((_rig, q) => {
      q.writeDesc(q.desc, 0, END - 8, 16, WR, 0);
      q.publish(0);
    });
    expect(rig.log[0]).toContain(`buffer at 0x${(END - 8).toString(16)}+16`);
  });

  it('a 64-bit address no host number can hold', () => {
    refused((_rig, q) => {
      q.writeDesc(q.desc, 0, 0, 16, 0, 0);
      q.set16(q.desc + 6, 0xffff); // high bits of addr: 0xffff0000_00000000
      q.publish(0);
    });
  });

  it('an indirect table outside memory, of a ragged length, nested, with NEXT, or not negotiated', () => {
    refused((_rig, q) => {
      q.writeDesc(q.desc, 0, END - 16, 32, IND, 0);
      q.publish(0);
    });
    refused((rig, q) => {
      q.writeDesc(q.desc, 0, rig.alloc(32), 24, IND, 0);
      q.publish(0);
    });
    refused((rig, q) => {
      const inner = rig.alloc(16);
      const outer = rig.alloc(16);
      q.writeDesc(inner, 0, rig.put('a'), 1, 0, 0);
      q.writeDesc(outer, 0, inner, 16, IND, 0);
      q.writeDesc(q.desc, 0, outer, 16, IND, 0);
      q.publish(0);
    });
    refused((rig, q) => {
      const t = rig.alloc(16);
      q.writeDesc(t, 0, rig.put('a'), 1, 0, 0);
      q.writeDesc(q.desc, 0, t, 16, IND | NEXT, 1);
      q.publish(0);
    });
    refused((rig, q) => {
      const t = rig.alloc(16);
      q.writeDesc(t, 0, rig.put('a'), 1, 0, 0);
      q.writeDesc(q.desc, 0, t, 16, IND, 0);
      q.publish(0);
    }, V1);
  });

  it('a device-readable descriptor after a device-writable one', () => {
    refused((rig, q) => {
      q.writeDesc(q.desc, 0, rig.alloc(4), 4, WR | NEXT, 1);
      q.writeDesc(q.desc, 1, rig.put('a'), 1, 0, 0);
      q.publish(0);
    });
  });

  it('after the error the device ignores notifications; a reset brings it back', () => {
    const { rig, q } = refused((_rig, q) => q.publish(9));
    q.kick();
    expect(rig.log).toHaveLength(1);
    const [q2] = rig.start();
    expect(rig.r(R.MMIO_STATUS) & STATUS_DEVICE_NEEDS_RESET).toBe(0);
    q2.add([{ addr: rig.put('ok'), len: 2 }, { addr: rig.alloc(2), len: 2, write: true }]);
    q2.kick();
    expect(q2.takeUsed()).toEqual([{ id: 0, len: 2 }]);
    expect(rig.log).toHaveLength(1);
  });

  it('QueueReady with rings outside memory, misaligned, or of a size that is not a power of two', () => {
    for (const [what, bad] of [
      ['outside', (rig: Rig) => rig.w(R.MMIO_QUEUE_DESC_LOW, 0x1000)],
      ['misaligned', (rig: Rig) => rig.w(R.MMIO_QUEUE_DEVICE_LOW, RAM_BASE + 2)],
      ['size', (rig: Rig) => rig.w(R.MMIO_QUEUE_NUM, 6)],
    ] as const) {
      const rig = new Rig(new EchoDevice([8]));
      rig.negotiate(V1);
      rig.w(R.MMIO_QUEUE_SEL, 0);
      rig.w(R.MMIO_QUEUE_NUM, 8);
      rig.w(R.MMIO_QUEUE_DESC_LOW, RAM_BASE);
      rig.w(R.MMIO_QUEUE_DRIVER_LOW, RAM_BASE + 0x1000);
      rig.w(R.MMIO_QUEUE_DEVICE_LOW, RAM_BASE + 0x2000);
      bad(rig);
      expect(() => rig.w(R.MMIO_QUEUE_READY, 1), what).not.toThrow();
      expect(rig.r(R.MMIO_QUEUE_READY), what).toBe(0);
      expect(rig.r(R.MMIO_STATUS) & STATUS_DEVICE_NEEDS_RESET, what).toBe(STATUS_DEVICE_NEEDS_RESET);
      expect(rig.log, what).toHaveLength(1);
      // Not yet DRIVER_OK: no interrupt for the driver to miss.
      expect(rig.r(R.MMIO_STATUS) & STATUS_DRIVER_OK).toBe(0);
    }
  });

  it('a virtio-blk request without a device-writable status byte', () => {
    const rig = new Rig(new VirtioBlk({ backend: new MemoryBackend(new Uint8Array(4096), false) }));
    const [q] = rig.start();
    q.add([{ addr: rig.alloc(16), len: 16 }]);
    expect(() => q.kick()).not.toThrow();
    expect(rig.r(R.MMIO_STATUS) & STATUS_DEVICE_NEEDS_RESET).toBe(STATUS_DEVICE_NEEDS_RESET);
    expect(rig.log).toEqual(['virtio-blk: request (head 0) has no device-writable status byte; device needs reset']);
  });
});
