// src/terminal.ts: the guest console on our stdout. Node makes process.stdout and process.stdin on
// first use (on a pipe: its net module and two streams), so the Terminal takes them only when the
// boot attaches it (after the machine is made) or at the first output.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Terminal } from '../../src/terminal.ts';

afterEach(() => vi.restoreAllMocks());

describe('Terminal', () => {
  it('takes stdout only when attached, once, and lets it go at close', () => {
    const on = vi.spyOn(process.stdout, 'on');
    const off = vi.spyOn(process.stdout, 'off');
    const t = new Terminal({ onQuit: () => {}, input: false });
    expect(on).not.toHaveBeenCalled();
    t.attach();
    t.attach();
    expect(on.mock.calls.filter((c) => (c[0] as string) === 'error')).toHaveLength(1);
    t.close();
    expect(off.mock.calls.filter((c) => (c[0] as string) === 'error')).toHaveLength(1);
  });

  it('attaches at the first output it writes, and writes it', () => {
    const on = vi.spyOn(process.stdout, 'on');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const seen: number[] = [];
    const t = new Terminal({ onQuit: () => {}, input: false, onOutput: (b) => seen.push(b) });
    for (const b of Buffer.from('hi\n')) t.console.write(b);
    expect(on).not.toHaveBeenCalled();
    t.flush();
    expect(on.mock.calls.filter((c) => (c[0] as string) === 'error')).toHaveLength(1);
    expect(Buffer.concat(write.mock.calls.map((c) => Buffer.from(c[0] as Uint8Array))).toString()).toBe('hi\n');
    expect(seen).toEqual([0x68, 0x69, 0x0a]);
    t.close();
  });

  it('closes without having taken stdout when it never wrote', () => {
    const off = vi.spyOn(process.stdout, 'off');
    new Terminal({ onQuit: () => {}, input: false }).close();
    expect(off).not.toHaveBeenCalled();
  });
});
