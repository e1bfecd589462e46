// ARM PrimeCell UART PL011 (ARM DDI 0183, r1p5), as Linux's amba-pl011 driver uses it.
//
// Transmission is instantaneous: a byte written to UARTDR goes to the console at once, so the TX
// FIFO is always empty (FR.TXFE=1, TXFF=BUSY=0) and every write passes the FIFO through its
// trigger level, which asserts TXIS (TRM 2.8.x "UARTTXINTR": the interrupt is based on a
// transition through the level; cleared by UARTICR). amba-pl011 fills the FIFO until FR.TXFF or
// until its buffer is empty, and enables TXIM only while data remains, so this is all it needs.
// Transmission is not gated by CR.UARTEN/TXE (as QEMU), so earlycon works without firmware.
//
// Receive: bytes are pulled from the console while CR.UARTEN and CR.RXE are set and the RX FIFO
// has room. RXIS asserts when the FIFO fill crosses up to the IFLS trigger level and clears when
// reads take it below (or by ICR); RTIS asserts when received data sits in the FIFO with the
// line idle, which the model takes to be the end of each host input burst, and clears when the
// FIFO is emptied (or by ICR).
import type { MmioDevice } from '../bus/device.ts';
import type { Console } from './console.ts';
import type { IrqLine } from './irq.ts';

// Register offsets (TRM table 3-1).
export const UARTDR = 0x000;
export const UARTRSR = 0x004; // read: RSR, write: ECR
export const UARTFR = 0x018;
export const UARTILPR = 0x020;
export const UARTIBRD = 0x024;
export const UARTFBRD = 0x028;
export const UARTLCR_H = 0x02c;
export const UARTCR = 0x030;
export const UARTIFLS = 0x034;
export const UARTIMSC = 0x038;
export const UARTRIS = 0x03c;
export const UARTMIS = 0x040;
export const UARTICR = 0x044;
export const UARTDMACR = 0x048;
export const UARTPeriphID0 = 0xfe0;

// UARTFR bits.
export const FR_CTS = 1 << 0;
export const FR_DSR = 1 << 1;
export const FR_DCD = 1 << 2;
export const FR_BUSY = 1 << 3;
export const FR_RXFE = 1 << 4;
export const FR_TXFF = 1 << 5;
export const FR_RXFF = 1 << 6;
export const FR_TXFE = 1 << 7;

// Interrupt bits, shared by IMSC/RIS/MIS/ICR.
export const INT_RX = 1 << 4;
export const INT_TX = 1 << 5;
export const INT_RT = 1 << 6;
const INT_ALL = 0x7ff;

export const LCR_H_FEN = 1 << 4;
export const CR_UARTEN = 1 << 0;
export const CR_LBE = 1 << 7;
export const CR_TXE = 1 << 8;
export const CR_RXE = 1 << 9;

export interface Pl011Options {
  name?: string;
  console: Console;
  irq: IrqLine;
  /**
   * 32 (default): r1p5 silicon, PeriphID2 = 0x34, so amba-pl011 uses a 32-byte FIFO.
   * 16: PeriphID2 = 0x14, exactly QEMU's model (the qemu-virt board).
   */
  fifoDepth?: 16 | 32;
}

export class Pl011 implements MmioDevice {
  readonly name: string;
  private readonly console: Console;
  private readonly irq: IrqLine;
  private readonly depth: number;
  private readonly id: readonly number[];

  private readonly rxFifo: Uint8Array;
  private rxHead = 0;
  private rxCount = 0;

  private rsr = 0;
  private ilpr = 0;
  private ibrd = 0;
  private fbrd = 0;
  private lcrH = 0;
  private cr = 0;
  private ifls = 0;
  private imsc = 0;
  private ris = 0;
  private dmacr = 0;
  private irqLevel = false;

  constructor(opts: Pl011Options) {
    this.name = opts.name ?? 'pl011';
    this.console = opts.console;
    this.irq = opts.irq;
    this.depth = opts.fifoDepth ?? 32;
    // UARTPeriphID0..3 then UARTPCellID0..3 (TRM 3.3.14-3.3.15); PeriphID2[7:4] is the revision.
    this.id = [0x11, 0x10, this.depth === 32 ? 0x34 : 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1];
    this.rxFifo = new Uint8Array(this.depth);
    this.reset();
    this.console.setInputListener(() => this.receive());
  }

  reset(): void {
    this.rxHead = 0;
    this.rxCount = 0;
    this.rsr = 0;
    this.ilpr = 0;
    this.ibrd = 0;
    this.fbrd = 0;
    this.lcrH = 0;
    this.cr = CR_RXE | CR_TXE; // 0x300
    this.ifls = 0x12; // RX and TX trigger at 1/2
    this.imsc = 0;
    this.ris = 0;
    this.dmacr = 0;
    this.updateIrq();
  }

  read(offset: number, size: 1 | 2 | 4): number {
    const reg = offset & ~3;
    const v = this.readReg(reg);
    const shift = (offset & 3) * 8;
    return size === 4 ? v >>> 0 : (v >>> shift) & (size === 1 ? 0xff : 0xffff);
  }

  write(offset: number, _size: 1 | 2 | 4, value: number): void {
    // Narrow writes to the low lanes of a register are what earlycon and readw/writew do; a
    // write to an upper lane alone touches no implemented bits.
    if (offset & 3) return;
    this.writeReg(offset, value >>> 0);
  }

  private readReg(reg: number): number {
    switch (reg) {
      case UARTDR:
        return this.readDr();
      case UARTRSR:
        return this.rsr;
      case UARTFR:
        return this.flags();
      case UARTILPR:
        return this.ilpr;
      case UARTIBRD:
        return this.ibrd;
      case UARTFBRD:
        return this.fbrd;
      case UARTLCR_H:
        return this.lcrH;
      case UARTCR:
        return this.cr;
      case UARTIFLS:
        return this.ifls;
      case UARTIMSC:
        return this.imsc;
      case UARTRIS:
        return this.ris;
      case UARTMIS:
        return this.ris & this.imsc;
      case UARTDMACR:
        return this.dmacr;
      default:
        if (reg >= UARTPeriphID0 && reg <= 0xffc) return this.id[(reg - UARTPeriphID0) >> 2];
        return 0; // reserved: RAZ
    }
  }

  private writeReg(reg: number, v: number): void {
    switch (reg) {
      case UARTDR:
        this.transmit(v & 0xff);
        return;
      case UARTRSR:
        this.rsr = 0; // ECR: any write clears the error flags
        return;
      case UARTILPR:
        this.ilpr = v & 0xff;
        return;
      case UARTIBRD:
        this.ibrd = v & 0xffff;
        return;
      case UARTFBRD:
        this.fbrd = v & 0x3f;
        return;
      case UARTLCR_H:
        this.lcrH = v & 0xff;
        this.receive();
        return;
      case UARTCR:
        this.cr = v & 0xff87;
        this.receive();
        return;
      case UARTIFLS:
        this.ifls = v & 0x3f;
        return;
      case UARTIMSC:
        this.imsc = v & INT_ALL;
        this.updateIrq();
        return;
      case UARTICR:
        this.ris &= ~v;
        this.updateIrq();
        return;
      case UARTDMACR:
        this.dmacr = v & 0x7;
        return;
      default:
        return; // read-only or reserved: WI
    }
  }

  private fifoDepth(): number {
    return this.lcrH & LCR_H_FEN ? this.depth : 1;
  }

  // IFLS RXIFLSEL/TXIFLSEL: 1/8, 1/4, 1/2, 3/4, 7/8 full.
  private rxTrigger(): number {
    if (!(this.lcrH & LCR_H_FEN)) return 1;
    const sel = (this.ifls >> 3) & 7;
    const eighths = [1, 2, 4, 6, 7][sel] ?? 4;
    return (this.depth * eighths) >> 3;
  }

  private flags(): number {
    let fr = FR_TXFE;
    if (this.rxCount === 0) fr |= FR_RXFE;
    if (this.rxCount >= this.fifoDepth()) fr |= FR_RXFF;
    return fr;
  }

  private transmit(byte: number): void {
    if (this.cr & CR_LBE) this.pushRx(byte);
    else this.console.write(byte);
    this.ris |= INT_TX;
    this.updateIrq();
  }

  private readDr(): number {
    if (this.rxCount === 0) return 0;
    const byte = this.rxFifo[this.rxHead];
    this.rxHead = (this.rxHead + 1) % this.depth;
    this.rxCount--;
    if (this.rxCount < this.rxTrigger()) this.ris &= ~INT_RX;
    if (this.rxCount === 0) this.ris &= ~INT_RT;
    this.receive();
    this.updateIrq();
    return byte;
  }

  private pushRx(byte: number): boolean {
    if (this.rxCount >= this.fifoDepth()) return false;
    this.rxFifo[(this.rxHead + this.rxCount) % this.depth] = byte;
    this.rxCount++;
    if (this.rxCount === this.rxTrigger()) this.ris |= INT_RX;
    return true;
  }

  // Pulls host input while the receiver is enabled and the FIFO has room.
  private receive(): void {
    if ((this.cr & (CR_UARTEN | CR_RXE)) !== (CR_UARTEN | CR_RXE)) return;
    let got = false;
    while (this.rxCount < this.fifoDepth() && this.console.hasInput()) {
      this.pushRx(this.console.read());
      got = true;
    }
    if (got) {
      this.ris |= INT_RT;
      this.updateIrq();
    }
  }

  private updateIrq(): void {
    const level = (this.ris & this.imsc) !== 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }
}
