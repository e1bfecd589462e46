// virtio-console (virtio v1.2 §5.3), one port as hvc0: guest output to a Console, host input into
// the driver's receive buffers, the terminal size in the config space.
import { describe, expect, it } from 'vitest';
import { BufferConsole } from '../../../emulator/devices/console.ts';
import { VIRTIO_CONSOLE_F_EMERG_WRITE, VIRTIO_CONSOLE_F_SIZE, VirtioConsole } from '../../../emulator/devices/virtio/console.ts';
import { bit } from '../../../emulator/devices/virtio/device.ts';
import * as R from '../../../emulator/devices/virtio/mmio.ts';
import { Rig } from './driver.ts';

function make() {
  const console = new BufferConsole();
  const dev = new VirtioConsole({ console, cols: 132, rows: 43 });
  const rig = new Rig(dev);
  return { console, dev, rig };
}

describe('virtio-console', () => {
  it('is device 3 with F_SIZE and F_EMERG_WRITE, two queues, cols/rows in the config space', () => {
    const { rig } = make();
    expect(rig.r(R.MMIO_DEVICE_ID)).toBe(3);
    const f = rig.deviceFeatures();
    expect(f & (bit(VIRTIO_CONSOLE_F_SIZE) | bit(VIRTIO_CONSOLE_F_EMERG_WRITE) | bit(1))).toBe(bit(VIRTIO_CONSOLE_F_SIZE) | bit(VIRTIO_CONSOLE_F_EMERG_WRITE));
    expect(rig.t.read(R.MMIO_CONFIG, 2)).toBe(132);
    expect(rig.t.read(R.MMIO_CONFIG + 2, 2)).toBe(43);
    rig.w(R.MMIO_QUEUE_SEL, 2);
    expect(rig.r(R.MMIO_QUEUE_NUM_MAX)).toBe(0); // no MULTIPORT control queues
  });

  it('transmitq: the bytes of every out buffer reach the Console in order', () => {
    const { console, rig } = make();
    const [, tx] = rig.start();
    tx.add([{ addr: rig.put('hello '), len: 6 }]);
    tx.addIndirect([{ addr: rig.put('from '), len: 5 }, { addr: rig.put('hvc0\n'), len: 5 }]);
    tx.kick();
    expect(console.text).toBe('hello from hvc0\n');
    expect(tx.takeUsed()).toEqual([{ id: 0, len: 0 }, { id: 1, len: 0 }]);
    expect(rig.irq.level).toBe(true);
  });

  it('receiveq: input waits for posted buffers, then fills them and interrupts', () => {
    const { console, rig } = make();
    const [rx] = rig.start();
    console.pushInput('ls\n');
    expect(rig.irq.level).toBe(false);
    const buf = rig.alloc(4096);
    rx.add([{ addr: buf, len: 4096, write: true }]);
    rx.kick(); // virtio_console fill_queue() kicks after posting
    expect(rx.takeUsed()).toEqual([{ id: 0, len: 3 }]);
    expect(new TextDecoder().decode(rig.bytes(buf, 3))).toBe('ls\n');
    expect(rig.interrupt()).toBe(R.INT_USED_BUFFER);
    // Input arriving while a buffer is posted goes straight in.
    const buf2 = rig.alloc(2);
    rx.add([{ addr: buf2, len: 2, write: true }]);
    rx.kick();
    console.pushInput('abc');
    expect(rx.takeUsed()).toEqual([{ id: 1, len: 2 }]);
    expect(new TextDecoder().decode(rig.bytes(buf2, 2))).toBe('ab');
    expect(console.hasInput()).toBe(true); // 'c' waits for the next buffer
  });

  it('resize(): new size, ConfigGeneration bumped, configuration interrupt', () => {
    const { dev, rig } = make();
    rig.start();
    const gen = rig.r(R.MMIO_CONFIG_GENERATION);
    dev.resize(100, 30);
    expect(rig.r(R.MMIO_CONFIG_GENERATION)).toBe(gen + 1);
    expect(rig.interrupt()).toBe(R.INT_CONFIG_CHANGE);
    expect([rig.t.read(R.MMIO_CONFIG, 2), rig.t.read(R.MMIO_CONFIG + 2, 2)]).toEqual([100, 30]);
  });

  it('emerg_wr: a config write prints one byte', () => {
    const { console, rig } = make();
    rig.t.write(R.MMIO_CONFIG + 8, 4, 0x21);
    expect(console.text).toBe('!');
  });
});
