// --hostfwd (emulator/net/hostfwd.ts + src/net-user.ts): a real host client on 127.0.0.1 talks to
// a scripted guest behind the gateway; the guest's address is learned from its ARP; segments for no
// connection get a RST; malformed frames never throw; the command line refuses bad rules in one line.
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Gateway, GATEWAY_MAC } from '../../emulator/net/gateway.ts';
import { HostForwarder, HostfwdError, parseHostfwd } from '../../emulator/net/hostfwd.ts';
import { parseTcpFrame, seqAdd, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, tcpFrame, type TcpSegment } from '../../emulator/net/tcp-segment.ts';
import { expectNoCrash, runCli } from '../cli/run-cli.ts';

const GUEST_MAC = Uint8Array.of(0x02, 0x53, 0x48, 0x59, 1, 0);
const GUEST_IP = Uint8Array.of(10, 0, 0, 2);
const GW_IP = Uint8Array.of(10, 0, 2, 2);

function arpRequest(): Uint8Array {
  const f = new Uint8Array(42);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...GUEST_MAC, 0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1, ...GUEST_MAC, ...GUEST_IP, 0, 0, 0, 0, 0, 0, ...GW_IP]);
  return f;
}

/**
 * A guest service on port 80, scripted: answers the SYN, collects data until FIN, then answers
 * `reply(request)` and its own FIN. Every frame it gets is checked (checksums) by parseTcpFrame.
 */
class ScriptedGuest {
  readonly seen: TcpSegment[] = [];
  readonly got: number[] = [];
  iss = 0x7000_0000;
  nxt = 0;
  rcv = 0;
  constructor(
    private readonly gw: Gateway,
    private readonly reply: (req: string) => string,
    /** Close its side right after the handshake (a service that only reads). */
    private readonly finFirst = false,
    /** Answer after this many ms (a slow guest) instead of at once. */
    private readonly delayMs = 0,
  ) {}

  frame(f: Uint8Array): void {
    if (f[12] === 0x08 && f[13] === 0x06) return; // an ARP answer
    const s = parseTcpFrame(f);
    expect(s, 'a frame from the gateway with good checksums').not.toBeNull();
    this.seen.push(s!);
    if (s!.dstPort !== 80) return;
    if (s!.flags & TCP_SYN) {
      this.rcv = seqAdd(s!.seq, 1);
      this.nxt = seqAdd(this.iss, 1);
      this.send(s!, this.iss, TCP_SYN | TCP_ACK);
      if (this.finFirst) {
        this.send(s!, this.nxt, TCP_FIN | TCP_ACK);
        this.nxt = seqAdd(this.nxt, 1);
      }
      return;
    }
    if (s!.flags & TCP_RST) return;
    if (s!.data.length > 0 && s!.seq === this.rcv) {
      this.got.push(...s!.data);
      this.rcv = seqAdd(this.rcv, s!.data.length);
      this.send(s!, this.nxt, TCP_ACK);
    }
    if (s!.flags & TCP_FIN && seqAdd(s!.seq, s!.data.length) === this.rcv) {
      this.rcv = seqAdd(this.rcv, 1);
      if (this.finFirst) return this.send(s!, this.nxt, TCP_ACK);
      const data = Buffer.from(this.reply(Buffer.from(this.got).toString()));
      this.send(s!, this.nxt, TCP_ACK, data);
      this.nxt = seqAdd(this.nxt, data.length);
      this.send(s!, this.nxt, TCP_FIN | TCP_ACK);
      this.nxt = seqAdd(this.nxt, 1);
    }
  }

  private send(to: TcpSegment, seq: number, flags: number, data?: Uint8Array): void {
    const f = tcpFrame({ srcMac: GUEST_MAC, dstMac: GATEWAY_MAC, srcIp: GUEST_IP, dstIp: GW_IP, srcPort: 80, dstPort: to.srcPort, seq, ack: this.rcv, flags, window: 8192, mss: flags & TCP_SYN ? 1460 : undefined, data });
    // As the guest's NIC would: from outside the gateway's own call stack.
    if (this.delayMs > 0) setTimeout(() => this.gw.receive(f), this.delayMs);
    else queueMicrotask(() => this.gw.receive(f));
  }
}

/** Sends `text`, half-closes, resolves with everything read until the guest closes. */
function request(port: number, text: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d));
    s.on('end', () => resolve(got));
    s.on('error', reject);
    s.end(text);
  });
}

describe('--hostfwd specs', () => {
  it('takes tcp:HOSTPORT-VM:GUESTPORT, an empty VM part, and QEMU\'s tcp::H-:G', () => {
    expect(parseHostfwd('tcp:8080-1:80')).toMatchObject({ hostPort: 8080, vm: '1', guestPort: 80 });
    expect(parseHostfwd('tcp:8080-vm2:22')).toMatchObject({ hostPort: 8080, vm: 'vm2', guestPort: 22 });
    expect(parseHostfwd('tcp:0-gvm1:65535')).toMatchObject({ hostPort: 0, vm: 'gvm1', guestPort: 65535 });
    expect(parseHostfwd('tcp:8080-:80')).toMatchObject({ hostPort: 8080, vm: null, guestPort: 80 });
    expect(parseHostfwd('tcp::8080-:80')).toMatchObject({ hostPort: 8080, vm: null, guestPort: 80 });
    expect(parseHostfwd('tcp:127.0.0.1:8080-:80')).toMatchObject({ hostPort: 8080, vm: null, guestPort: 80 });
  });

  it('refuses other forms with a message naming the spec and the expected form', () => {
    for (const [spec, why] of [
      ['udp:53-1:53', /protocol 'udp' is not forwarded \(tcp only\)/],
      ['8080-1:80', /no protocol/],
      ['tcp:8080', /not in that form/],
      ['tcp:8080-1', /not in that form/],
      ['tcp:70000-1:80', /host port '70000' is not a port number/],
      ['tcp:-1:80', /host port '' is not a port number/],
      ['tcp:8080-1:0', /guest port '0' is not a port number/],
      ['tcp:8080-1:x', /guest port 'x' is not a port number/],
      ['tcp:8080-a b:80', /'a b' does not name a VM/],
      ['tcp:1.2.3.4:8080-:80', /host address '1.2.3.4': forwards listen on 127.0.0.1 only/],
    ] as const) {
      expect(() => parseHostfwd(spec), spec).toThrow(HostfwdError);
      expect(() => parseHostfwd(spec), spec).toThrow(why);
      expect(() => parseHostfwd(spec), spec).toThrow(/expected tcp:HOSTPORT-VM:GUESTPORT/);
    }
  });
});

describe('HostForwarder', () => {
  it('a host connection made before the guest spoke waits for its ARP, then carries bytes both ways and closes cleanly', async () => {
    const gw = new Gateway();
    const guest = new ScriptedGuest(gw, (req) => `you said: ${req}`);
    gw.send = (f) => guest.frame(f);
    const fwd = new HostForwarder(gw);
    const port = await fwd.listen(parseHostfwd('tcp:0-1:80'), { label: 'vm1', mac: GUEST_MAC });
    try {
      const answer = request(port, 'hello guest');
      await new Promise((r) => setTimeout(r, 50));
      expect(guest.seen).toHaveLength(0); // no address yet
      expect(fwd.open).toBe(1);
      gw.receive(arpRequest());
      expect(await answer).toBe('you said: hello guest');
      const syn = guest.seen[0]!;
      expect(syn.flags).toBe(TCP_SYN);
      expect(Array.from(syn.srcIp)).toEqual([10, 0, 2, 2]);
      expect(Array.from(syn.dstIp)).toEqual([10, 0, 0, 2]);
      expect(syn.srcPort).toBeGreaterThanOrEqual(49152);
      // The gateway acknowledged the guest's FIN and sent its own.
      await new Promise((r) => setTimeout(r, 50));
      expect(guest.seen.some((s) => s.flags & TCP_FIN)).toBe(true);
      expect(guest.seen.at(-1)!.ack).toBe(guest.nxt);
      expect(fwd.stats).toMatchObject({ accepted: 1, badSegments: 0, strays: 0 });
    } finally {
      fwd.close();
    }
  });

  it('carries 1 MiB from the host through a guest window of 8 KiB, in order', async () => {
    const gw = new Gateway();
    const guest = new ScriptedGuest(gw, (req) => `${req.length}`);
    gw.send = (f) => guest.frame(f);
    const fwd = new HostForwarder(gw);
    gw.receive(arpRequest());
    const port = await fwd.listen(parseHostfwd('tcp:0-1:80'), { label: 'vm1', mac: GUEST_MAC });
    try {
      const big = Buffer.from(Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 31 + (i >> 11)) & 0xff));
      const answer = await request(port, big);
      expect(guest.got.length).toBe(big.length);
      expect(Buffer.from(guest.got).equals(big)).toBe(true);
      expect(answer).toBe(`${Buffer.from(guest.got).toString().length}`);
      expect(Math.max(...guest.seen.map((s) => s.data.length))).toBeLessThanOrEqual(1460);
    } finally {
      fwd.close();
    }
  });

  it('a guest that closed its side first still gets everything the host sent before closing', async () => {
    const gw = new Gateway();
    const guest = new ScriptedGuest(gw, () => '', true, 5);
    gw.send = (f) => guest.frame(f);
    const fwd = new HostForwarder(gw);
    gw.receive(arpRequest());
    const port = await fwd.listen(parseHostfwd('tcp:0-1:80'), { label: 'vm1', mac: GUEST_MAC });
    try {
      const data = Buffer.from(Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7) & 0xff));
      expect(await request(port, data)).toBe('');
      // The host socket is gone by now; the forward keeps the connection until the guest has it all.
      for (let i = 0; i < 100 && fwd.open > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(guest.got.length).toBe(data.length);
      expect(Buffer.from(guest.got).equals(data)).toBe(true);
      expect(guest.seen.filter((s) => s.flags & TCP_RST)).toHaveLength(0);
      expect(guest.seen.at(-1)!.flags & TCP_FIN).toBe(TCP_FIN);
      expect(fwd.open).toBe(0);
    } finally {
      fwd.close();
    }
  });

  it('a guest that refuses (RST) resets the host connection', async () => {
    const gw = new Gateway();
    gw.receive(arpRequest());
    gw.send = (f) => {
      const s = parseTcpFrame(f);
      if (s && s.flags & TCP_SYN) queueMicrotask(() => gw.receive(tcpFrame({ srcMac: GUEST_MAC, dstMac: GATEWAY_MAC, srcIp: GUEST_IP, dstIp: GW_IP, srcPort: 80, dstPort: s.srcPort, seq: 0, ack: seqAdd(s.seq, 1), flags: TCP_RST | TCP_ACK, window: 0 })));
    };
    const fwd = new HostForwarder(gw);
    const port = await fwd.listen(parseHostfwd('tcp:0-1:80'), { label: 'vm1', mac: GUEST_MAC });
    try {
      const err = await new Promise<string>((resolve) => {
        const s = connect(port, '127.0.0.1');
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        s.on('close', () => resolve('closed'));
      });
      expect(err).toBe('ECONNRESET');
      expect(fwd.open).toBe(0);
    } finally {
      fwd.close();
    }
  });

  it('answers a segment for no connection with RST; bad checksums and random frames are dropped without throwing', async () => {
    const gw = new Gateway();
    const sent: Uint8Array[] = [];
    gw.send = (f) => void sent.push(f);
    const fwd = new HostForwarder(gw);
    const stray = tcpFrame({ srcMac: GUEST_MAC, dstMac: GATEWAY_MAC, srcIp: GUEST_IP, dstIp: GW_IP, srcPort: 5555, dstPort: 40000, seq: 100, ack: 0, flags: TCP_SYN, window: 100 });
    gw.receive(stray);
    const rst = parseTcpFrame(sent[0]!)!;
    expect(rst.flags).toBe(TCP_RST | TCP_ACK);
    expect(rst.ack).toBe(101);
    expect([rst.srcPort, rst.dstPort]).toEqual([40000, 5555]);
    const bad = stray.slice();
    bad[50] ^= 1;
    gw.receive(bad);
    expect(fwd.stats.badSegments).toBe(1);
    expect(sent).toHaveLength(1);
    // Mutated frames (seeded) of every kind the gateway reads — TCP to it, ARP, frames cut short,
    // the ethertype changed: never an exception, and the mutations do reach the parsers.
    let x = 12345;
    const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) & 0xff;
    const bases = [stray, arpRequest()];
    const before = { ...fwd.stats };
    for (let i = 0; i < 6000; i++) {
      const base = bases[i % 2]!;
      const f = base.slice(0, 12 + (rnd() % (base.length - 11)));
      for (let k = rnd() % 6; k > 0; k--) f[12 + (rnd() % Math.max(1, f.length - 12))] = rnd();
      expect(() => gw.receive(f)).not.toThrow();
    }
    expect(fwd.stats.badSegments - before.badSegments).toBeGreaterThan(20);
    expect(gw.stats.arpReplies).toBeGreaterThan(20);
    fwd.close();
  });

  it('a host port in use is a HostfwdError naming it', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    const fwd = new HostForwarder(new Gateway());
    try {
      await expect(fwd.listen(parseHostfwd(`tcp:${port}-1:80`), { label: 'vm1', mac: GUEST_MAC })).rejects.toThrow(`--hostfwd 'tcp:${port}-1:80': 127.0.0.1:${port} is in use`);
    } finally {
      fwd.close();
      busy.close();
    }
  });
});

describe('--hostfwd on the command line', () => {
  it('bad rules, a missing --net user, a VM without a NIC, a busy port: one line, exit 2', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    try {
      for (const [args, line] of [
        [['--hostfwd', 'udp:1-1:2'], /^shyper-emu: --hostfwd 'udp:1-1:2': protocol 'udp' is not forwarded/],
        [['--hostfwd', 'tcp:1-1:2'], /^shyper-emu: --hostfwd forwards into the user network: add --net user$/],
        [['--native', '--net', 'user', '--hostfwd', 'tcp:0-1:80'], /^shyper-emu: --hostfwd 'tcp:0-1:80': a --native boot has one NIC: leave the VM part empty \(tcp:0-:80\)$/],
        [['--board', 'qemu-virt', '--net', 'user', '--hostfwd', 'tcp:0-:80'], /^shyper-emu: --hostfwd 'tcp:0-:80': name the VM/],
        // The default run starts the MVM alone (it creates the GVMs later); --config names a set.
        [['--board', 'qemu-virt', '--net', 'user', '--hostfwd', 'tcp:0-vm9:80'], /^shyper-emu: --hostfwd 'tcp:0-vm9:80': no VM 'vm9' in the VM set \(vm0 "mvm"\)$/],
        [['--board', 'qemu-virt', '--config', 'boards/vms/qemu-virt.json', '--net', 'user', '--hostfwd', 'tcp:0-vm9:80'], /^shyper-emu: --hostfwd 'tcp:0-vm9:80': no VM 'vm9' in the VM set \(vm0 "mvm", vm1 "gvm1", vm2 "gvm2"\)$/],
        [['--board', 'qemu-virt', '--config', 'boards/vms/qemu-virt.json', '--net', 'user', '--hostfwd', 'tcp:0-gvm1:80'], /^shyper-emu: --hostfwd 'tcp:0-gvm1:80': vm 1 "gvm1" has no virtio-net/],
        [['--board', 'qemu-virt', '--native', '--net', 'user', '--hostfwd', `tcp:${port}-:80`], new RegExp(`^shyper-emu: --hostfwd 'tcp:${port}-:80': 127\\.0\\.0\\.1:${port} is in use$`)],
      ] as const) {
        const r = await runCli([...args, '--timeout', '30']);
        expectNoCrash(r, args.join(' '));
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
        expect(r.stderr.trimEnd(), args.join(' ')).toMatch(line);
      }
    } finally {
      busy.close();
    }
  });
});
