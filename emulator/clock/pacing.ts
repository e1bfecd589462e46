// Opt-in real-time pacing (--realtime): keeps virtual time from running ahead of the host clock.
// The only place under emulator/ that reads the host clock; nothing else may, for determinism.

export class RealTimePacer {
  private readonly hostStartMs: number;
  constructor(
    private readonly virtualStartNs: number,
    private readonly hostNowMs: () => number = () => performance.now(),
  ) {
    this.hostStartMs = this.hostNowMs();
  }

  /** Milliseconds the host should wait before virtual time may reach virtualNs (0 = go on). */
  delayMs(virtualNs: number): number {
    const aheadMs = (virtualNs - this.virtualStartNs) / 1e6 - (this.hostNowMs() - this.hostStartMs);
    return aheadMs > 0 ? aheadMs : 0;
  }
}
