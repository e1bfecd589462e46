// Interrupt wires. A device holds an IrqLine and drives it; the interrupt controller decides
// what the level or edge means (GIC SPI level-sensitive vs edge-triggered configuration).

export interface IrqLine {
  /** Drive the wire: true = asserted. Level-sensitive sources call this on every change. */
  set(level: boolean): void;
}

/** The signals an interrupt controller drives into one CPU (the GIC's IRQ/FIQ/vIRQ/vFIQ outputs). */
export interface CpuInterruptPins {
  setIrq(level: boolean): void;
  setFiq(level: boolean): void;
  /** GIC virtual CPU interface outputs (taken by the CPU only while HCR_EL2.IMO/FMO route them). */
  setVirq(level: boolean): void;
  setVfiq(level: boolean): void;
}
