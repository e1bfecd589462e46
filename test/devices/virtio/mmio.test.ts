// The virtio-mmio transport (virtio v1.2 §4.2.2) register by register, in the order Linux's
// virtio_mmio.c touches them: probe, features, queues, notify, interrupts, config, reset.
import { describe, expect, it } from 'vitest';
import {
  bit, STATUS_ACKNOWLEDGE, STATUS_DRIVER, STATUS_DRIVER_OK, STATUS_FEATURES_OK, VIRTIO_F_VERSION_1, VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
} from '../../../emulator/devices/virtio/device.ts';
import * as R from '../../../emulator/devices/virtio/mmio.ts';
import { EchoDevice, Rig } from './driver.ts';

const ACK_DRV = STATUS_ACKNOWLEDGE | STATUS_DRIVER;

describe('virtio-mmio transport', () => {
  it('identifies itself as virtio_mmio_probe() expects: magic "virt", version 2, device and vendor id', () => {
    const { t } = new Rig(new EchoDevice());
    expect(t.read(R.MMIO_MAGIC_VALUE, 4)).toBe(0x74726976);
    expect(t.read(R.MMIO_VERSION, 4)).toBe(2);
    expect(t.read(R.MMIO_DEVICE_ID, 4)).toBe(0x1ff);
    expect(t.read(R.MMIO_VENDOR_ID, 4)).toBe(0x554d4551);
    expect(t.read(R.MMIO_STATUS, 4)).toBe(0);
    // No shared memory regions: vm_get_shm_region() sees a length of ~0.
    t.write(R.MMIO_SHM_SEL, 4, 0);
    expect(t.read(R.MMIO_SHM_LEN_LOW, 4)).toBe(0xffffffff);
    expect(t.read(R.MMIO_SHM_LEN_HIGH, 4)).toBe(0xffffffff);
  });

  it('offers VERSION_1, INDIRECT_DESC and EVENT_IDX beside the device bits, in two 32-bit windows', () => {
    const rig = new Rig(new EchoDevice());
    expect(rig.deviceFeatures()).toBe(bit(0) | bit(VIRTIO_RING_F_INDIRECT_DESC) | bit(VIRTIO_RING_F_EVENT_IDX) | bit(VIRTIO_F_VERSION_1));
    rig.w(R.MMIO_DEVICE_FEATURES_SEL, 2);
    expect(rig.r(R.MMIO_DEVICE_FEATURES)).toBe(0);
  });

  it('FEATURES_OK: kept for a subset of the offer with VERSION_1, cleared for a legacy driver or an unoffered bit', () => {
    const rig = new Rig(new EchoDevice());
    expect(rig.negotiate(bit(VIRTIO_F_VERSION_1) | bit(0))).toBe(ACK_DRV | STATUS_FEATURES_OK);
    expect(rig.negotiate(bit(0))).toBe(ACK_DRV);
    expect(rig.negotiate(bit(VIRTIO_F_VERSION_1) | bit(5))).toBe(ACK_DRV);
    expect(rig.negotiate(bit(VIRTIO_F_VERSION_1))).toBe(ACK_DRV | STATUS_FEATURES_OK);
    expect(rig.device.host.features).toBe(bit(VIRTIO_F_VERSION_1));
    // Feature writes after FEATURES_OK do not change the agreement.
    rig.w(R.MMIO_DRIVER_FEATURES_SEL, 0);
    rig.w(R.MMIO_DRIVER_FEATURES, 1);
    expect(rig.device.host.features).toBe(bit(VIRTIO_F_VERSION_1));
  });

  it('sets a queue up as vm_setup_vq() does, and only while it is not ready', () => {
    const rig = new Rig(new EchoDevice([16, 8]));
    rig.negotiate(bit(VIRTIO_F_VERSION_1));
    rig.w(R.MMIO_QUEUE_SEL, 1);
    expect(rig.r(R.MMIO_QUEUE_READY)).toBe(0);
    expect(rig.r(R.MMIO_QUEUE_NUM_MAX)).toBe(8);
    rig.w(R.MMIO_QUEUE_SEL, 2);
    expect(rig.r(R.MMIO_QUEUE_NUM_MAX)).toBe(0); // no such queue: find_vqs gets -ENOENT
    const q = rig.setupQueue(1, 4, 0n);
    rig.w(R.MMIO_QUEUE_SEL, 1);
    expect(rig.r(R.MMIO_QUEUE_READY)).toBe(1);
    const vq = rig.device.host.queue(1);
    expect([vq.size, vq.desc, vq.driver, vq.device]).toEqual([4, q.desc, q.avail, q.used]);
    rig.w(R.MMIO_QUEUE_NUM, 2);
    rig.w(R.MMIO_QUEUE_DESC_LOW, 0);
    expect([vq.size, vq.desc]).toEqual([4, q.desc]);
    // vm_del_vq(): QueueReady = 0 reads back 0.
    rig.w(R.MMIO_QUEUE_READY, 0);
    expect(rig.r(R.MMIO_QUEUE_READY)).toBe(0);
    expect(rig.log).toEqual([]);
  });

  it('a notify runs the queue; the used buffer asserts the line until vm_interrupt() acknowledges it', () => {
    const rig = new Rig(new EchoDevice());
    const [q] = rig.start();
    const out = rig.put('ping');
    const back = rig.alloc(4);
    q.add([{ addr: out, len: 4 }, { addr: back, len: 4, write: true }]);
    expect(rig.irq.level).toBe(false);
    q.kick();
    expect(rig.irq.level).toBe(true);
    expect(rig.r(R.MMIO_INTERRUPT_STATUS)).toBe(R.INT_USED_BUFFER);
    expect(rig.interrupt()).toBe(R.INT_USED_BUFFER);
    expect(rig.irq.level).toBe(false);
    expect(q.takeUsed()).toEqual([{ id: 0, len: 4 }]);
    expect(new TextDecoder().decode(rig.bytes(back, 4))).toBe('ping');
  });

  it('does not consume buffers before DRIVER_OK, and serves them when DRIVER_OK is set', () => {
    const rig = new Rig(new EchoDevice());
    rig.negotiate(rig.deviceFeatures());
    const q = rig.setupQueue(0, 0, 0n);
    q.add([{ addr: rig.put('x'), len: 1 }]);
    q.kick();
    expect(q.takeUsed()).toEqual([]);
    rig.w(R.MMIO_STATUS, ACK_DRV | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
    expect(q.takeUsed()).toEqual([{ id: 0, len: 0 }]);
    expect(rig.irq.level).toBe(true);
  });

  it('reads the config space at every width; a config change bumps ConfigGeneration and raises bit 1', () => {
    const rig = new Rig(new EchoDevice());
    rig.start();
    expect(rig.t.read(R.MMIO_CONFIG, 4)).toBe(0x11223344);
    expect(rig.t.read(R.MMIO_CONFIG + 1, 1)).toBe(0x33);
    expect(rig.t.read(R.MMIO_CONFIG + 2, 2)).toBe(0x1122);
    rig.t.write(R.MMIO_CONFIG + 4, 4, 0xcafe);
    expect(rig.t.read(R.MMIO_CONFIG + 4, 4)).toBe(0xcafe);
    const gen = rig.r(R.MMIO_CONFIG_GENERATION);
    (rig.device as EchoDevice).changeConfig(7);
    expect(rig.r(R.MMIO_CONFIG_GENERATION)).toBe(gen + 1);
    expect(rig.irq.level).toBe(true);
    expect(rig.interrupt()).toBe(R.INT_CONFIG_CHANGE);
    expect(rig.irq.level).toBe(false);
    expect(rig.t.read(R.MMIO_CONFIG, 4)).toBe(7);
  });

  it('Status = 0 resets: status, features, queues and interrupt cleared, the device told', () => {
    const rig = new Rig(new EchoDevice());
    const [q] = rig.start();
    q.add([{ addr: rig.put('x'), len: 1 }]);
    q.kick();
    expect(rig.irq.level).toBe(true);
    const resets = (rig.device as EchoDevice).resets;
    rig.w(R.MMIO_STATUS, 0);
    expect(rig.r(R.MMIO_STATUS)).toBe(0);
    expect(rig.r(R.MMIO_INTERRUPT_STATUS)).toBe(0);
    expect(rig.irq.level).toBe(false);
    rig.w(R.MMIO_QUEUE_SEL, 0);
    expect(rig.r(R.MMIO_QUEUE_READY)).toBe(0);
    expect(rig.device.host.features).toBe(0n);
    expect((rig.device as EchoDevice).resets).toBe(resets + 1);
    // And it comes up again from scratch.
    const [q2] = rig.start();
    q2.add([{ addr: rig.put('y'), len: 1 }]);
    q2.kick();
    expect(q2.takeUsed()).toEqual([{ id: 0, len: 0 }]);
  });

  it('ignores narrow accesses to control registers (§4.2.2.2: 32-bit only)', () => {
    const rig = new Rig(new EchoDevice());
    expect(rig.t.read(R.MMIO_MAGIC_VALUE, 2)).toBe(0);
    rig.t.write(R.MMIO_STATUS, 1, STATUS_ACKNOWLEDGE);
    expect(rig.r(R.MMIO_STATUS)).toBe(0);
  });
});
