// The contract between the physical address space and the devices mapped into it.
//
// A device sees accesses by offset from its base. Sizes are 1, 2, 4 or 8 bytes; values of up to
// 4 bytes are unsigned JS numbers. A 64-bit access goes to read64/write64 when the device has
// them (GICv3's GICD_IROUTER<n> and GICR_TYPER are 64-bit registers Linux reads with readq),
// otherwise the bus splits it into two 32-bit accesses, low word first.

export interface MmioDevice {
  /** Short name for traces and error messages ("gicd", "uart2"). */
  readonly name: string;
  read(offset: number, size: 1 | 2 | 4): number;
  write(offset: number, size: 1 | 2 | 4, value: number): void;
  read64?(offset: number): bigint;
  write64?(offset: number, value: bigint): void;
}

/** An access that reaches no RAM and no device: the CPU turns it into a synchronous external abort. */
export class BusError extends Error {
  constructor(readonly address: number, readonly write: boolean, readonly size: number) {
    super(`bus error: ${write ? 'write' : 'read'} of ${size} bytes at 0x${address.toString(16)}`);
  }
}
