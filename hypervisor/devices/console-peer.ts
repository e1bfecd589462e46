// What a VM's virtio-console is connected to. Rust-Shyper's peer mode (src/device/virtio/
// console.rs): a console whose cfg is [peer vm, peer console IPA] sends what its driver transmits
// into the receive queue of that other VM's console — the MVM reads a GVM's hvc0 as one of its
// own hvcN and types into it. Without a peer the console is the VM's line on the terminal (the
// program's console multiplexer). The VM's main console keeps its terminal line in peer mode
// too: its output is shown there as well, and the keyboard reaches it besides the peer.
//
// Each console is a ConsoleEndpoint (the Console its virtio-console device talks to); endpoints
// find their peers by (VM id, IPA) in a ConsolePeers registry when bytes flow, so VMs may be
// built in any order and a peer that does not exist simply discards.

/**
 * A byte stream with input, shaped as the emulator's Console (emulator/devices/console.ts), which
 * the hypervisor does not import: a VM's terminal line, and what a virtio-console model talks to.
 */
export interface ConsoleLine {
  write(byte: number): void;
  writeBytes?(data: Uint8Array): void;
  /** The next input byte, -1 when none. */
  read(): number;
  hasInput(): boolean;
  setInputListener(listener: (() => void) | null): void;
}

/** Bytes held for a console whose driver has not taken them yet; more are dropped. */
export const PEER_BACKLOG = 64 * 1024;

export interface ConsoleEndpointOptions {
  vm: number;
  ipa: number;
  /** The VM's terminal line: output is copied there. */
  terminal?: ConsoleLine;
  /** Keyboard input from the terminal line reaches this console (the VM's main console). */
  keyboard?: boolean;
  /** Peer mode: the console that receives what this one transmits. */
  peer?: { vm: number; ipa: number };
}

export class ConsolePeers {
  private readonly endpoints = new Map<string, ConsoleEndpoint>();

  /** A console of VM `vm` at IPA `ipa`, registered for peers to find. */
  endpoint(o: ConsoleEndpointOptions): ConsoleEndpoint {
    const key = `${o.vm}:${o.ipa}`;
    if (this.endpoints.has(key)) throw new Error(`vm ${o.vm}: two consoles at IPA 0x${o.ipa.toString(16)}`);
    const e = new ConsoleEndpoint(o, this);
    this.endpoints.set(key, e);
    return e;
  }

  find(vm: number, ipa: number): ConsoleEndpoint | undefined {
    return this.endpoints.get(`${vm}:${ipa}`);
  }
}

export class ConsoleEndpoint implements ConsoleLine {
  private inbox = new Uint8Array(1024);
  private head = 0;
  private count = 0;
  private listener: (() => void) | null = null;
  /** Bytes a peer sent that did not fit the backlog. */
  dropped = 0;

  constructor(
    readonly opts: ConsoleEndpointOptions,
    private readonly peers: ConsolePeers,
  ) {}

  write(byte: number): void {
    this.writeBytes(Uint8Array.of(byte & 0xff));
  }

  writeBytes(data: Uint8Array): void {
    const t = this.opts.terminal;
    if (t !== undefined) {
      if (t.writeBytes) t.writeBytes(data);
      else for (const b of data) t.write(b);
    }
    const p = this.opts.peer;
    if (p !== undefined) this.peers.find(p.vm, p.ipa)?.deliver(data);
  }

  /** Bytes from a peer: queued for this console's driver, which is told at once. */
  deliver(data: Uint8Array): void {
    const room = PEER_BACKLOG - this.count;
    const n = Math.min(room, data.length);
    this.dropped += data.length - n;
    if (n === 0) return;
    if (this.count + n > this.inbox.length) this.grow(this.count + n);
    for (let i = 0; i < n; i++) this.inbox[(this.head + this.count + i) % this.inbox.length] = data[i]!;
    this.count += n;
    this.listener?.();
  }

  read(): number {
    if (this.count > 0) {
      const b = this.inbox[this.head]!;
      this.head = (this.head + 1) % this.inbox.length;
      this.count--;
      return b;
    }
    return this.opts.keyboard && this.opts.terminal ? this.opts.terminal.read() : -1;
  }

  hasInput(): boolean {
    return this.count > 0 || (this.opts.keyboard === true && this.opts.terminal?.hasInput() === true);
  }

  setInputListener(listener: (() => void) | null): void {
    this.listener = listener;
    if (this.opts.keyboard) this.opts.terminal?.setInputListener(listener);
  }

  private grow(need: number): void {
    let size = this.inbox.length;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    for (let i = 0; i < this.count; i++) next[i] = this.inbox[(this.head + i) % this.inbox.length]!;
    this.inbox = next;
    this.head = 0;
  }
}
