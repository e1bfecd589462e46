// Host-clock pacing: the only place under emulator/ that reads the host clock; nothing else may,
// for determinism (DESIGN.md "Determinism").
//  - RealTimePacer: virtual time follows the host clock (`--clock host`).
//  - IdlePacer: with modeled time (`--clock cycles`), the periods when every CPU idles last as
//    long on the host as in virtual time, so an idle guest does not spin the host.

export class RealTimePacer {
  private readonly hostStartMs: number;
  constructor(
    private readonly virtualStartNs: number,
    private readonly hostNowMs: () => number = () => performance.now(),
  ) {
    this.hostStartMs = this.hostNowMs();
  }

  /** The virtual time (integer ns) that corresponds to the host clock now. */
  virtualNow(): number {
    return this.virtualStartNs + Math.floor((this.hostNowMs() - this.hostStartMs) * 1e6);
  }

  /** Milliseconds the host should wait before virtual time may reach virtualNs (0 = go on). */
  delayMs(virtualNs: number): number {
    const aheadMs = (virtualNs - this.virtualStartNs) / 1e6 - (this.hostNowMs() - this.hostStartMs);
    return aheadMs > 0 ? aheadMs : 0;
  }
}

/**
 * Paces idle periods: keeps the virtual time skipped while every CPU idles from running ahead of
 * the host time slept for it, summed over the run. Host timers are coarse (Node's setTimeout has
 * 1 ms granularity and fires late, never early), so a short idle period may be skipped without
 * sleeping on the credit an earlier oversleep left; the credit is capped so a long host stall
 * does not turn into a burst of un-paced virtual time.
 */
export class IdlePacer {
  /** Host ms slept minus virtual ms idled: > 0 is credit, never below 0 after record(). */
  private creditMs = 0;
  constructor(private readonly maxCreditMs = 10) {}

  /** Milliseconds to sleep before `idleNs` of virtual idle time may pass (0: at once). */
  sleepMs(idleNs: number): number {
    const owe = idleNs / 1e6 - this.creditMs;
    return owe > 0 ? owe : 0;
  }

  /** An idle period ended: `idledNs` of virtual time passed while the host slept `sleptMs`. */
  record(idledNs: number, sleptMs: number): void {
    this.creditMs = Math.min(this.maxCreditMs, Math.max(0, this.creditMs + sleptMs - idledNs / 1e6));
  }
}
