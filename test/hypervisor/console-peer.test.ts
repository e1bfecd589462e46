// virtio-console endpoints: the VM's terminal line, Rust-Shyper's peer mode (what one console
// transmits the other receives), both for a VM's main console in peer mode.
import { describe, expect, it } from 'vitest';
import { BufferConsole, HostConsole } from '../../emulator/devices/console.ts';
import { ConsoleMux } from '../../src/console-mux.ts';
import { ConsolePeers, PEER_BACKLOG } from '../../hypervisor/devices/console-peer.ts';

const drain = (c: { read(): number }): string => {
  let s = '';
  for (let b = c.read(); b >= 0; b = c.read()) s += String.fromCharCode(b);
  return s;
};

describe('console endpoints', () => {
  it('without a peer: output to the terminal line, input from its keyboard', () => {
    const term = new BufferConsole();
    const e = new ConsolePeers().endpoint({ vm: 1, ipa: 0xa002000, terminal: term, keyboard: true });
    let told = 0;
    e.setInputListener(() => told++);
    e.writeBytes(new TextEncoder().encode('hi\n'));
    expect(term.text).toBe('hi\n');
    term.pushInput('ls\n');
    expect(told).toBe(1);
    expect(drain(e)).toBe('ls\n');
  });

  it('peers: TX of one is RX of the other, the receiver told at once; a main console also keeps its terminal line', () => {
    const peers = new ConsolePeers();
    const term = new BufferConsole();
    const mvm = peers.endpoint({ vm: 0, ipa: 0xa002000, peer: { vm: 1, ipa: 0xa003000 } });
    const gvm = peers.endpoint({ vm: 1, ipa: 0xa003000, peer: { vm: 0, ipa: 0xa002000 }, terminal: term, keyboard: true });
    let toldMvm = 0;
    let toldGvm = 0;
    mvm.setInputListener(() => toldMvm++);
    gvm.setInputListener(() => toldGvm++);
    gvm.writeBytes(new TextEncoder().encode('login: '));
    expect(toldMvm).toBe(1);
    expect(term.text).toBe('login: ');
    expect(drain(mvm)).toBe('login: ');
    mvm.write(0x72);
    term.pushInput('x');
    expect(toldGvm).toBe(2);
    expect(drain(gvm)).toBe('rx'); // the peer's bytes first, then the keyboard
  });

  it('a peer that does not exist discards; a backlog past its bound drops the rest', () => {
    const peers = new ConsolePeers();
    const lonely = peers.endpoint({ vm: 0, ipa: 0xa002000, peer: { vm: 5, ipa: 0xa002000 } });
    expect(() => lonely.write(0x41)).not.toThrow();
    const a = peers.endpoint({ vm: 1, ipa: 0x1000, peer: { vm: 2, ipa: 0x1000 } });
    const b = peers.endpoint({ vm: 2, ipa: 0x1000 });
    a.writeBytes(new Uint8Array(PEER_BACKLOG + 10).fill(0x61));
    expect(b.dropped).toBe(10);
    expect(drain(b).length).toBe(PEER_BACKLOG);
    expect(() => peers.endpoint({ vm: 2, ipa: 0x1000 })).toThrow('vm 2: two consoles at IPA 0x1000');
  });

  it('through the multiplexer: a GVM\'s hvc0 gets the keyboard once the VM has focus (Ctrl-A 1), and its lines the [vm1] prefix', () => {
    let screen = '';
    const sink = new HostConsole((b) => (screen += String.fromCharCode(b)));
    const mux = new ConsoleMux(sink, { interactive: false, prefix: true });
    mux.console(0);
    const hvc0 = new ConsolePeers().endpoint({ vm: 1, ipa: 0xa002000, terminal: mux.console(1), keyboard: true });
    let told = 0;
    hvc0.setInputListener(() => told++);
    sink.pushInput('for vm0\n');
    expect([told, hvc0.hasInput()]).toEqual([0, false]);
    while (sink.read() >= 0);
    mux.select(1);
    sink.pushInput('ls\n');
    expect(told).toBe(1);
    expect(drain(hvc0)).toBe('ls\n');
    hvc0.writeBytes(new TextEncoder().encode('bin dev\n'));
    expect(screen).toContain('[vm1] bin dev\n');
  });
});
