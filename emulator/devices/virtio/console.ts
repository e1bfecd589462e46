// virtio-console (virtio v1.2 §5.3) with one port, which Linux's virtio_console.c makes hvc0:
// receiveq (0) carries host input into the driver's buffers, transmitq (1) carries guest output
// to a Console (emulator/devices/console.ts) — the terminal multiplexer's, a web socket's, a
// test's. VIRTIO_CONSOLE_F_SIZE reports the terminal size (resize() raises a config change);
// VIRTIO_CONSOLE_F_EMERG_WRITE lets the driver write a byte through the config space. No
// MULTIPORT: no control queues.
import type { Console } from '../console.ts';
import { bit, readConfigSpace, VIRTIO_ID_CONSOLE, type VirtioDevice, type VirtioDeviceHost } from './device.ts';

export const VIRTIO_CONSOLE_F_SIZE = 0;
export const VIRTIO_CONSOLE_F_EMERG_WRITE = 2;
export const RECEIVEQ = 0;
export const TRANSMITQ = 1;

// struct virtio_console_config offsets (§5.3.4).
const CFG_COLS = 0;
const CFG_ROWS = 2;
const CFG_EMERG_WR = 8;
const CFG_BYTES = 12;

export interface VirtioConsoleOptions {
  console: Console;
  cols?: number;
  rows?: number;
  /** Size of both queues (default 64, as Rust-Shyper). */
  queueSize?: number;
}

export class VirtioConsole implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_CONSOLE;
  readonly name = 'virtio-console';
  readonly features = bit(VIRTIO_CONSOLE_F_SIZE) | bit(VIRTIO_CONSOLE_F_EMERG_WRITE);
  readonly queueSizes: readonly number[];
  private readonly console: Console;
  private readonly config = new DataView(new ArrayBuffer(CFG_BYTES));
  private readonly buf = new Uint8Array(4096);
  private host: VirtioDeviceHost | null = null;

  constructor(o: VirtioConsoleOptions) {
    this.console = o.console;
    const n = o.queueSize ?? 64;
    this.queueSizes = [n, n];
    this.config.setUint16(CFG_COLS, o.cols ?? 80, true);
    this.config.setUint16(CFG_ROWS, o.rows ?? 25, true);
    // Input waits in the Console until the driver has posted receive buffers.
    this.console.setInputListener(() => this.host?.kick(RECEIVEQ));
  }

  attach(host: VirtioDeviceHost): void {
    this.host = host;
  }

  /** The terminal changed size: new config values and a configuration-change interrupt. */
  resize(cols: number, rows: number): void {
    this.config.setUint16(CFG_COLS, cols, true);
    this.config.setUint16(CFG_ROWS, rows, true);
    this.host?.configChanged();
  }

  readConfig(offset: number, size: 1 | 2 | 4): number {
    return readConfigSpace(this.config, offset, size);
  }

  writeConfig(offset: number, _size: 1 | 2 | 4, value: number): void {
    if (offset === CFG_EMERG_WR) this.console.write(value & 0xff);
  }

  reset(): void {}

  notify(i: number): void {
    const host = this.host!;
    if (i === TRANSMITQ) this.transmit(host);
    else if (i === RECEIVEQ) this.receive(host);
  }

  private transmit(host: VirtioDeviceHost): void {
    const q = host.queue(TRANSMITQ);
    const sent = q.serveAll((chain) => {
      for (let off = 0; off < chain.readableBytes; ) {
        const n = chain.read(off, this.buf);
        if (this.console.writeBytes) this.console.writeBytes(this.buf.subarray(0, n));
        else for (let k = 0; k < n; k++) this.console.write(this.buf[k]);
        off += n;
      }
      return 0;
    });
    if (sent) host.usedBuffers(q);
  }

  // Fills posted receive buffers with waiting input, one buffer per burst of input.
  private receive(host: VirtioDeviceHost): void {
    const q = host.queue(RECEIVEQ);
    let used = false;
    while (this.console.hasInput()) {
      const chain = q.pop();
      if (chain === null) break;
      const room = Math.min(chain.writableBytes, this.buf.length);
      let n = 0;
      while (n < room && this.console.hasInput()) this.buf[n++] = this.console.read();
      chain.write(0, this.buf.subarray(0, n));
      q.push(chain, n);
      used = true;
    }
    if (used) host.usedBuffers(q);
  }
}
