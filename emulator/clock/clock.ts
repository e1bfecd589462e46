// Deterministic virtual time: integer nanoseconds in a JS number (exact up to 2^53 ns, ~104
// days), and one event queue. Events are objects the owner keeps and re-arms, so the queue
// allocates nothing per schedule. Due events run in time order; equal times run in the order
// they were scheduled, so a run is reproducible from its inputs alone.

export type ClockCallback = (now: number) => void;

export class ClockEvent {
  /** Deadline in ns while queued. */
  at = 0;
  /** Schedule order, breaks ties between equal deadlines. */
  seq = 0;
  /** Position in the heap, -1 when not queued. */
  index = -1;
  constructor(
    readonly callback: ClockCallback,
    readonly name = 'event',
  ) {}
  get scheduled(): boolean {
    return this.index >= 0;
  }
}

export class Clock {
  /** Current virtual time in ns. */
  now = 0;
  private heap: ClockEvent[] = [];
  private nextSeq = 0;

  /**
   * Queues ev to run at atNs (re-arms it if already queued). A deadline in the past runs at the
   * next advanceTo(). Infinity (or a non-finite time) means "never": the event is cancelled.
   */
  schedule(ev: ClockEvent, atNs: number): void {
    if (!(atNs < Infinity)) {
      this.cancel(ev);
      return;
    }
    ev.at = atNs;
    ev.seq = this.nextSeq++;
    if (ev.index >= 0) {
      // New key may be smaller or larger.
      this.siftUp(ev.index);
      this.siftDown(ev.index);
    } else {
      ev.index = this.heap.length;
      this.heap.push(ev);
      this.siftUp(ev.index);
    }
  }

  cancel(ev: ClockEvent): void {
    const i = ev.index;
    if (i < 0) return;
    const heap = this.heap;
    const last = heap.pop()!;
    ev.index = -1;
    if (last !== ev) {
      heap[i] = last;
      last.index = i;
      this.siftUp(i);
      this.siftDown(last.index);
    }
  }

  /** Deadline of the earliest queued event, Infinity when none. */
  nextEventAt(): number {
    return this.heap.length > 0 ? this.heap[0].at : Infinity;
  }

  get pending(): number {
    return this.heap.length;
  }

  /**
   * Moves time forward to ns, running every event due at or before ns in (time, schedule order).
   * During a callback `now` equals the event's deadline. Events a callback schedules at or before
   * ns run in the same call. Time never goes backwards: ns < now only runs overdue events.
   */
  advanceTo(ns: number): void {
    const heap = this.heap;
    while (heap.length > 0 && heap[0].at <= ns) {
      const ev = heap[0];
      this.cancel(ev);
      if (ev.at > this.now) this.now = ev.at;
      ev.callback(this.now);
    }
    if (ns > this.now) this.now = ns;
  }

  /** advanceTo(now + dns). */
  advanceBy(dns: number): void {
    this.advanceTo(this.now + dns);
  }

  private less(a: ClockEvent, b: ClockEvent): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const ev = heap[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p];
      if (!this.less(ev, parent)) break;
      heap[i] = parent;
      parent.index = i;
      i = p;
    }
    heap[i] = ev;
    ev.index = i;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const ev = heap[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(heap[r], heap[l]) ? r : l;
      const child = heap[c];
      if (!this.less(child, ev)) break;
      heap[i] = child;
      child.index = i;
      i = c;
    }
    heap[i] = ev;
    ev.index = i;
  }
}
