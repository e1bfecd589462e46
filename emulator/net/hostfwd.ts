// --hostfwd tcp:HOSTPORT-VM:GUESTPORT: a host program reaches a guest's TCP service. The emulator
// listens on 127.0.0.1:HOSTPORT; each connection a host program makes there becomes a TCP
// connection from the user network's gateway (10.0.2.2, a port of its own from 49152 on) to the
// guest's IPv4 address, port GUESTPORT, over the same Ethernet the guest's virtio-net is on (the
// switch between VMs, or the native NIC). Bytes are copied both ways with flow control (the host
// socket pauses while the guest's window is full; our window shrinks while the host program does
// not read), FIN becomes end() and end() FIN, RST becomes a reset socket and a host error RST.
//
// The guest's address is the one the gateway saw its MAC use (ARP or IPv4, gateway.ts): a host
// connection made before the guest said anything on the network waits for it. The guest needs a
// route to 10.0.2.2 (on 10.0.2.0/24 it has one; on another subnet `ip route add 10.0.2.2 dev eth0`).

import type { Server, Socket } from 'node:net';
import { GATEWAY_IP, GATEWAY_MAC, type Gateway } from './gateway.ts';
import { type Ipv4, macString } from './inet.ts';
import { TcpConnection } from './tcp.ts';
import { parseTcpFrame, sameIp, seqAdd, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, tcpFrame, type TcpSegment } from './tcp-segment.ts';

export interface HostfwdRule {
  /** The spec as given, for messages. */
  spec: string;
  /** 0: any free port (reported by listen()). */
  hostPort: number;
  /** The VM as written (an id, vmN or a VM name); null: the machine's own NIC (--native). */
  vm: string | null;
  guestPort: number;
}

/** A malformed spec or a port that cannot be had: one line for the user. */
export class HostfwdError extends Error {}

const USAGE = 'tcp:HOSTPORT-VM:GUESTPORT (--native: tcp:HOSTPORT-:GUESTPORT)';

/** Parses `tcp:HOSTPORT-VM:GUESTPORT`; the VM part may be empty (the machine's NIC). QEMU's `tcp::8080-:80` is taken too. */
export function parseHostfwd(spec: string): HostfwdRule {
  const bad = (why: string): HostfwdError => new HostfwdError(`--hostfwd '${spec}': ${why}; expected ${USAGE}`);
  const proto = /^([a-z]+):/i.exec(spec);
  if (proto === null) throw bad('no protocol');
  if (proto[1]!.toLowerCase() !== 'tcp') throw bad(`protocol '${proto[1]}' is not forwarded (tcp only)`);
  const m = /^tcp:(?:([^-]*):)?([^-:]*)-([^:]*):(.*)$/i.exec(spec);
  if (m === null) throw bad('not in that form');
  if (m[1] !== undefined && m[1] !== '' && m[1] !== '127.0.0.1') throw bad(`host address '${m[1]}': forwards listen on 127.0.0.1 only`);
  m.splice(1, 1);
  const port = (text: string, what: string, min: number): number => {
    if (!/^\d{1,5}$/.test(text) || Number(text) < min || Number(text) > 65535) throw bad(`${what} '${text}' is not a port number (${min}-65535)`);
    return Number(text);
  };
  const vm = m[2]!;
  if (vm !== '' && !/^[A-Za-z0-9][\w.-]*$/.test(vm)) throw bad(`'${vm}' does not name a VM`);
  return { spec, hostPort: port(m[1]!, 'host port', 0), vm: vm === '' ? null : vm, guestPort: port(m[3]!, 'guest port', 1) };
}

/** The guest end of a rule: its NIC's MAC and a name for messages ("vm1 (gvm1)", "the guest"). */
export interface HostfwdTarget {
  label: string;
  mac: Uint8Array;
}

export interface HostForwarderOptions {
  /** Where notices go (one line each). */
  log?: (line: string) => void;
  /** Frames went to a guest from outside a run slice: the run loop should not sleep on. */
  onActivity?: () => void;
  /** Wall clock in ms (tests). */
  now?: () => number;
}

export interface HostfwdStats {
  accepted: number;
  /** Segments with a bad IP or TCP checksum, or malformed. */
  badSegments: number;
  /** Segments for no connection, answered with RST. */
  strays: number;
}

/** Host socket paused past this many bytes queued toward the guest; resumed under the low mark. */
const SEND_HIGH = 256 * 1024;
const SEND_LOW = 64 * 1024;
/** Our receive window: this much may wait in the host socket's buffer. */
const RECV_BUFFER = 256 * 1024;
const FIRST_PORT = 49152;
const TICK_MS = 200;

interface Flow {
  socket: Socket;
  target: HostfwdTarget;
  guestPort: number;
  gwPort: number;
  guestIp: Uint8Array | null;
  tcp: TcpConnection | null;
  /** Host data that arrived before the guest's address was known. */
  early: Uint8Array[];
  hostEnded: boolean;
}

export class HostForwarder {
  readonly stats: HostfwdStats = { accepted: 0, badSegments: 0, strays: 0 };
  private readonly servers: Server[] = [];
  private readonly flows = new Map<number, Flow>();
  private readonly waiting = new Set<Flow>();
  private readonly noticed = new Set<string>();
  private nextPort = FIRST_PORT;
  private issCounter = 0;
  private ipId = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly now: () => number;
  private closedDown = false;

  constructor(
    private readonly gateway: Gateway,
    private readonly o: HostForwarderOptions = {},
  ) {
    this.now = o.now ?? (() => performance.now());
    gateway.tcp = (frame, ip) => this.segment(frame, ip);
    gateway.onNeighbour = (mac) => this.learned(mac);
  }

  /** Listens for a rule on 127.0.0.1; resolves with the port bound. Rejects with a HostfwdError when it cannot. */
  listen(rule: HostfwdRule, target: HostfwdTarget): Promise<number> {
    return new Promise((resolve, reject) => {
      // (Node's net loaded here, not when the CLI's modules load: most runs forward no port, and
      // with stdout not a pipe nothing else needs it; ~7 ms of start-up on a 2-core machine.)
      const server = process.getBuiltinModule('node:net').createServer({ allowHalfOpen: true, pauseOnConnect: false }, (socket) => this.accept(socket, rule, target));
      server.once('error', (e: NodeJS.ErrnoException) => {
        const why = e.code === 'EADDRINUSE' ? `127.0.0.1:${rule.hostPort} is in use` : e.code === 'EACCES' ? `127.0.0.1:${rule.hostPort}: permission denied` : `127.0.0.1:${rule.hostPort}: ${e.code ?? e.message}`;
        reject(new HostfwdError(`--hostfwd '${rule.spec}': ${why}`));
      });
      server.listen({ host: '127.0.0.1', port: rule.hostPort, exclusive: true }, () => {
        server.removeAllListeners('error');
        server.on('error', (e) => this.o.log?.(`shyper-emu: hostfwd ${rule.spec}: ${e.message}`));
        this.servers.push(server);
        const a = server.address();
        resolve(typeof a === 'object' && a !== null ? a.port : rule.hostPort);
      });
    });
  }

  /** Stops listening and drops every connection. */
  close(): void {
    this.closedDown = true;
    for (const s of this.servers) s.close();
    this.servers.length = 0;
    for (const f of [...this.flows.values(), ...this.waiting]) {
      f.tcp?.abort();
      f.socket.destroy();
    }
    this.flows.clear();
    this.waiting.clear();
    this.stopTimer();
  }

  /** Open connections (established or on the way), for tests. */
  get open(): number {
    return this.flows.size + this.waiting.size;
  }

  // ---- host side ----

  private accept(socket: Socket, rule: HostfwdRule, target: HostfwdTarget): void {
    if (this.closedDown) return void socket.destroy();
    this.stats.accepted++;
    socket.setNoDelay(true);
    const flow: Flow = { socket, target, guestPort: rule.guestPort, gwPort: this.port(), guestIp: null, tcp: null, early: [], hostEnded: false };
    this.flows.set(flow.gwPort, flow);
    socket.on('data', (chunk: Buffer) => {
      const data = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (flow.tcp === null) flow.early.push(data.slice());
      else flow.tcp.write(data, this.now());
      if ((flow.tcp?.buffered ?? flow.early.reduce((n, b) => n + b.length, 0)) > SEND_HIGH) socket.pause();
      this.o.onActivity?.();
    });
    socket.on('end', () => {
      flow.hostEnded = true;
      flow.tcp?.close(this.now());
      this.o.onActivity?.();
    });
    socket.on('drain', () => flow.tcp?.windowUpdate());
    socket.on('error', () => {}); // 'close' follows
    socket.on('close', (hadError) => {
      const tcp = flow.tcp;
      if (tcp !== null && tcp.state !== 'closed' && (hadError || !flow.hostEnded)) {
        // The host program went away without closing its side: the guest's connection is reset.
        tcp.abort();
      } else if (tcp !== null && tcp.state !== 'closed') {
        // It closed its side and the guest had closed its own: what the host sent still goes
        // to the guest, then our FIN; the connection is forgotten once it closes.
        this.o.onActivity?.();
        return;
      }
      this.forget(flow);
      this.o.onActivity?.();
    });
    const ip = this.gateway.neighbours.get(macString(target.mac));
    if (ip !== undefined) this.start(flow, ip);
    else {
      this.waiting.add(flow);
      this.flows.delete(flow.gwPort);
      const key = macString(target.mac);
      if (!this.noticed.has(key)) {
        this.noticed.add(key);
        this.o.log?.(`shyper-emu: hostfwd ${rule.spec}: waiting for ${target.label} (MAC ${key}) to use its IPv4 address on the network (e.g. ping 10.0.2.2)`);
      }
    }
  }

  private learned(mac: string): void {
    for (const f of [...this.waiting]) {
      if (macString(f.target.mac) !== mac) continue;
      this.waiting.delete(f);
      if (f.socket.destroyed) continue;
      this.flows.set(f.gwPort, f);
      this.start(f, this.gateway.neighbours.get(mac)!);
    }
  }

  private start(flow: Flow, ip: Uint8Array): void {
    flow.guestIp = Uint8Array.from(ip);
    const tcp = new TcpConnection({
      iss: (Math.imul(++this.issCounter, 0x9e3779b1) ^ 0x5eed0000) >>> 0,
      rto: 1000,
      emit: (seg) => {
        this.gateway.send(tcpFrame({ srcMac: GATEWAY_MAC, dstMac: flow.target.mac, srcIp: GATEWAY_IP, dstIp: flow.guestIp!, srcPort: flow.gwPort, dstPort: flow.guestPort, ipId: this.ipId++, ...seg }));
      },
      receiveWindow: () => RECV_BUFFER - flow.socket.writableLength,
      onData: (d) => {
        if (flow.socket.writable) flow.socket.write(d);
      },
      onEnd: () => {
        if (flow.socket.writable) flow.socket.end();
      },
      onReset: () => {
        const s = flow.socket as Socket & { resetAndDestroy?: () => void };
        if (s.resetAndDestroy && !s.destroyed) s.resetAndDestroy();
        else s.destroy();
      },
      onClosed: () => this.forget(flow),
      onSendSpace: () => {
        if (tcp.buffered < SEND_LOW && flow.socket.isPaused()) flow.socket.resume();
      },
    });
    flow.tcp = tcp;
    tcp.connect(this.now());
    for (const d of flow.early) tcp.write(d);
    flow.early = [];
    if (flow.hostEnded) tcp.close();
    this.startTimer();
    this.o.onActivity?.();
  }

  private forget(flow: Flow): void {
    this.waiting.delete(flow);
    if (this.flows.get(flow.gwPort) === flow) this.flows.delete(flow.gwPort);
    if (this.flows.size === 0) this.stopTimer();
  }

  private port(): number {
    for (;;) {
      const p = this.nextPort;
      this.nextPort = p === 65535 ? FIRST_PORT : p + 1;
      if (!this.flows.has(p) && ![...this.waiting].some((f) => f.gwPort === p)) return p;
    }
  }

  private startTimer(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      const now = this.now();
      for (const f of [...this.flows.values()]) f.tcp?.tick(now);
    }, TICK_MS);
    this.timer.unref?.();
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  // ---- guest side ----

  /** A TCP segment to 10.0.2.2 (the gateway checked the IPv4 header). Never throws on what a guest sends. */
  segment(frame: Uint8Array, ip: Ipv4): void {
    const seg = parseTcpFrame(frame, ip);
    if (seg === null) {
      this.stats.badSegments++;
      return;
    }
    const flow = this.flows.get(seg.dstPort);
    if (flow === undefined || flow.tcp === null || flow.guestPort !== seg.srcPort || !sameIp(flow.guestIp!, seg.srcIp) || !sameIp(flow.target.mac, frame.subarray(6, 12))) {
      return this.stray(frame, seg);
    }
    flow.tcp.input(seg, this.now());
  }

  /** A segment for no connection: RST (RFC 9293 §3.10.7.1), unless it is one. */
  private stray(frame: Uint8Array, seg: TcpSegment): void {
    this.stats.strays++;
    if (seg.flags & TCP_RST) return;
    const len = seg.data.length + (seg.flags & TCP_SYN ? 1 : 0) + (seg.flags & TCP_FIN ? 1 : 0);
    const base = { srcMac: GATEWAY_MAC, dstMac: frame.subarray(6, 12), srcIp: GATEWAY_IP, dstIp: seg.srcIp, srcPort: seg.dstPort, dstPort: seg.srcPort, window: 0, ipId: this.ipId++ };
    if (seg.flags & TCP_ACK) this.gateway.send(tcpFrame({ ...base, seq: seg.ack, ack: 0, flags: TCP_RST }));
    else this.gateway.send(tcpFrame({ ...base, seq: 0, ack: seqAdd(seg.seq, len), flags: TCP_RST | TCP_ACK }));
  }
}

