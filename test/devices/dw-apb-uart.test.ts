import { describe, expect, it } from 'vitest';
import { BufferConsole } from '../../emulator/devices/console.ts';
import { DwApbUart } from '../../emulator/devices/dw-apb-uart.ts';
import type { IrqLine } from '../../emulator/devices/irq.ts';

class Wire implements IrqLine {
  level = false;
  set(level: boolean): void {
    this.level = level;
  }
}

// include/uapi/linux/serial_reg.h
const UART_RX = 0, UART_TX = 0, UART_DLL = 0, UART_DLM = 1, UART_IER = 1, UART_IIR = 2, UART_FCR = 2, UART_EFR = 2;
const UART_LCR = 3, UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7;
const UART_IER_RDI = 1, UART_IER_THRI = 2, UART_IER_RLSI = 4, UART_IER_ALL_INTR = 0x0f, UART_IER_UUE = 0x40;
const UART_IIR_NO_INT = 1, UART_IIR_ID = 0x0e, UART_IIR_THRI = 2, UART_IIR_RDI = 4, UART_IIR_RX_TIMEOUT = 0x0c;
const UART_IIR_64BYTE_FIFO = 0x20, UART_IIR_FIFO_ENABLED = 0xc0;
const UART_FCR_ENABLE_FIFO = 1, UART_FCR_CLEAR_RCVR = 2, UART_FCR_CLEAR_XMIT = 4, UART_FCR7_64BYTE = 0x20, UART_FCR_R_TRIG_10 = 0x80;
const UART_LCR_CONF_MODE_A = 0x80, UART_LCR_CONF_MODE_B = 0xbf, UART_LCR_WLEN8 = 3;
const UART_MCR_LOOP = 0x10, UART_MCR_OUT2 = 0x08, UART_MCR_RTS = 0x02, UART_MCR_DTR = 0x01;
const UART_MSR_STATUS_BITS = 0xf0, UART_MSR_DCD = 0x80, UART_MSR_CTS = 0x10;
const UART_LSR_DR = 1, UART_LSR_OE = 2, UART_LSR_THRE = 0x20, UART_LSR_TEMT = 0x40;
// drivers/tty/serial/8250/8250_dwlib.h
const DW_UART_USR = 0x7c, DW_UART_DLF = 0xc0, DW_UART_CPR = 0xf4, DW_UART_UCV = 0xf8, DW_UART_CTR = 0xfc;
const DW_UART_CPR_FIFO_MODE = 0x00ff0000, DW_UART_CPR_AFCE_MODE = 1 << 4;

/** Linux's view of one port: serial_in/serial_out with regshift and iotype. */
class Port {
  readonly console = new BufferConsole();
  readonly irq = new Wire();
  readonly uart: DwApbUart;
  constructor(
    readonly regshift: 0 | 2,
    readonly width: 1 | 4,
    fifoDepth: 16 | 64,
    designware = regshift === 2,
  ) {
    this.uart = new DwApbUart({ console: this.console, irq: this.irq, regShift: regshift, fifoDepth, designware });
  }
  in(reg: number): number {
    return this.uart.read(reg << this.regshift, this.width) & 0xff;
  }
  out(reg: number, v: number): void {
    this.uart.write(reg << this.regshift, this.width, v);
  }
  readl(off: number): number {
    return this.uart.read(off, 4);
  }
  writel(off: number, v: number): void {
    this.uart.write(off, 4, v);
  }
  dlRead(): number {
    return this.in(UART_DLL) | (this.in(UART_DLM) << 8);
  }
  dlWrite(v: number): void {
    this.out(UART_DLL, v & 0xff);
    this.out(UART_DLM, v >> 8);
  }
}

// 8250_port.c size_fifo(): count what loopback keeps of 256 transmitted bytes.
function size_fifo(p: Port): number {
  const old_lcr = p.in(UART_LCR);
  p.out(UART_LCR, 0);
  const old_fcr = p.in(UART_FCR);
  const old_mcr = p.in(UART_MCR);
  p.out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
  p.out(UART_MCR, UART_MCR_LOOP);
  p.out(UART_LCR, UART_LCR_CONF_MODE_A);
  const old_dl = p.dlRead();
  p.dlWrite(1);
  p.out(UART_LCR, UART_LCR_WLEN8);
  for (let c = 0; c < 256; c++) p.out(UART_TX, c);
  let count = 0;
  for (; p.in(UART_LSR) & UART_LSR_DR && count < 256; count++) p.in(UART_RX);
  p.out(UART_FCR, old_fcr);
  p.out(UART_MCR, old_mcr);
  p.out(UART_LCR, UART_LCR_CONF_MODE_A);
  p.dlWrite(old_dl);
  p.out(UART_LCR, old_lcr);
  return count;
}

// 8250_port.c autoconfig() + autoconfig_16550a() with UPF_FULL_PROBE; returns the type it picks.
function autoconfig(p: Port): string {
  const scratch = p.in(UART_IER);
  p.out(UART_IER, 0);
  const scratch2 = p.in(UART_IER) & UART_IER_ALL_INTR;
  p.out(UART_IER, UART_IER_ALL_INTR);
  const scratch3 = p.in(UART_IER) & UART_IER_ALL_INTR;
  p.out(UART_IER, scratch);
  if (scratch2 !== 0 || scratch3 !== UART_IER_ALL_INTR) return 'none: IER test';
  const save_mcr = p.in(UART_MCR);
  const save_lcr = p.in(UART_LCR);
  p.out(UART_MCR, UART_MCR_LOOP | 0x0a);
  const status1 = p.in(UART_MSR) & UART_MSR_STATUS_BITS;
  p.out(UART_MCR, save_mcr);
  if (status1 !== (UART_MSR_DCD | UART_MSR_CTS)) return 'none: loopback test';
  p.out(UART_LCR, UART_LCR_CONF_MODE_B);
  p.out(UART_EFR, 0);
  p.out(UART_LCR, 0);
  p.out(UART_FCR, UART_FCR_ENABLE_FIFO);
  const kind = p.in(UART_IIR) >> 6;
  if (kind !== 3) return ['8250/16450', 'unknown', '16550'][kind];
  // autoconfig_16550a: EFR probes read IIR (non-zero) on a 16550A
  p.out(UART_LCR, UART_LCR_CONF_MODE_A);
  if (p.in(UART_EFR) === 0) return 'ST16C650V1';
  p.out(UART_LCR, UART_LCR_CONF_MODE_B);
  if (p.in(UART_EFR) === 0) return '16650';
  // National SuperIO check
  p.out(UART_LCR, 0);
  let s1 = p.in(UART_MCR);
  p.out(UART_LCR, 0xe0);
  let s2 = p.in(0x02);
  if (!((s2 ^ s1) & UART_MCR_LOOP)) {
    p.out(UART_LCR, 0);
    p.out(UART_MCR, s1 ^ UART_MCR_LOOP);
    p.out(UART_LCR, 0xe0);
    s2 = p.in(0x02);
    p.out(UART_LCR, 0);
    p.out(UART_MCR, s1);
    if ((s2 ^ s1) & UART_MCR_LOOP) return 'NS16550A';
  }
  // TI16750 check
  p.out(UART_LCR, 0);
  p.out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
  s1 = p.in(UART_IIR) & (UART_IIR_64BYTE_FIFO | UART_IIR_FIFO_ENABLED);
  p.out(UART_FCR, UART_FCR_ENABLE_FIFO);
  p.out(UART_LCR, UART_LCR_CONF_MODE_A);
  p.out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
  s2 = p.in(UART_IIR) & (UART_IIR_64BYTE_FIFO | UART_IIR_FIFO_ENABLED);
  p.out(UART_FCR, UART_FCR_ENABLE_FIFO);
  p.out(UART_LCR, 0);
  if (s1 === UART_IIR_FIFO_ENABLED && s2 === (UART_IIR_64BYTE_FIFO | UART_IIR_FIFO_ENABLED)) return '16750';
  // XScale check
  p.out(UART_LCR, 0);
  const iersave = p.in(UART_IER);
  p.out(UART_IER, iersave | UART_IER_UUE);
  if (p.in(UART_IER) & UART_IER_UUE) return 'XScale';
  p.out(UART_IER, iersave);
  const type = size_fifo(p) === 64 ? 'U6_16550A' : '16550A';
  p.out(UART_MCR, save_mcr);
  p.out(UART_LCR, save_lcr);
  return type;
}

// serial8250_do_startup: clear FIFOs and interrupt registers, then the THRE re-assert test.
function startup(p: Port, fcr: number): { iir1: number; iir: number } {
  p.out(UART_FCR, UART_FCR_ENABLE_FIFO);
  p.out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
  p.out(UART_FCR, 0);
  p.in(UART_LSR);
  p.in(UART_RX);
  p.in(UART_IIR);
  p.in(UART_MSR);
  p.out(UART_LCR, UART_LCR_WLEN8);
  p.out(UART_IER, UART_IER_THRI);
  const iir1 = p.in(UART_IIR);
  p.out(UART_IER, 0);
  p.out(UART_IER, UART_IER_THRI);
  const iir = p.in(UART_IIR);
  p.out(UART_IER, 0);
  p.out(UART_MCR, UART_MCR_OUT2 | UART_MCR_RTS | UART_MCR_DTR);
  p.out(UART_FCR, fcr);
  p.in(UART_LSR);
  p.in(UART_RX);
  p.in(UART_IIR);
  p.out(UART_IER, UART_IER_RLSI | UART_IER_RDI);
  return { iir1, iir };
}

// dw8250_handle_irq -> serial8250_handle_irq: returns received text; transmits from `tx`.
function handleIrq(p: Port, ier: { v: number }, tx: number[], loadsz: number): string {
  const iir = p.in(UART_IIR);
  let rx = '';
  if (iir & UART_IIR_NO_INT) return rx;
  let lsr = p.in(UART_LSR);
  if (lsr & UART_LSR_DR) {
    let max = 256;
    do {
      rx += String.fromCharCode(p.in(UART_RX));
      lsr = p.in(UART_LSR);
    } while (lsr & UART_LSR_DR && --max > 0);
  }
  if (lsr & UART_LSR_THRE && ier.v & UART_IER_THRI) {
    let count = loadsz;
    while (tx.length > 0 && count-- > 0) p.out(UART_TX, tx.shift()!);
    if (tx.length === 0) {
      ier.v &= ~UART_IER_THRI; // __stop_tx
      p.out(UART_IER, ier.v);
    }
  }
  return rx;
}

describe('8250_dw probe (RK3588 UART2: reg-shift 2, reg-io-width 4)', () => {
  it('dw8250_setup_port reads UCV, finds no DLF, and takes a 64-byte FIFO from CPR', () => {
    const p = new Port(2, 4, 64);
    expect(p.readl(DW_UART_UCV)).not.toBe(0);
    p.writel(DW_UART_DLF, 0xffffffff);
    expect(p.readl(DW_UART_DLF)).toBe(0);
    const cpr = p.readl(DW_UART_CPR);
    expect(cpr & DW_UART_CPR_FIFO_MODE).not.toBe(0);
    expect(((cpr >> 16) & 0xff) * 16).toBe(64); // DW_UART_CPR_FIFO_SIZE
    expect(cpr & DW_UART_CPR_AFCE_MODE).toBe(DW_UART_CPR_AFCE_MODE);
    expect(p.readl(DW_UART_CTR)).toBe(0x44570110);
    expect(p.readl(DW_UART_USR)).toBe(0x6); // not busy, TX FIFO not full and empty
  });

  it('LCR writes read back (dw8250_check_lcr), with 4-byte and 1-byte access alike', () => {
    const p = new Port(2, 4, 64);
    p.out(UART_LCR, UART_LCR_WLEN8 | UART_LCR_CONF_MODE_A);
    expect(p.in(UART_LCR)).toBe(0x83);
    expect(p.uart.read(UART_LCR << 2, 1)).toBe(0x83);
    p.dlWrite(0x000d); // 115200 baud from 24 MHz
    expect(p.dlRead()).toBe(0x000d);
    p.out(UART_LCR, UART_LCR_WLEN8);
    expect(p.console.text).toBe('');
    expect(p.uart.read(UART_LSR << 2, 1)).toBe(UART_LSR_THRE | UART_LSR_TEMT);
    expect(p.uart.read((UART_LSR << 2) + 1, 1)).toBe(0);
  });

  it('startup THRE test sees THRI asserted both times, so UART_BUG_THRE stays clear', () => {
    const p = new Port(2, 4, 64);
    const { iir1, iir } = startup(p, UART_FCR_ENABLE_FIFO | UART_FCR_R_TRIG_10);
    expect(iir1 & UART_IIR_NO_INT).toBe(0);
    expect(iir & UART_IIR_NO_INT).toBe(0);
    expect(iir1 & UART_IIR_ID).toBe(UART_IIR_THRI);
    expect(p.irq.level).toBe(false);
  });

  it('interrupt-driven transmit: start_tx sets THRI, each interrupt loads up to 64 bytes', () => {
    const p = new Port(2, 4, 64);
    startup(p, UART_FCR_ENABLE_FIFO | UART_FCR_R_TRIG_10);
    const msg = 'The quick brown fox jumps over the lazy dog. 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOP\n';
    const tx = [...msg].map((c) => c.charCodeAt(0));
    const ier = { v: UART_IER_RLSI | UART_IER_RDI | UART_IER_THRI };
    p.out(UART_IER, ier.v); // __start_tx
    expect(p.irq.level).toBe(true);
    expect(p.uart.read(UART_IIR << 2, 4)).toBe(UART_IIR_FIFO_ENABLED | UART_IIR_THRI);
    // the IIR read above consumed the THRE cause: line drops until the next THR write
    expect(p.irq.level).toBe(false);
    p.out(UART_IER, ier.v & ~UART_IER_THRI);
    p.out(UART_IER, ier.v);
    handleIrq(p, ier, tx, 64);
    expect(p.console.text).toBe(msg.slice(0, 64));
    expect(p.irq.level).toBe(true);
    handleIrq(p, ier, tx, 64);
    expect(p.console.text).toBe(msg);
    expect(p.irq.level).toBe(false);
    expect(p.in(UART_IIR)).toBe(UART_IIR_FIFO_ENABLED | UART_IIR_NO_INT);
  });

  it('receive: a short burst raises the RX timeout (IIR 0xcc), a long one RDI (0xc4) at trigger 32', () => {
    const p = new Port(2, 4, 64);
    startup(p, UART_FCR_ENABLE_FIFO | UART_FCR_R_TRIG_10);
    const ier = { v: UART_IER_RLSI | UART_IER_RDI };
    p.console.pushInput('root\r');
    expect(p.irq.level).toBe(true);
    expect(p.uart.read(UART_IIR << 2, 4)).toBe(UART_IIR_FIFO_ENABLED | UART_IIR_RX_TIMEOUT);
    expect(handleIrq(p, ier, [], 64)).toBe('root\r');
    expect(p.irq.level).toBe(false);
    const long = 'x'.repeat(40);
    p.console.pushInput(long);
    expect(p.uart.read(UART_IIR << 2, 4)).toBe(UART_IIR_FIFO_ENABLED | UART_IIR_RDI);
    expect(p.readl(0x84)).toBe(40); // RFL
    expect(handleIrq(p, ier, [], 64)).toBe(long);
    expect(p.irq.level).toBe(false);
  });

  it('a paste longer than the FIFO is delivered whole, 64 bytes at a time', () => {
    const p = new Port(2, 4, 64);
    startup(p, UART_FCR_ENABLE_FIFO | UART_FCR_R_TRIG_10);
    const text = Array.from({ length: 200 }, (_, i) => String.fromCharCode(0x21 + (i % 90))).join('');
    p.console.pushInput(text);
    expect(p.readl(DW_UART_USR) & 0x10).toBe(0x10); // RFF
    expect(handleIrq(p, { v: UART_IER_RDI }, [], 64)).toBe(text);
  });

  it('polled input without interrupts (earlycon/bootloader): LSR.DR pulls host input', () => {
    const p = new Port(2, 4, 64);
    p.console.pushInput('a');
    expect(p.in(UART_LSR) & UART_LSR_DR).toBe(UART_LSR_DR);
    expect(p.in(UART_RX)).toBe(0x61);
    expect(p.in(UART_LSR) & UART_LSR_DR).toBe(0);
  });
});

describe('plain 16550A (ns16550a, reg-shift 0)', () => {
  it('autoconfig identifies a 16550A with a 16-byte FIFO', () => {
    const p = new Port(0, 1, 16);
    expect(autoconfig(p)).toBe('16550A');
    expect(p.console.text).toBe(''); // loopback bytes never reached the console
  });

  it('a 64-byte FIFO shows up in size_fifo as 64 (U6_16550A under full probe)', () => {
    const p = new Port(0, 1, 64, false);
    expect(autoconfig(p)).toBe('U6_16550A');
  });

  it('has no DesignWare registers, and the scratch register holds a byte', () => {
    const p = new Port(0, 1, 16);
    p.out(UART_SCR, 0xa5);
    expect(p.in(UART_SCR)).toBe(0xa5);
    const tegra = new Port(2, 4, 16, false);
    expect(tegra.readl(DW_UART_CTR)).toBe(0);
    expect(tegra.readl(DW_UART_USR)).toBe(0);
  });

  it('loopback overflow sets LSR.OE and raises a line-status interrupt', () => {
    const p = new Port(0, 1, 16);
    p.out(UART_FCR, UART_FCR_ENABLE_FIFO);
    p.out(UART_MCR, UART_MCR_LOOP);
    p.out(UART_IER, UART_IER_RLSI);
    for (let i = 0; i < 17; i++) p.out(UART_TX, i);
    expect(p.irq.level).toBe(true);
    expect(p.in(UART_IIR)).toBe(UART_IIR_FIFO_ENABLED | 0x06);
    expect(p.in(UART_LSR)).toBe(UART_LSR_DR | UART_LSR_OE | UART_LSR_THRE | UART_LSR_TEMT);
    expect(p.in(UART_LSR) & UART_LSR_OE).toBe(0);
    expect(p.irq.level).toBe(false);
  });

  it('without FIFOs the receiver holds one byte and interrupts with RDI', () => {
    const p = new Port(0, 1, 16);
    p.out(UART_IER, UART_IER_RDI);
    p.console.pushInput('hi');
    expect(p.in(UART_IIR)).toBe(UART_IIR_RDI);
    expect(p.in(UART_RX)).toBe(0x68);
    expect(p.in(UART_RX)).toBe(0x69);
    expect(p.in(UART_IIR)).toBe(UART_IIR_NO_INT);
  });
});
