import { describe, expect, it } from 'vitest';
import { BufferConsole, HostConsole } from '../../emulator/devices/console.ts';

describe('console', () => {
  it('queues host input in order, beyond its initial size, and notifies once per push', () => {
    const c = new HostConsole();
    let notified = 0;
    c.setInputListener(() => notified++);
    const big = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    c.pushInput(big.subarray(0, 3));
    c.pushInput(big.subarray(3));
    expect(notified).toBe(2);
    expect(c.pendingInput).toBe(1000);
    const got: number[] = [];
    while (c.hasInput()) got.push(c.read());
    expect(got).toEqual([...big]);
    expect(c.read()).toBe(-1);
  });

  it('sends output to its sink; the buffer console decodes UTF-8', () => {
    const seen: number[] = [];
    new HostConsole((b) => seen.push(b)).write(0x141);
    expect(seen).toEqual([0x41]);
    const b = new BufferConsole();
    for (const byte of new TextEncoder().encode('héllo')) b.write(byte);
    expect(b.text).toBe('héllo');
    expect(b.output.length).toBe(6);
    b.pushInput('ü');
    expect([b.read(), b.read()]).toEqual([0xc3, 0xbc]);
  });
});
