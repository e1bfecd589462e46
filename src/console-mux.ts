// Several VM consoles on one terminal (DESIGN.md "Command line"): each VM gets a Console; its
// lines reach the terminal prefixed with `[vmN] ` whenever more than one VM runs. Interactively
// one VM has the keyboard (Ctrl-A n cycles, Ctrl-A 0-7 picks): its output passes through as it
// comes (a shell prompt has no newline), the others' is held until each line is complete, so
// lines never interleave mid-way. Non-interactively every line is buffered and prefixed, which
// is what --expect matches against.
import type { Console } from '../emulator/devices/console.ts';

export interface MuxSink {
  /** Bytes for the terminal. */
  write(b: number): void;
  /** The keyboard: next byte for whoever has focus, -1 when none. */
  read(): number;
  hasInput(): boolean;
  setInputListener(listener: (() => void) | null): void;
}

const NL = 0x0a;
/** A line longer than this is emitted in pieces (a guest printing without newlines). */
const MAX_LINE = 1024;
/** With a virtual clock: an unfinished line that has not grown for this long is shown (ns). */
const STALE_NS = 5_000_000;

class VmConsole implements Console {
  line: number[] = [];
  /** Run steps the unfinished line has not grown (flushStale). */
  stale = 0;
  lastLen = 0;
  /** Virtual time of the last byte added to `line` (with a virtual clock). */
  grewAt = 0;
  /** The last byte written to the terminal for this VM ended a line. */
  atLineStart = true;
  listener: (() => void) | null = null;

  constructor(
    private readonly mux: ConsoleMux,
    readonly index: number,
  ) {}

  write(byte: number): void {
    this.mux.output(this, byte);
  }
  read(): number {
    return this.mux.focus === this.index ? this.mux.sink.read() : -1;
  }
  hasInput(): boolean {
    return this.mux.focus === this.index && this.mux.sink.hasInput();
  }
  setInputListener(listener: (() => void) | null): void {
    this.listener = listener;
  }
}

export class ConsoleMux {
  private readonly consoles: VmConsole[] = [];
  focus = 0;
  /** The console whose bytes the terminal shows last, while its line is unfinished (else null). */
  private midLine: VmConsole | null = null;

  constructor(
    readonly sink: MuxSink,
    /**
     * `now`: the machine's virtual time (ns). With it, an unfinished line is shown once it has not
     * grown for STALE_NS of guest time, checked whenever another VM writes: where it lands among
     * the other VMs' lines then depends on the guests alone, not on how fast the host ran them.
     */
    private readonly opts: { interactive: boolean; prefix: boolean; now?: () => number },
  ) {
    sink.setInputListener(() => this.consoles[this.focus]?.listener?.());
  }

  /** The console of VM `id` (created on first use). */
  console(id: number): Console {
    let c = this.consoles.find((k) => k.index === id);
    if (c === undefined) {
      c = new VmConsole(this, id);
      this.consoles.push(c);
      this.consoles.sort((a, b) => a.index - b.index);
    }
    return c;
  }

  /** Ctrl-A n: the next VM gets the keyboard. */
  cycle(): void {
    if (this.consoles.length === 0) return;
    const i = this.consoles.findIndex((c) => c.index === this.focus);
    this.select(this.consoles[(i + 1) % this.consoles.length]!.index);
  }

  /** Ctrl-A 0-7: VM n gets the keyboard (ignored if there is no such VM). */
  select(id: number): void {
    const c = this.consoles.find((k) => k.index === id);
    if (c === undefined || id === this.focus) return;
    this.flushLine(this.consoles.find((k) => k.index === this.focus));
    this.focus = id;
    this.notice(`keyboard to vm${id}`);
    this.flushLine(c);
  }

  output(c: VmConsole, byte: number): void {
    const passThrough = this.opts.interactive && c.index === this.focus;
    if (passThrough) {
      this.takeLine(c);
      if (c.atLineStart && this.opts.prefix) this.emitPrefix(c);
      this.sink.write(byte);
      c.atLineStart = byte === NL;
      this.midLine = c.atLineStart ? null : c;
      return;
    }
    const now = this.opts.now;
    if (now !== undefined) {
      const t = now();
      for (const o of this.consoles) if (o !== c && o.line.length !== 0 && t - o.grewAt >= STALE_NS) this.flushLine(o);
      c.grewAt = t;
    }
    c.line.push(byte);
    if (byte === NL || c.line.length >= MAX_LINE) this.flushLine(c);
  }

  /**
   * Emit what every console holds of an unfinished line — a shell prompt waits without a newline,
   * and a script waiting for it must see it. Called by the run loop after each step and at the end.
   * Another VM's output arriving before that line is finished starts on a new line, and the rest
   * of the unfinished one comes later with its prefix again.
   */
  flushAll(): void {
    for (const c of this.consoles) this.flushLine(c);
  }

  private flushLine(c: VmConsole | undefined): void {
    if (c === undefined || c.line.length === 0) return;
    this.takeLine(c);
    if (c.atLineStart && this.opts.prefix) this.emitPrefix(c);
    for (const b of c.line) this.sink.write(b);
    c.atLineStart = c.line[c.line.length - 1] === NL;
    c.line = [];
    c.lastLen = 0;
    c.stale = 0;
    this.midLine = c.atLineStart ? null : c;
  }

  /**
   * After each run step: show an unfinished line that has stopped growing (a shell prompt waiting
   * for input), but not one still being printed (it would be cut by others): for STALE_NS of
   * virtual time with a clock, else for a few steps.
   */
  flushStale(steps = 4): void {
    const now = this.opts.now;
    const t = now === undefined ? 0 : now();
    for (const c of this.consoles) {
      if (c.line.length === 0) continue;
      if (now !== undefined) {
        if (t - c.grewAt >= STALE_NS) this.flushLine(c);
      } else if (c.line.length !== c.lastLen) {
        c.lastLen = c.line.length;
        c.stale = 0;
      } else if (++c.stale >= steps) this.flushLine(c);
    }
  }

  /** Before `c` writes: if another console's line is unfinished on the terminal, end it there. */
  private takeLine(c: VmConsole): void {
    const m = this.midLine;
    if (m === null || m === c) return;
    this.sink.write(NL);
    m.atLineStart = true;
    this.midLine = null;
  }

  private emitPrefix(c: VmConsole): void {
    for (const ch of `[vm${c.index}] `) this.sink.write(ch.charCodeAt(0));
  }

  private notice(text: string): void {
    for (const ch of `\r\n[shyper-emu: ${text}]\r\n`) this.sink.write(ch.charCodeAt(0));
  }
}
