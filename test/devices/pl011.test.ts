import { describe, expect, it } from 'vitest';
import { BufferConsole } from '../../emulator/devices/console.ts';
import type { IrqLine } from '../../emulator/devices/irq.ts';
import {
  INT_RT, INT_RX, INT_TX, Pl011, UARTCR, UARTDR, UARTFR, UARTICR, UARTIFLS, UARTIMSC, UARTLCR_H, UARTMIS, UARTRIS,
} from '../../emulator/devices/pl011.ts';

class Wire implements IrqLine {
  level = false;
  changes = 0;
  set(level: boolean): void {
    this.level = level;
    this.changes++;
  }
}

// amba-pl011 constants (include/linux/amba/serial.h)
const UART011_OEIS = 1 << 10, UART011_BEIS = 1 << 9, UART011_PEIS = 1 << 8, UART011_FEIS = 1 << 7;
const UART011_RTIS = 1 << 6, UART011_RXIS = 1 << 4, UART011_RTIM = 1 << 6, UART011_RXIM = 1 << 4, UART011_TXIM = 1 << 5;
const UART01x_CR_UARTEN = 1, UART011_CR_TXE = 1 << 8, UART011_CR_RXE = 1 << 9, UART011_CR_RTS = 1 << 11, UART011_CR_DTR = 1 << 10;
const UART01x_FR_RXFE = 1 << 4, UART01x_FR_TXFF = 1 << 5, UART01x_FR_BUSY = 1 << 3;
const UART01x_LCRH_WLEN_8 = 0x60, UART01x_LCRH_FEN = 0x10;
const UART011_IFLS_RX4_8 = 2 << 3, UART011_IFLS_TX4_8 = 2;

function make(fifoDepth?: 16 | 32) {
  const console = new BufferConsole();
  const irq = new Wire();
  const uart = new Pl011({ console, irq, fifoDepth });
  return { console, irq, uart };
}

// What amba_device_try_add() reads: PeriphID and PCellID bytes, one per word.
function amba_ids(uart: Pl011): { periphid: number; cid: number } {
  let pid = 0;
  let cid = 0;
  for (let i = 0; i < 4; i++) {
    pid |= (uart.read(0xfe0 + i * 4, 4) & 0xff) << (i * 8);
    cid |= (uart.read(0xff0 + i * 4, 4) & 0xff) << (i * 8);
  }
  return { periphid: pid >>> 0, cid: cid >>> 0 };
}

// pl011_hwinit + pl011_startup + pl011_enable_interrupts (drivers/tty/serial/amba-pl011.c).
function linuxStartup(uart: Pl011, fifosize: number): void {
  uart.write(UARTICR, 2, UART011_OEIS | UART011_BEIS | UART011_PEIS | UART011_FEIS | UART011_RTIS | UART011_RXIS);
  uart.read(UARTIMSC, 2);
  uart.write(UARTIMSC, 2, UART011_RTIM | UART011_RXIM);
  uart.write(UARTIFLS, 2, UART011_IFLS_RX4_8 | UART011_IFLS_TX4_8);
  let cr = uart.read(UARTCR, 2);
  cr &= UART011_CR_RTS | UART011_CR_DTR;
  cr |= UART01x_CR_UARTEN | UART011_CR_RXE | UART011_CR_TXE;
  uart.write(UARTCR, 2, cr);
  // pl011_set_termios: 8N1 with FIFOs
  uart.write(UARTLCR_H, 2, UART01x_LCRH_WLEN_8 | UART01x_LCRH_FEN);
  uart.write(UARTICR, 2, UART011_RTIS | UART011_RXIS);
  for (let i = 0; i < fifosize * 2; i++) {
    if (uart.read(UARTFR, 2) & UART01x_FR_RXFE) break;
    uart.read(UARTDR, 2);
  }
  uart.write(UARTIMSC, 2, UART011_RTIM | UART011_RXIM);
}

// pl011_tx_chars(from_irq = false): write while FR.TXFF is clear; true when data remains.
function linuxTxChars(uart: Pl011, buf: number[]): boolean {
  while (buf.length > 0) {
    if (uart.read(UARTFR, 2) & UART01x_FR_TXFF) return true;
    uart.write(UARTDR, 2, buf.shift()!);
  }
  return false;
}

// pl011_rx_chars: read DR until FR.RXFE.
function linuxRxChars(uart: Pl011): string {
  let s = '';
  while (!(uart.read(UARTFR, 2) & UART01x_FR_RXFE)) s += String.fromCharCode(uart.read(UARTDR, 2) & 0xff);
  return s;
}

describe('PL011 identification', () => {
  it('matches amba-pl011\'s id table {0x00041011, mask 0x000fffff} with the PrimeCell cid', () => {
    for (const [depth, rev] of [[32, 3], [16, 1]] as const) {
      const { uart } = make(depth);
      const { periphid, cid } = amba_ids(uart);
      expect(cid).toBe(0xb105f00d); // AMBA_CID
      expect(periphid & 0x000fffff).toBe(0x00041011);
      // amba_rev() = periphid[23:20]; get_fifosize_arm: rev < 3 ? 16 : 32
      expect((periphid >> 20) & 0xf).toBe(rev);
    }
    const { uart } = make(16);
    expect([0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc].map((o) => uart.read(o, 4))).toEqual([
      0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1,
    ]);
  });

  it('resets FR to TXFE|RXFE, CR to TXE|RXE and IFLS to half/half (TRM 3.3)', () => {
    const { uart } = make();
    expect(uart.read(UARTFR, 4)).toBe(0x90);
    expect(uart.read(UARTCR, 4)).toBe(0x300);
    expect(uart.read(UARTIFLS, 4)).toBe(0x12);
    expect(uart.read(UARTIMSC, 4)).toBe(0);
    expect(uart.read(0x100, 4)).toBe(0); // reserved RAZ
  });
});

describe('PL011 transmit', () => {
  it('earlycon: byte writes to DR reach the console before the UART is enabled', () => {
    const { uart, console } = make();
    for (const c of 'boot\n') uart.write(UARTDR, 1, c.charCodeAt(0));
    expect(console.text).toBe('boot\n');
    // pl011_console_write waits while FR.BUSY
    expect(uart.read(UARTFR, 1) & UART01x_FR_BUSY).toBe(0);
  });

  it('Linux start_tx: fills the FIFO without ever seeing TXFF, so TXIM stays off and no interrupt', () => {
    const { uart, console, irq } = make();
    linuxStartup(uart, 32);
    const buf = [...'Linux version 6.1\n'].map((c) => c.charCodeAt(0));
    expect(linuxTxChars(uart, buf)).toBe(false);
    expect(console.text).toBe('Linux version 6.1\n');
    expect(uart.read(UARTRIS, 4) & INT_TX).toBe(INT_TX);
    expect(irq.level).toBe(false);
  });

  it('TXIS: asserted by a write passing the trigger level, seen with TXIM, cleared by ICR', () => {
    const { uart, irq } = make();
    linuxStartup(uart, 32);
    uart.write(UARTICR, 4, INT_TX);
    uart.write(UARTIMSC, 4, UART011_RTIM | UART011_RXIM | UART011_TXIM);
    expect(irq.level).toBe(false);
    uart.write(UARTDR, 4, 0x41);
    expect(irq.level).toBe(true);
    expect(uart.read(UARTMIS, 4)).toBe(INT_TX);
    uart.write(UARTICR, 4, INT_TX);
    expect(irq.level).toBe(false);
  });
});

describe('PL011 receive', () => {
  it('holds input until the driver enables the receiver, then interrupts with RTIS', () => {
    const { uart, console, irq } = make();
    console.pushInput('x');
    expect(uart.read(UARTFR, 4) & UART01x_FR_RXFE).toBe(UART01x_FR_RXFE);
    // the startup drain eats what arrived before the port was open, as on hardware
    linuxStartup(uart, 32);
    expect(console.hasInput()).toBe(false);
    expect(irq.level).toBe(false);
    console.pushInput('ls\r');
    expect(irq.level).toBe(true);
    // 3 bytes < trigger (16 of 32): receive timeout only
    expect(uart.read(UARTMIS, 4)).toBe(INT_RT);
    expect(linuxRxChars(uart)).toBe('ls\r');
    expect(irq.level).toBe(false);
    expect(uart.read(UARTRIS, 4) & (INT_RX | INT_RT)).toBe(0);
  });

  it('RXIS follows the IFLS trigger level crossing; RTIS clears when the FIFO empties', () => {
    const { uart, console, irq } = make();
    linuxStartup(uart, 32);
    uart.write(UARTIFLS, 4, 0 << 3); // RX at 1/8 = 4 of 32
    console.pushInput('0123456789');
    expect(uart.read(UARTMIS, 4)).toBe(INT_RX | INT_RT);
    for (let i = 0; i < 6; i++) uart.read(UARTDR, 4);
    expect(uart.read(UARTRIS, 4) & INT_RX).toBe(INT_RX); // 4 left
    uart.read(UARTDR, 4);
    expect(uart.read(UARTRIS, 4) & (INT_RX | INT_RT)).toBe(INT_RT); // 3 left, below trigger
    uart.write(UARTICR, 4, INT_RT);
    expect(irq.level).toBe(false);
    expect(String.fromCharCode(uart.read(UARTDR, 4), uart.read(UARTDR, 4), uart.read(UARTDR, 4))).toBe('789');
    expect(uart.read(UARTFR, 4) & UART01x_FR_RXFE).toBe(UART01x_FR_RXFE);
  });

  it('never overruns: a long paste waits in the console, FR.RXFF at 32 entries', () => {
    const { uart, console } = make();
    linuxStartup(uart, 32);
    const text = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    console.pushInput(text);
    expect(uart.read(UARTFR, 4) & (1 << 6)).toBe(1 << 6);
    expect(console.pendingInput).toBe(text.length - 32);
    expect(linuxRxChars(uart)).toBe(text);
  });

  it('without FEN the FIFO is one entry deep', () => {
    const { uart, console } = make();
    uart.write(UARTCR, 4, UART01x_CR_UARTEN | UART011_CR_RXE | UART011_CR_TXE);
    console.pushInput('ab');
    expect(uart.read(UARTFR, 4) & (1 << 6)).toBe(1 << 6);
    expect(uart.read(UARTRIS, 4) & INT_RX).toBe(INT_RX); // trigger is 1 without FIFOs
    expect(uart.read(UARTDR, 4)).toBe(0x61);
    expect(uart.read(UARTDR, 4)).toBe(0x62);
  });

  it('loopback (CR.LBE) sends transmitted bytes to the receiver, not the console', () => {
    const { uart, console } = make();
    uart.write(UARTCR, 4, UART01x_CR_UARTEN | UART011_CR_RXE | UART011_CR_TXE | (1 << 7));
    uart.write(UARTDR, 4, 0x5a);
    expect(console.text).toBe('');
    expect(uart.read(UARTDR, 4)).toBe(0x5a);
  });
});
