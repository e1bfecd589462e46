// The user network's TCP (emulator/net/tcp.ts) against a scripted peer: every segment it emits
// goes through the real frame builder and parser (so checksums are checked on the way), the peer's
// answers are built by hand with the sequence numbers RFC 9293 prescribes.
import { describe, expect, it } from 'vitest';
import { parseTcpFrame, seqAdd, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, tcpFrame, type TcpSegment } from '../../emulator/net/tcp-segment.ts';
import { type TcpConnectionOptions, TcpConnection, type TcpEmit } from '../../emulator/net/tcp.ts';

const A = Uint8Array.of(10, 0, 2, 2);
const B = Uint8Array.of(10, 0, 0, 2);
const MAC = Uint8Array.of(2, 0, 0, 0, 0, 1);
const ISS = 1000;
const PEER_ISS = 0xfffffff0; // wraps during the tests

/** Through the wire format and back: what the peer would receive. */
function wire(e: TcpEmit, from = A, to = B, sport = 49152, dport = 80): TcpSegment {
  const s = parseTcpFrame(tcpFrame({ srcMac: MAC, dstMac: MAC, srcIp: from, dstIp: to, srcPort: sport, dstPort: dport, ...e }));
  expect(s).not.toBeNull();
  return s!;
}

function rig(over: Partial<TcpConnectionOptions> = {}) {
  const out: TcpSegment[] = [];
  const got: Uint8Array[] = [];
  const events: string[] = [];
  let window = 65535;
  const c = new TcpConnection({
    iss: ISS,
    emit: (e) => void out.push(wire(e)),
    receiveWindow: () => window,
    onConnected: () => void events.push('connected'),
    onData: (d) => void got.push(d.slice()),
    onEnd: () => void events.push('end'),
    onReset: (why) => void events.push(`reset: ${why}`),
    onClosed: () => void events.push('closed'),
    ...over,
  });
  /** A segment from the peer. */
  const peer = (s: { seq: number; ack?: number; flags: number; window?: number; data?: number[] | Uint8Array; mss?: number }, now = 0) =>
    c.input(wire({ seq: s.seq, ack: s.ack ?? 0, flags: s.flags, window: s.window ?? 65535, data: s.data ? Uint8Array.from(s.data) : undefined, mss: s.mss }, B, A, 80, 49152), now);
  const text = () => Buffer.concat(got).toString();
  const setWindow = (w: number) => (window = w);
  return { c, out, got, events, peer, text, setWindow };
}

/** A connection through its handshake; the peer's next sequence number is PEER_ISS + 1. */
function established(mss = 1000, peerWindow = 65535) {
  const r = rig();
  r.c.connect(0);
  r.peer({ seq: PEER_ISS, ack: ISS + 1, flags: TCP_SYN | TCP_ACK, window: peerWindow, mss });
  r.out.length = 0;
  r.events.length = 0;
  return r;
}

const P1 = seqAdd(PEER_ISS, 1);

describe('TCP: opening', () => {
  it('SYN with the MSS option; SYN-ACK → ACK of the peer ISS + 1, established', () => {
    const r = rig();
    r.c.connect(0);
    expect(r.out).toHaveLength(1);
    expect(r.out[0]!.flags).toBe(TCP_SYN);
    expect(r.out[0]!.seq).toBe(ISS);
    expect(r.out[0]!.mss).toBe(1460);
    r.peer({ seq: PEER_ISS, ack: ISS + 1, flags: TCP_SYN | TCP_ACK, mss: 1400 });
    expect(r.c.state).toBe('established');
    expect(r.events).toEqual(['connected']);
    expect(r.out[1]!.flags).toBe(TCP_ACK);
    expect(r.out[1]!.seq).toBe(ISS + 1);
    expect(r.out[1]!.ack).toBe(P1);
  });

  it('a RST answering the SYN (port closed) resets; a SYN-ACK acknowledging something else gets a RST', () => {
    const r = rig();
    r.c.connect(0);
    r.peer({ seq: 0, ack: ISS + 2, flags: TCP_SYN | TCP_ACK });
    expect(r.out.at(-1)!.flags).toBe(TCP_RST);
    expect(r.out.at(-1)!.seq).toBe(ISS + 2);
    expect(r.c.state).toBe('syn-sent');
    r.peer({ seq: 0, ack: ISS + 1, flags: TCP_RST | TCP_ACK });
    expect(r.c.state).toBe('closed');
    expect(r.events).toEqual(['reset: refused by the guest', 'closed']);
  });

  it('resends the SYN with a doubling timeout, then gives up', () => {
    const r = rig();
    r.c.connect(0);
    let t = 0;
    for (const wait of [1000, 2000, 4000, 8000, 16000]) {
      r.c.tick((t += wait - 1));
      const n = r.out.length;
      r.c.tick((t += 1));
      expect(r.out.length).toBe(n + 1);
      expect(r.out.at(-1)!.flags).toBe(TCP_SYN);
    }
    r.c.tick((t += 31999));
    expect(r.c.state).toBe('syn-sent');
    r.c.tick((t += 1));
    expect(r.c.state).toBe('closed');
    expect(r.events).toContain('reset: the guest did not answer');
  });
});

describe('TCP: data', () => {
  it('sends in MSS-sized segments within the peer window, more as ACKs open it; PSH on the last', () => {
    const r = established(1000, 2500);
    const data = Uint8Array.from({ length: 6000 }, (_, i) => i & 0xff);
    r.c.write(data);
    expect(r.out.map((s) => s.data.length)).toEqual([1000, 1000, 500]);
    expect(r.out.map((s) => s.seq)).toEqual([ISS + 1, ISS + 1001, ISS + 2001]);
    expect(r.out.every((s) => s.ack === P1)).toBe(true);
    r.peer({ seq: P1, ack: ISS + 2001, flags: TCP_ACK, window: 2500 });
    expect(r.out.slice(3).map((s) => [s.seq, s.data.length])).toEqual([[ISS + 2501, 1000], [ISS + 3501, 1000]]);
    r.peer({ seq: P1, ack: ISS + 4501, flags: TCP_ACK, window: 4000 });
    const last = r.out.at(-1)!;
    expect(last.seq + last.data.length).toBe(ISS + 6001);
    expect(last.flags).toBe(TCP_ACK | TCP_PSH);
    expect(Buffer.concat(r.out.map((s) => s.data))).toEqual(Buffer.from(data));
    expect(r.c.buffered).toBe(6000 - 4500);
  });

  it('takes in-order data (seq wrapping past 2^32), drops a gap and asks again, trims a resent overlap', () => {
    const r = established();
    r.peer({ seq: P1, ack: ISS + 1, flags: TCP_ACK | TCP_PSH, data: [...Buffer.from('hello ')] });
    expect(r.out.at(-1)!.ack).toBe(seqAdd(P1, 6));
    // A gap: not taken, the ACK repeats what is expected.
    r.peer({ seq: seqAdd(P1, 12), ack: ISS + 1, flags: TCP_ACK, data: [...Buffer.from('!!')] });
    expect(r.out.at(-1)!.ack).toBe(seqAdd(P1, 6));
    // Overlapping what was taken: only the new part.
    r.peer({ seq: seqAdd(P1, 3), ack: ISS + 1, flags: TCP_ACK, data: [...Buffer.from('lo world')] });
    expect(r.text()).toBe('hello world');
    expect(r.out.at(-1)!.ack).toBe(seqAdd(P1, 11));
    // Entirely old: acknowledged again, not delivered twice.
    r.peer({ seq: P1, ack: ISS + 1, flags: TCP_ACK, data: [...Buffer.from('hello')] });
    expect(r.text()).toBe('hello world');
    expect(r.out.at(-1)!.ack).toBe(seqAdd(P1, 11));
  });

  it('advertises the receiving side\'s room, and a window update once it grows by a segment', () => {
    const r = established();
    r.setWindow(100);
    r.peer({ seq: P1, ack: ISS + 1, flags: TCP_ACK, data: [1, 2, 3] });
    expect(r.out.at(-1)!.window).toBe(100);
    const n = r.out.length;
    r.setWindow(500);
    r.c.windowUpdate();
    expect(r.out.length).toBe(n); // less than a segment more
    r.setWindow(200_000);
    r.c.windowUpdate();
    expect(r.out.length).toBe(n + 1);
    expect(r.out.at(-1)!.window).toBe(65535);
  });

  it('resends from the oldest unacknowledged byte when no ACK comes (go-back-N)', () => {
    const r = established(1000);
    r.c.write(new Uint8Array(3000).fill(7));
    r.peer({ seq: P1, ack: ISS + 1001, flags: TCP_ACK }, 10);
    r.out.length = 0;
    r.c.tick(500);
    expect(r.out).toHaveLength(0);
    r.c.tick(1010);
    expect(r.out.map((s) => s.seq)).toEqual([ISS + 1001, ISS + 2001]);
    // A late ACK for the first transmission is still taken.
    r.peer({ seq: P1, ack: ISS + 3001, flags: TCP_ACK }, 1020);
    expect(r.c.buffered).toBe(0);
  });

  it('the resend timeout follows the measured round trip (RFC 6298), and a resend is not measured (Karn)', () => {
    const r = established(1000);
    expect(r.c.retransmitTimeout).toBe(1000);
    let t = 0;
    // Every segment acknowledged 3 s after it left: a slow guest.
    for (let i = 0; i < 4; i++) {
      r.c.write(new Uint8Array(1000), t);
      t += 3000;
      r.peer({ seq: P1, ack: ISS + 1 + (i + 1) * 1000, flags: TCP_ACK }, t);
    }
    expect(r.c.retransmitTimeout).toBeGreaterThanOrEqual(3000);
    r.out.length = 0;
    const measured = r.c.retransmitTimeout;
    r.c.write(new Uint8Array(1000), t);
    r.c.tick(t + 2999);
    expect(r.out).toHaveLength(1); // sent once, not again yet
    r.c.tick(t + measured);
    expect(r.out).toHaveLength(2);
    expect(r.c.retransmitTimeout).toBe(Math.min(2 * measured, 60_000));
    // The acknowledgement of the resent segment comes at once: not a sample (that would shrink the
    // timeout); the timeout goes back to the measured one.
    r.peer({ seq: P1, ack: ISS + 5001, flags: TCP_ACK }, t + measured + 1);
    expect(r.c.retransmitTimeout).toBe(measured);
  });

  it('probes a zero window with one byte, and sends the rest when the window opens', () => {
    const r = established(1000, 0);
    r.c.write(Uint8Array.of(1, 2, 3));
    expect(r.out).toHaveLength(0);
    r.c.tick(1000);
    expect(r.out.map((s) => [s.seq, s.data.length])).toEqual([[ISS + 1, 1]]);
    r.peer({ seq: P1, ack: ISS + 2, flags: TCP_ACK, window: 1000 }, 1001);
    expect(r.out.slice(1).map((s) => [s.seq, s.data.length])).toEqual([[ISS + 2, 2]]);
  });
});

describe('TCP: closing', () => {
  it('active close: FIN after the data; ACK → fin-wait-2; peer FIN → ACK, time-wait, closed after 2 s', () => {
    const r = established();
    r.c.write(Uint8Array.of(1, 2, 3));
    r.c.close();
    expect(r.out.map((s) => s.flags)).toEqual([TCP_ACK | TCP_PSH, TCP_FIN | TCP_ACK]);
    expect(r.out[1]!.seq).toBe(ISS + 4);
    expect(r.c.state).toBe('fin-wait-1');
    r.peer({ seq: P1, ack: ISS + 5, flags: TCP_ACK }, 5);
    expect(r.c.state).toBe('fin-wait-2');
    r.peer({ seq: P1, ack: ISS + 5, flags: TCP_ACK | TCP_FIN, data: [9] }, 6);
    expect(r.got.map((d) => Array.from(d))).toEqual([[9]]);
    expect(r.out.at(-1)!.ack).toBe(seqAdd(P1, 2));
    expect(r.c.state).toBe('time-wait');
    expect(r.events).toEqual(['end']);
    r.c.tick(2005);
    expect(r.c.state).toBe('time-wait');
    r.c.tick(2006);
    expect(r.c.state).toBe('closed');
    expect(r.events).toEqual(['end', 'closed']);
  });

  it('passive close: peer FIN → end, close-wait; our FIN → last-ack; its ACK → closed', () => {
    const r = established();
    r.peer({ seq: P1, ack: ISS + 1, flags: TCP_ACK | TCP_FIN });
    expect(r.c.state).toBe('close-wait');
    expect(r.events).toEqual(['end']);
    expect(r.out.at(-1)!.ack).toBe(seqAdd(P1, 1));
    // Half-close: we may still send.
    r.c.write(Buffer.from('bye'));
    r.c.close();
    expect(r.out.at(-1)!.flags).toBe(TCP_FIN | TCP_ACK);
    expect(r.c.state).toBe('last-ack');
    r.peer({ seq: seqAdd(P1, 1), ack: ISS + 5, flags: TCP_ACK });
    expect(r.c.state).toBe('closed');
    expect(r.events).toEqual(['end', 'closed']);
  });

  it('simultaneous close: closing, then closed through time-wait', () => {
    const r = established();
    r.c.close();
    r.peer({ seq: P1, ack: ISS + 1, flags: TCP_ACK | TCP_FIN }, 1);
    expect(r.c.state).toBe('closing');
    r.peer({ seq: seqAdd(P1, 1), ack: ISS + 2, flags: TCP_ACK }, 2);
    expect(r.c.state).toBe('time-wait');
  });

  it('a lost FIN is sent again by the timer', () => {
    const r = established();
    r.c.close();
    r.c.tick(1000);
    expect(r.out.map((s) => [s.flags, s.seq])).toEqual([[TCP_FIN | TCP_ACK, ISS + 1], [TCP_FIN | TCP_ACK, ISS + 1]]);
  });

  it('RST in the window resets; out of the window it is ignored; abort() sends RST', () => {
    const r = established();
    r.peer({ seq: seqAdd(P1, 70000), flags: TCP_RST });
    expect(r.c.state).toBe('established');
    r.peer({ seq: P1, flags: TCP_RST });
    expect(r.c.state).toBe('closed');
    expect(r.events).toEqual(['reset: reset by the guest', 'closed']);
    const s = established();
    s.c.write(Uint8Array.of(1));
    s.c.abort();
    expect(s.out.at(-1)!.flags & TCP_RST).toBe(TCP_RST);
    expect(s.out.at(-1)!.seq).toBe(ISS + 2);
    expect(s.c.state).toBe('closed');
  });

  it('an ACK of data never sent is answered and dropped', () => {
    const r = established();
    r.peer({ seq: P1, ack: ISS + 50, flags: TCP_ACK, data: [1, 2] });
    expect(r.got).toHaveLength(0);
    expect(r.out.at(-1)!.ack).toBe(P1);
  });
});
