// virtio-rng (virtio v1.2 §5.4) fed by a seeded deterministic generator.
import { describe, expect, it } from 'vitest';
import { SplitMix64, VirtioRng } from '../../../emulator/devices/virtio/rng.ts';
import * as R from '../../../emulator/devices/virtio/mmio.ts';
import { Rig } from './driver.ts';

describe('virtio-rng', () => {
  it('SplitMix64 gives the reference stream (seed 0: 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4)', () => {
    const g = new SplitMix64(0n);
    expect(g.next()).toBe(0xe220a8397b1dcdafn);
    expect(g.next()).toBe(0x6e789e6aa1b965f4n);
    const bytes = new Uint8Array(10);
    new SplitMix64(0n).fill(bytes);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0xaf, 0xcd, 0x1d, 0x7b, 0x39, 0xa8, 0x20, 0xe2]);
    expect(Array.from(bytes.subarray(8))).toEqual([0xf4, 0x65]);
  });

  it('fills each posted buffer from its source; the same seed gives the same bytes', () => {
    const run = (seed: bigint): Uint8Array => {
      const rig = new Rig(new VirtioRng({ source: new SplitMix64(seed) }));
      expect(rig.r(R.MMIO_DEVICE_ID)).toBe(4);
      expect(rig.deviceFeatures() & 0xffffffn).toBe(0n);
      const [q] = rig.start();
      const a = rig.alloc(16);
      const b = rig.alloc(48);
      q.add([{ addr: a, len: 16, write: true }]);
      q.add([{ addr: b, len: 48, write: true }]);
      q.kick();
      expect(q.takeUsed()).toEqual([{ id: 0, len: 16 }, { id: 1, len: 48 }]);
      expect(rig.irq.level).toBe(true);
      return Uint8Array.from([...rig.bytes(a, 16), ...rig.bytes(b, 48)]);
    };
    const expected = new Uint8Array(64);
    new SplitMix64(42n).fill(expected);
    expect(run(42n)).toEqual(expected);
    expect(run(43n)).not.toEqual(expected);
  });
});
