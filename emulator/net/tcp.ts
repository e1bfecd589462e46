// One TCP connection of the user network (RFC 9293), seen from the emulator's side: the gateway
// opens it actively toward a guest's service (--hostfwd) and carries a host program's bytes both
// ways. The model is small because the link between the gateway and a guest is a memory copy
// that keeps order: three-way handshake with the MSS option, sequence and acknowledgement numbers,
// the peer's receive window respected and ours advertised from the host side's backlog, FIN and
// RST in both directions, half-close. Segments that arrive out of order are dropped and
// acknowledged again (the guest resends them); a timer resends from the oldest unacknowledged
// byte (go-back-N), and probes a zero window, in case a frame was refused on the way (a full
// receive ring). Its timeout follows the measured round trip (RFC 6298, Karn's rule), so a guest
// slowed down by a loaded host is not flooded with resends. No window scaling, timestamps, SACK
// or congestion control.
//
// Pure: frames are made by the caller from what `emit` gives; time is the caller's `now` (ms).

import { seqAdd, seqDiff, seqLe, seqLt, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type TcpSegment } from './tcp-segment.ts';

export type TcpState = 'closed' | 'syn-sent' | 'established' | 'fin-wait-1' | 'fin-wait-2' | 'close-wait' | 'closing' | 'last-ack' | 'time-wait';

/** What the connection sends: the caller adds addresses and ports. */
export interface TcpEmit {
  seq: number;
  ack: number;
  flags: number;
  window: number;
  mss?: number;
  data?: Uint8Array;
}

export interface TcpEvents {
  /** The peer accepted the connection (SYN-ACK). */
  onConnected?(): void;
  /** In-order data from the peer. */
  onData?(data: Uint8Array): void;
  /** The peer sent FIN: it sends no more. */
  onEnd?(): void;
  /** The connection was reset (by the peer's RST, or given up: `why`). */
  onReset?(why: string): void;
  /** The connection is gone (after a clean close or a reset); called once. */
  onClosed?(): void;
  /** Acknowledged data made room in the send buffer. */
  onSendSpace?(): void;
}

export interface TcpConnectionOptions extends TcpEvents {
  /** Initial send sequence number. */
  iss: number;
  emit(seg: TcpEmit): void;
  /** Bytes the receiving side takes now: the window we advertise (clamped to 0-65535). */
  receiveWindow(): number;
  /** Our MSS (default 1460: an MTU of 1500). */
  mss?: number;
  /** Retransmission timeout in ms before a round trip is measured, and its floor (default 1000). */
  rto?: number;
}

/** Most bytes in flight whatever the peer's window says (no congestion control: keep it modest). */
const MAX_IN_FLIGHT = 65535;
/** A SYN resent this many times without an answer gives up. */
const SYN_TRIES = 6;
/** Data resent this many times without progress gives up. */
const DATA_TRIES = 10;
const MAX_RTO = 60_000;
/** TIME-WAIT lasts this long (ms), answering a resent FIN; far short of 2 MSL, the link keeps no old segments. */
const TIME_WAIT_MS = 2000;

export class TcpConnection {
  state: TcpState = 'closed';
  private readonly o: TcpConnectionOptions;
  private readonly iss: number;
  private sndUna: number;
  private sndNxt: number;
  /** Highest sequence number sent (sndNxt goes back on a resend). */
  private sndMax: number;
  private sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private mss: number;
  private irs = 0;
  private rcvNxt = 0;
  private advertised = 0;
  /** Data written and not yet acknowledged: sequence sndUna on. */
  private readonly queue = new ByteQueue();
  private closeAsked = false;
  private finSeq: number | null = null;
  private finAcked = false;
  private rto: number;
  /** RFC 6298 state: smoothed round trip and its variation (ms), null before the first sample. */
  private srtt: number | null = null;
  private rttvar = 0;
  /** The segment being timed: the sequence number that acknowledges it and when it left. */
  private timed: { seq: number; at: number } | null = null;
  private tries = 0;
  private lastProgress = 0;
  private now = 0;
  private timeWaitSince = 0;

  constructor(o: TcpConnectionOptions) {
    this.o = o;
    this.iss = o.iss >>> 0;
    this.sndUna = this.sndNxt = this.sndMax = this.iss;
    this.mss = o.mss ?? 1460;
    this.rto = o.rto ?? 1000;
  }

  /** Bytes written and not yet acknowledged by the peer. */
  get buffered(): number {
    return this.queue.length;
  }

  /** Sends the SYN. */
  connect(now: number): void {
    if (this.state !== 'closed' || this.sndMax !== this.iss) return;
    this.now = this.lastProgress = now;
    this.state = 'syn-sent';
    this.sendSyn();
  }

  /** Queues data for the peer (sent as its window allows). Ignored after close(). */
  write(data: Uint8Array, now = this.now): void {
    this.now = now;
    if (this.closeAsked || this.state === 'closed' || data.length === 0) return;
    this.queue.push(data.slice());
    this.output();
  }

  /** We send no more: FIN after the queued data. */
  close(now = this.now): void {
    this.now = now;
    if (this.closeAsked || this.state === 'closed') return;
    this.closeAsked = true;
    this.output();
  }

  /** Resets the connection (RST to the peer unless it never answered). */
  abort(): void {
    if (this.state === 'closed') return;
    if (this.state !== 'syn-sent' && this.state !== 'time-wait') this.send(this.sndMax, TCP_RST | TCP_ACK);
    this.closed();
  }

  /** The receiving side took data: advertise the larger window if it grew by a segment or more. */
  windowUpdate(): void {
    if (!this.receiving() && this.state !== 'close-wait') return;
    if (this.window() >= this.advertised + this.mss || (this.advertised < this.mss && this.window() >= this.mss)) this.ack();
  }

  /** A segment from the peer (already checked and matched to this connection by its addresses). */
  input(seg: TcpSegment, now: number): void {
    this.now = now;
    if (this.state === 'closed') return;
    if (this.state === 'syn-sent') return this.synSent(seg);
    const len = seg.data.length + (seg.flags & TCP_FIN ? 1 : 0);
    if (seg.flags & TCP_RST) {
      // In the window (RFC 5961 would ask for an exact match; the link cannot be spoofed).
      const off = seqDiff(seg.seq, this.rcvNxt);
      if (off >= 0 && off <= Math.max(this.advertised, 1)) this.reset('reset by the guest');
      return;
    }
    if (seg.flags & TCP_SYN) {
      // Our ACK of its SYN-ACK went missing (it resends it), or a stray SYN: acknowledge.
      this.ack();
      return;
    }
    if (!(seg.flags & TCP_ACK)) return;
    if (this.state === 'time-wait') {
      if (seg.flags & TCP_FIN) this.ack();
      return;
    }
    if (!this.acknowledged(seg) || this.gone()) return;

    // Data and FIN, in order only.
    let data = seg.data;
    let seq = seg.seq;
    let fin = (seg.flags & TCP_FIN) !== 0;
    if (len > 0) {
      const old = seqDiff(this.rcvNxt, seq);
      if (old > 0) {
        if (old >= len) return this.ack(); // all seen before
        data = data.subarray(Math.min(old, data.length));
        seq = this.rcvNxt;
      }
      if (seq !== this.rcvNxt) return this.ack(); // a gap: drop, ask again for what is missing
      if (data.length > 0 && this.receiving()) {
        this.rcvNxt = seqAdd(this.rcvNxt, data.length);
        this.o.onData?.(data);
        if (this.gone()) return;
      } else if (data.length > 0) {
        fin = false; // data after the peer's FIN: not taken
      }
      if (fin && this.receiving()) {
        this.rcvNxt = seqAdd(this.rcvNxt, 1);
        this.peerFin();
      }
      if (!this.gone()) this.ack();
    }
    this.output();
  }

  /** Timers: resend the SYN, resend unacknowledged data, probe a zero window, end TIME-WAIT. */
  tick(now: number): void {
    this.now = now;
    if (this.state === 'closed') return;
    if (this.state === 'time-wait') {
      if (now - this.timeWaitSince >= TIME_WAIT_MS) this.closed();
      return;
    }
    if (now - this.lastProgress < this.rto) return;
    const outstanding = this.sndMax !== this.sndUna;
    const zeroWindow = this.sndWnd === 0 && this.queue.length > 0 && !outstanding;
    if (!outstanding && !zeroWindow) return;
    this.tries++;
    if (this.tries > (this.state === 'syn-sent' ? SYN_TRIES - 1 : DATA_TRIES)) {
      if (this.state !== 'syn-sent') this.send(this.sndMax, TCP_RST | TCP_ACK);
      return this.reset(this.state === 'syn-sent' ? 'the guest did not answer' : 'the guest stopped acknowledging');
    }
    this.lastProgress = now;
    this.rto = Math.min(this.rto * 2, MAX_RTO);
    this.timed = null; // Karn: a resent segment's acknowledgement measures nothing
    if (this.state === 'syn-sent') return this.sendSyn();
    if (zeroWindow) {
      // One byte past the closed window: the peer acknowledges it when it has room, or answers
      // with its window again.
      this.send(this.sndNxt, TCP_ACK, this.queue.peek(0, 1));
      this.sndNxt = seqAdd(this.sndNxt, 1);
      this.sndMax = this.sndNxt;
      return;
    }
    this.sndNxt = this.sndUna; // go back N
    this.output();
  }

  // ---- internals ----

  /** Closed (callbacks may close the connection under a caller's feet). */
  private gone(): boolean {
    return this.state === 'closed';
  }

  private receiving(): boolean {
    return this.state === 'established' || this.state === 'fin-wait-1' || this.state === 'fin-wait-2';
  }

  private synSent(seg: TcpSegment): void {
    const ackOk = (seg.flags & TCP_ACK) !== 0 && seg.ack === seqAdd(this.iss, 1);
    if (seg.flags & TCP_RST) {
      if (ackOk) this.reset('refused by the guest');
      return;
    }
    if ((seg.flags & TCP_ACK) && !ackOk) {
      this.o.emit({ seq: seg.ack, ack: 0, flags: TCP_RST, window: 0 });
      return;
    }
    if (!(seg.flags & TCP_SYN) || !ackOk) return;
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.sndUna = seg.ack;
    if (this.timed !== null) this.sample(this.now - this.timed.at);
    this.timed = null;
    this.sndWnd = seg.window;
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
    this.mss = Math.max(64, Math.min(this.mss, seg.mss ?? 536));
    this.state = 'established';
    this.progress();
    this.ack();
    this.o.onConnected?.();
    this.output();
  }

  /** The ACK field of a segment; false when the segment is to be dropped. */
  private acknowledged(seg: TcpSegment): boolean {
    if (seqLt(this.sndMax, seg.ack)) {
      this.ack(); // acknowledges what was never sent
      return false;
    }
    // The peer is there: resends and probes start counting again.
    if (seqLe(this.sndUna, seg.ack)) this.tries = 0;
    if (seqLt(this.sndUna, seg.ack)) {
      const n = seqDiff(seg.ack, this.sndUna);
      const data = Math.min(n, this.queue.length);
      this.queue.drop(data);
      this.sndUna = seg.ack;
      if (this.timed !== null && seqLe(this.timed.seq, seg.ack)) {
        this.sample(this.now - this.timed.at);
        this.timed = null;
      }
      if (seqLt(this.sndNxt, this.sndUna)) this.sndNxt = this.sndUna;
      if (this.finSeq !== null && seqLt(this.finSeq, seg.ack)) this.finAcked = true;
      this.progress();
      if (data > 0) this.o.onSendSpace?.();
    }
    // The peer's window, from the newest segment (RFC 9293 §3.10.7.4).
    if (seqLt(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && seqLe(this.sndWl2, seg.ack))) {
      if (seg.window > this.sndWnd) this.progress();
      this.sndWnd = seg.window;
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
    }
    if (this.finAcked) {
      if (this.state === 'fin-wait-1') this.state = 'fin-wait-2';
      else if (this.state === 'closing') this.timeWait();
      else if (this.state === 'last-ack') this.closed();
    }
    return true;
  }

  private peerFin(): void {
    if (this.state === 'established') this.state = 'close-wait';
    else if (this.state === 'fin-wait-1') this.state = this.finAcked ? 'time-wait' : 'closing';
    else if (this.state === 'fin-wait-2') this.state = 'time-wait';
    if (this.state === 'time-wait') this.timeWaitSince = this.now;
    this.o.onEnd?.();
  }

  private timeWait(): void {
    this.state = 'time-wait';
    this.timeWaitSince = this.now;
  }

  /** Sends what the window allows, then the FIN once everything is sent. */
  private output(): void {
    if (this.state !== 'established' && this.state !== 'close-wait' && this.state !== 'fin-wait-1' && this.state !== 'last-ack' && this.state !== 'closing') return;
    for (;;) {
      const off = seqDiff(this.sndNxt, this.sndUna);
      if (this.finSeq !== null && off >= this.queue.length) break; // the FIN is next: sent below
      const room = Math.min(this.sndWnd, MAX_IN_FLIGHT) - off;
      const n = Math.min(this.queue.length - off, room, this.mss);
      if (n <= 0) break;
      this.send(this.sndNxt, TCP_ACK | (n === this.queue.length - off ? TCP_PSH : 0), this.queue.peek(off, n));
      // Time one new segment at a time (not a resend).
      if (this.timed === null && this.sndNxt === this.sndMax) this.timed = { seq: seqAdd(this.sndNxt, n), at: this.now };
      this.sndNxt = seqAdd(this.sndNxt, n);
      if (seqLt(this.sndMax, this.sndNxt)) this.sndMax = this.sndNxt;
    }
    const allSent = seqDiff(this.sndNxt, this.sndUna) >= this.queue.length;
    if (this.closeAsked && allSent && !this.finAcked && (this.finSeq === null || this.sndNxt === this.finSeq)) {
      if (this.finSeq === null) {
        this.finSeq = this.sndNxt;
        this.state = this.state === 'close-wait' ? 'last-ack' : 'fin-wait-1';
        if (this.sndMax === this.sndUna) this.progress();
      }
      this.send(this.finSeq, TCP_FIN | TCP_ACK);
      this.sndNxt = seqAdd(this.finSeq, 1);
      if (seqLt(this.sndMax, this.sndNxt)) this.sndMax = this.sndNxt;
    }
  }

  private sendSyn(): void {
    this.timed = this.tries === 0 ? { seq: seqAdd(this.iss, 1), at: this.now } : null;
    this.o.emit({ seq: this.iss, ack: 0, flags: TCP_SYN, window: this.window(), mss: this.mss });
    this.sndNxt = this.sndMax = seqAdd(this.iss, 1);
  }

  private ack(): void {
    this.send(this.sndNxt, TCP_ACK);
  }

  private send(seq: number, flags: number, data?: Uint8Array): void {
    const window = flags & TCP_RST ? 0 : this.window();
    if (!(flags & TCP_RST)) this.advertised = window;
    this.o.emit({ seq, ack: this.rcvNxt, flags, window, data });
  }

  private window(): number {
    return Math.max(0, Math.min(0xffff, Math.floor(this.o.receiveWindow())));
  }

  private progress(): void {
    this.lastProgress = this.now;
    this.tries = 0;
    this.rto = this.baseRto();
  }

  /** A round-trip sample in ms (RFC 6298 §2). */
  private sample(r: number): void {
    r = Math.max(0, r);
    if (this.srtt === null) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = this.baseRto();
  }

  /** The timeout from the measured round trip: SRTT + 4 RTTVAR, at least the configured floor. */
  private baseRto(): number {
    const floor = this.o.rto ?? 1000;
    if (this.srtt === null) return floor;
    return Math.min(MAX_RTO, Math.max(floor, this.srtt + Math.max(10, 4 * this.rttvar)));
  }

  /** The current retransmission timeout (ms), for tests and log lines. */
  get retransmitTimeout(): number {
    return this.rto;
  }

  private reset(why: string): void {
    this.o.onReset?.(why);
    this.closed();
  }

  private closed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.queue.clear();
    this.o.onClosed?.();
  }

  /** For tests and log lines: the peer's initial sequence number. */
  get peerIss(): number {
    return this.irs;
  }
}

/** Bytes in arrival order, dropped from the front as they are acknowledged. */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // bytes of chunks[0] already dropped
  length = 0;

  push(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }

  /** A copy of `n` bytes from offset `off`. */
  peek(off: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    let at = this.head + off;
    let i = 0;
    while (at >= this.chunks[i]!.length) at -= this.chunks[i++]!.length;
    for (let w = 0; w < n; i++, at = 0) {
      const c = this.chunks[i]!;
      const k = Math.min(n - w, c.length - at);
      out.set(c.subarray(at, at + k), w);
      w += k;
    }
    return out;
  }

  drop(n: number): void {
    this.length -= n;
    n += this.head;
    while (this.chunks.length > 0 && n >= this.chunks[0]!.length) n -= this.chunks.shift()!.length;
    this.head = n;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.length = 0;
  }
}
