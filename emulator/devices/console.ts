// A serial console as the UART models see it: bytes out (guest transmit) and bytes in (host
// keyboard, a web socket, a test script). Input waits in the console's queue until the UART has
// room in its receive FIFO and pulls it, so host input is never lost to a FIFO overrun; the
// listener tells the UART that new input is waiting.

export interface Console {
  /** Guest transmitted one byte (0..255). */
  write(byte: number): void;
  /** Several bytes at once (a virtio-console buffer); when absent, write() is called per byte. */
  writeBytes?(data: Uint8Array): void;
  /** Takes the next host input byte, or -1 when none is waiting. */
  read(): number;
  /** True when read() would return a byte. */
  hasInput(): boolean;
  /** The UART registers here to hear about new input; null detaches. One listener. */
  setInputListener(listener: (() => void) | null): void;
}

/**
 * The host side's console: output goes to a sink (stdout, a socket), input is pushed with
 * pushInput(). The queue grows as needed; reads never allocate.
 */
export class HostConsole implements Console {
  private queue = new Uint8Array(256);
  private head = 0;
  private tail = 0;
  private listener: (() => void) | null = null;

  constructor(private readonly sink: (byte: number) => void = () => {}) {}

  write(byte: number): void {
    this.sink(byte & 0xff);
  }

  read(): number {
    if (this.head === this.tail) return -1;
    const b = this.queue[this.head];
    this.head = (this.head + 1) & (this.queue.length - 1);
    return b;
  }

  hasInput(): boolean {
    return this.head !== this.tail;
  }

  get pendingInput(): number {
    return (this.tail - this.head) & (this.queue.length - 1);
  }

  setInputListener(listener: (() => void) | null): void {
    this.listener = listener;
  }

  /** Host input (a string is sent as UTF-8). Notifies the UART once per call. */
  pushInput(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    for (const b of bytes) {
      if (this.pendingInput === this.queue.length - 1) this.grow();
      this.queue[this.tail] = b;
      this.tail = (this.tail + 1) & (this.queue.length - 1);
    }
    if (bytes.length > 0 && this.listener) this.listener();
  }

  private grow(): void {
    const n = this.pendingInput;
    const q = new Uint8Array(this.queue.length * 2);
    for (let i = 0; i < n; i++) q[i] = this.queue[(this.head + i) & (this.queue.length - 1)];
    this.queue = q;
    this.head = 0;
    this.tail = n;
  }
}

/** A console that keeps all output in memory: tests and --expect matching. */
export class BufferConsole extends HostConsole {
  private out: number[] = [];
  override write(byte: number): void {
    this.out.push(byte & 0xff);
  }
  get output(): Uint8Array {
    return Uint8Array.from(this.out);
  }
  /** Output decoded as UTF-8. */
  get text(): string {
    return new TextDecoder().decode(this.output);
  }
  clearOutput(): void {
    this.out = [];
  }
}
