// Connects a guest console to the user's terminal: guest output to stdout, keyboard to the guest.
// On a TTY the terminal is put in raw mode and Ctrl-A x quits (QEMU's -nographic convention);
// Ctrl-A Ctrl-A sends a literal Ctrl-A. On a non-interactive stdin (CI) input is simply piped.
import { HostConsole } from '../emulator/devices/console.ts';

const CTRL_A = 0x01;

export interface TerminalOptions {
  /** Called when the user asks to quit (Ctrl-A x). */
  onQuit: () => void;
  /** Extra observer of guest output (for --expect matching, panic detection). */
  onOutput?: (byte: number) => void;
  /** Ctrl-A followed by another key (not x, not Ctrl-A): the key. */
  onCommand?: (key: number) => void;
  /** Attach stdin (false for tests). */
  input?: boolean;
  /** Called after keyboard input reached the guest console (the run loop wakes from an idle wait). */
  onInput?: () => void;
  /** Our stdout's reader went away (`| head -1`): output is dropped from now on. */
  onOutputClosed?: () => void;
}

export class Terminal {
  readonly console: HostConsole;
  private outBuf = Buffer.alloc(4096);
  private outLen = 0;
  private escape = false;
  private rawMode = false;
  private readonly onData = (chunk: Buffer): void => this.keyboard(chunk);
  private outClosed = false;
  private attached = false;
  // Write errors on stdout arrive as 'error' events; without a listener Node would print a stack
  // trace. A closed reader (EPIPE) ends the output quietly; anything else is reported by the CLI.
  private readonly onStdoutError = (err: NodeJS.ErrnoException): void => {
    if (this.outClosed) return;
    this.outClosed = true;
    this.outLen = 0;
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') process.stderr.write(`shyper-emu: cannot write the console output: ${err.message}\n`);
    this.opts.onOutputClosed?.();
  };

  constructor(private readonly opts: TerminalOptions) {
    this.console = new HostConsole((b) => {
      if (this.outLen === this.outBuf.length) this.flush();
      this.outBuf[this.outLen++] = b;
      opts.onOutput?.(b);
    });
  }

  /**
   * Take stdout and stdin (at the latest at the first output). Apart from the constructor: Node
   * makes process.stdout and process.stdin on first use, and on a pipe (CI, the bench) that loads
   * its net module and opens two streams, ~6-10 ms on a 2-core machine, which the boot does while
   * the wasm interpreter's compile ends rather than before the machine is made.
   */
  attach(): void {
    if (this.attached) return;
    this.attached = true;
    process.stdout.on('error', this.onStdoutError);
    if (this.opts.input !== false) {
      const stdin = process.stdin;
      if (stdin.isTTY) {
        stdin.setRawMode(true);
        this.rawMode = true;
      }
      stdin.on('data', this.onData);
      stdin.resume();
    }
  }

  /** Write buffered guest output to stdout (called by the run loop between slices). */
  flush(): void {
    if (this.outLen === 0) return;
    this.attach();
    if (this.outClosed || process.stdout.destroyed) {
      this.outLen = 0;
      return;
    }
    process.stdout.write(Buffer.from(this.outBuf.subarray(0, this.outLen)));
    this.outLen = 0;
  }

  private keyboard(chunk: Buffer): void {
    const pass: number[] = [];
    for (const b of chunk) {
      if (this.rawMode && this.escape) {
        this.escape = false;
        if (b === 0x78 /* x */ || b === 0x58) {
          this.opts.onQuit();
          return;
        }
        if (b === CTRL_A) pass.push(CTRL_A);
        else this.opts.onCommand?.(b);
        continue;
      }
      if (this.rawMode && b === CTRL_A) {
        this.escape = true;
        continue;
      }
      pass.push(b);
    }
    if (pass.length) {
      this.console.pushInput(Uint8Array.from(pass));
      this.opts.onInput?.();
    }
  }

  close(): void {
    this.flush();
    if (!this.attached) return;
    process.stdout.off('error', this.onStdoutError);
    if (this.opts.input !== false) {
      process.stdin.off('data', this.onData);
      if (this.rawMode) process.stdin.setRawMode(false);
      process.stdin.pause();
    }
  }
}
