// 16550A-compatible UART, optionally with the Synopsys DesignWare APB UART extras (RK3588's
// UART2, Linux 8250_dw, "snps,dw-apb-uart", reg-shift 2, reg-io-width 4). Also serves as a plain
// "ns16550a" (regShift 0) or Tegra's 8250 (regShift 2, designware false).
//
// Semantics follow the 16550 datasheet as Linux's 8250 core relies on it, with QEMU's
// hw/char/serial.c as the reference model:
// - IIR priority: line status > RX timeout / RX data > THR empty > modem status.
// - Transmit is instantaneous, so THR is always empty (LSR.THRE|TEMT). The THRE interrupt is
//   pending after every THR write and whenever IER.THRI goes 0->1 (the re-arm 8250's start_tx
//   and startup THRE test rely on), and is cleared by reading IIR while it is the reported cause.
// - Host input is pulled from the console lazily: when the guest reads RBR, LSR, IIR or the DW
//   FIFO status, and on input arrival while IER.RDI is set. A receive "timeout" is pending
//   whenever received bytes sit in an enabled FIFO (the line is idle between host bursts).
import type { MmioDevice } from '../bus/device.ts';
import type { Console } from './console.ts';
import type { IrqLine } from './irq.ts';

// 16550 register indexes (offset = index << regShift).
export const UART_RX = 0; // RBR (read), THR (write), DLL (DLAB)
export const UART_IER = 1; // DLH with DLAB
export const UART_IIR = 2; // IIR (read), FCR (write)
export const UART_LCR = 3;
export const UART_MCR = 4;
export const UART_LSR = 5;
export const UART_MSR = 6;
export const UART_SCR = 7;

// DesignWare extras, byte offsets (DW_apb_uart databook; Linux 8250_dwlib.h).
export const DW_UART_USR = 0x7c;
export const DW_UART_TFL = 0x80;
export const DW_UART_RFL = 0x84;
export const DW_UART_SRR = 0x88;
export const DW_UART_CPR = 0xf4;
export const DW_UART_UCV = 0xf8;
export const DW_UART_CTR = 0xfc;

export const IER_RDI = 0x01;
export const IER_THRI = 0x02;
export const IER_RLSI = 0x04;
export const IER_MSI = 0x08;

export const IIR_NO_INT = 0x01;
export const IIR_MSI = 0x00;
export const IIR_THRI = 0x02;
export const IIR_RDI = 0x04;
export const IIR_RLSI = 0x06;
export const IIR_RX_TIMEOUT = 0x0c;
export const IIR_FIFO_ENABLED = 0xc0;

export const FCR_ENABLE_FIFO = 0x01;
export const FCR_CLEAR_RCVR = 0x02;
export const FCR_CLEAR_XMIT = 0x04;

export const LCR_DLAB = 0x80;
export const MCR_LOOP = 0x10;

export const LSR_DR = 0x01;
export const LSR_OE = 0x02;
export const LSR_BI = 0x10;
export const LSR_THRE = 0x20;
export const LSR_TEMT = 0x40;
const LSR_ERRORS = 0x1e; // OE | PE | FE | BI

export const MSR_CTS = 0x10;
export const MSR_DSR = 0x20;
export const MSR_DCD = 0x80;

export const USR_BUSY = 0x01;
export const USR_TFNF = 0x02;
export const USR_TFE = 0x04;
export const USR_RFNE = 0x08;
export const USR_RFF = 0x10;

/** "DW" component type (DW_UART_CTR). */
export const DW_CTR_VALUE = 0x44570110;
/** UART_COMP_VERSION "401*" (3.40a-style ASCII; 8250_dw prints it, only non-zero matters). */
export const DW_UCV_VALUE = 0x3430312a;

export interface DwApbUartOptions {
  name?: string;
  console: Console;
  irq: IrqLine;
  /** log2 of the register stride: 2 for 32-bit spaced registers (RK3588, TX2), 0 for byte spaced. */
  regShift?: 0 | 2;
  /** 64 (RK3588's DW UART, default) or 16 (a 16550A). */
  fifoDepth?: 16 | 64;
  /** Implement USR/CPR/UCV/CTR and the other DW registers above index 7 (default: regShift 2). */
  designware?: boolean;
}

export class DwApbUart implements MmioDevice {
  readonly name: string;
  private readonly console: Console;
  private readonly irq: IrqLine;
  private readonly shift: number;
  private readonly depth: number;
  private readonly dw: boolean;
  /** DW_UART_CPR: APB_DATA_WIDTH=32, AFCE, THRE_MODE, ADDITIONAL_FEAT, FIFO_ACCESS, FIFO_STAT, SHADOW, ADD_ENCODED_PARAMS, FIFO_MODE=depth/16. */
  readonly cpr: number;

  private readonly rxFifo: Uint8Array;
  private rxHead = 0;
  private rxCount = 0;

  private ier = 0;
  private fcr = 0;
  private lcr = 0;
  private mcr = 0;
  private lsrErrors = 0;
  private scr = 0;
  private dll = 0;
  private dlh = 0;
  private thrIpending = false;
  private timeoutPending = false;
  private irqLevel = false;

  constructor(opts: DwApbUartOptions) {
    this.name = opts.name ?? 'uart';
    this.console = opts.console;
    this.irq = opts.irq;
    this.shift = opts.regShift ?? 2;
    this.depth = opts.fifoDepth ?? 64;
    this.dw = opts.designware ?? this.shift === 2;
    this.cpr = ((this.depth / 16) << 16) | 0x1f32;
    this.rxFifo = new Uint8Array(this.depth);
    this.console.setInputListener(() => {
      if (this.ier & IER_RDI) this.pull();
    });
  }

  reset(): void {
    this.rxHead = 0;
    this.rxCount = 0;
    this.ier = 0;
    this.fcr = 0;
    this.lcr = 0;
    this.mcr = 0;
    this.lsrErrors = 0;
    this.scr = 0;
    this.dll = 0;
    this.dlh = 0;
    this.thrIpending = false;
    this.timeoutPending = false;
    this.update();
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (offset & ((1 << this.shift) - 1)) return 0;
    const reg = offset >> this.shift;
    if (reg < 8) return this.readReg(reg);
    if (!this.dw) return 0;
    const v = this.readDw(offset);
    return size === 4 ? v >>> 0 : v & (size === 1 ? 0xff : 0xffff);
  }

  write(offset: number, _size: 1 | 2 | 4, value: number): void {
    if (offset & ((1 << this.shift) - 1)) return;
    const reg = offset >> this.shift;
    if (reg < 8) this.writeReg(reg, value & 0xff);
    else if (this.dw) this.writeDw(offset, value >>> 0);
  }

  private get fifoEnabled(): boolean {
    return (this.fcr & FCR_ENABLE_FIFO) !== 0;
  }

  private readReg(reg: number): number {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (reg) {
      case UART_RX:
        return dlab ? this.dll : this.readRbr();
      case UART_IER:
        return dlab ? this.dlh : this.ier;
      case UART_IIR: {
        this.pull();
        const id = this.interruptId();
        // Reading IIR with THRE as the reported cause clears it (16550 datasheet table 4).
        if (id === IIR_THRI) {
          this.thrIpending = false;
          this.update();
        }
        return id | (this.fifoEnabled ? IIR_FIFO_ENABLED : 0);
      }
      case UART_LCR:
        return this.lcr;
      case UART_MCR:
        return this.mcr;
      case UART_LSR: {
        this.pull();
        const lsr = LSR_THRE | LSR_TEMT | this.lsrErrors | (this.rxCount > 0 ? LSR_DR : 0);
        if (this.lsrErrors) {
          this.lsrErrors = 0; // error bits clear on read
          this.update();
        }
        return lsr;
      }
      case UART_MSR:
        if (this.mcr & MCR_LOOP) {
          // Loopback: OUT2->DCD, OUT1->RI, RTS->CTS, DTR->DSR.
          return ((this.mcr & 0x0c) << 4) | ((this.mcr & 0x02) << 3) | ((this.mcr & 0x01) << 5);
        }
        return MSR_DCD | MSR_DSR | MSR_CTS;
      default:
        return this.scr;
    }
  }

  private writeReg(reg: number, v: number): void {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (reg) {
      case UART_RX:
        if (dlab) this.dll = v;
        else this.transmit(v);
        return;
      case UART_IER:
        if (dlab) {
          this.dlh = v;
          return;
        }
        this.writeIer(v);
        return;
      case UART_IIR:
        this.writeFcr(v);
        return;
      case UART_LCR:
        this.lcr = v;
        return;
      case UART_MCR:
        this.mcr = v & (this.dw ? 0x3f : 0x1f);
        return;
      case UART_LSR:
      case UART_MSR:
        return; // read-only
      default:
        this.scr = v;
    }
  }

  private writeIer(v: number): void {
    const changed = (this.ier ^ v) & 0x0f;
    this.ier = v & 0x0f;
    // THR is always empty: a 0->1 THRI makes THRE pending again (QEMU serial.c, Bochs).
    if (changed & IER_THRI) this.thrIpending = (this.ier & IER_THRI) !== 0;
    if (this.ier & IER_RDI) this.pull();
    this.update();
  }

  private writeFcr(v: number): void {
    // Changing FIFO enable resets both FIFOs (16550 datasheet, FCR bit 0).
    if ((v ^ this.fcr) & FCR_ENABLE_FIFO) v |= FCR_CLEAR_RCVR | FCR_CLEAR_XMIT;
    if (v & FCR_CLEAR_RCVR) this.clearRx();
    if (v & FCR_CLEAR_XMIT) this.thrIpending = true;
    this.fcr = v & 0xc9; // FIFO enable, DMA mode, RX trigger
    this.update();
  }

  private clearRx(): void {
    this.rxHead = 0;
    this.rxCount = 0;
    this.timeoutPending = false;
  }

  // FCR[7:6]: 1, 1/4, 1/2, full-2 (a 16-byte FIFO gives the 16550's 1, 4, 8, 14).
  private rxTrigger(): number {
    switch (this.fcr >> 6) {
      case 0:
        return 1;
      case 1:
        return this.depth >> 2;
      case 2:
        return this.depth >> 1;
      default:
        return this.depth - 2;
    }
  }

  private capacity(): number {
    return this.fifoEnabled ? this.depth : 1;
  }

  private transmit(byte: number): void {
    if (this.mcr & MCR_LOOP) this.receiveByte(byte);
    else this.console.write(byte);
    this.thrIpending = true;
    this.update();
  }

  private receiveByte(byte: number): void {
    if (this.rxCount >= this.capacity()) {
      this.lsrErrors |= LSR_OE;
      return;
    }
    this.rxFifo[(this.rxHead + this.rxCount) % this.depth] = byte;
    this.rxCount++;
    if (this.fifoEnabled) this.timeoutPending = true;
  }

  private readRbr(): number {
    this.pull();
    if (this.rxCount === 0) return 0;
    const byte = this.rxFifo[this.rxHead];
    this.rxHead = (this.rxHead + 1) % this.depth;
    this.rxCount--;
    if (this.rxCount === 0) this.timeoutPending = false;
    this.pull();
    this.update();
    return byte;
  }

  // Moves waiting host input into the RX FIFO (not in loopback: the receiver is disconnected).
  private pull(): void {
    if (this.mcr & MCR_LOOP) return;
    let got = false;
    while (this.rxCount < this.capacity() && this.console.hasInput()) {
      this.receiveByte(this.console.read());
      got = true;
    }
    if (got) this.update();
  }

  private interruptId(): number {
    const ier = this.ier;
    if (ier & IER_RLSI && this.lsrErrors) return IIR_RLSI;
    if (ier & IER_RDI && this.rxCount > 0) {
      if (!this.fifoEnabled || this.rxCount >= this.rxTrigger()) return IIR_RDI;
      if (this.timeoutPending) return IIR_RX_TIMEOUT;
    }
    if (ier & IER_THRI && this.thrIpending) return IIR_THRI;
    return IIR_NO_INT; // modem status never changes (MSR deltas stay 0)
  }

  private update(): void {
    const level = this.interruptId() !== IIR_NO_INT;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }

  private readDw(offset: number): number {
    switch (offset) {
      case DW_UART_USR:
        this.pull();
        return (
          USR_TFNF | USR_TFE | (this.rxCount > 0 ? USR_RFNE : 0) | (this.rxCount >= this.capacity() ? USR_RFF : 0)
        );
      case DW_UART_TFL:
        return 0;
      case DW_UART_RFL:
        this.pull();
        return this.rxCount;
      case DW_UART_CPR:
        return this.cpr;
      case DW_UART_UCV:
        return DW_UCV_VALUE;
      case DW_UART_CTR:
        return DW_CTR_VALUE;
      default:
        return 0; // DLF (no fractional divisor), shadow and DMA registers: RAZ
    }
  }

  private writeDw(offset: number, v: number): void {
    if (offset === DW_UART_SRR) {
      // UR: whole-UART reset; RFR/XFR: FIFO resets.
      if (v & 1) this.reset();
      else {
        if (v & 2) this.clearRx();
        if (v & 4) this.thrIpending = true;
        this.update();
      }
    }
  }
}
