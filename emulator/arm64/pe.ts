// The AArch64 processing element's state and its exception and interrupt logic: the register file
// (regs.ts), PSTATE, system-register state (sysstate.ts), the MMU, the interrupt wires, taking
// and returning from exceptions (exceptions.ts holds the architectural entry and return), WFI/WFE,
// AT and unprivileged accesses. The memory access fast path (TinyEMU-style direct-mapped soft
// TLBs) is its base class, MemoryAccessor in memory-accessor.ts (the TLBs in soft-tlb.ts); the
// execution loop is the subclass, Cpu in cpu.ts, which is what the rest of the emulator uses.

import { RegisterFile, NF, ZF, CF, VF, FPCR, FPSR, EXCL_BYTE, EXCL_VALUE_BYTE } from './regs.ts';
import type { Decoder } from './decode/pattern.ts';
import { Access, type PhysicalMemory } from './memory.ts';
import { EC } from './ec.ts';
import { MemoryAccessor } from './memory-accessor.ts';
import { PAGE, TLB_MASK } from './soft-tlb.ts';
import { defaultDecoder } from './decoders.ts';
import { SystemState } from './sysstate.ts';
import { Mmu } from './mmu.ts';
import {
  dataAbortSyndromeFor,
  enterEl2,
  exceptionReturn,
  ExceptionKind,
  type Firmware,
  type Hypervisor,
  interruptAsserted,
  runAtEl2,
  takePendingInterrupt,
  takeSyncException,
} from './exceptions.ts';
import { HCR, SCTLR } from './sysstate.ts';
import { SLOT_DAIF } from './jit/guest-memory.ts';
import type { CpuTimer } from './timer-regs.ts';
import { Pmu } from './pmu.ts';
import type { Cpu } from './cpu.ts';
import { holdDoubles } from './double-fields.ts';

/** Thrown by raise* after an exception has been set up; caught by the run loop. */
export const EXCEPTION_TAKEN = { exceptionTaken: true } as const;
/** Thrown by raise* during an AT probe: the fault is recorded, not taken. */
const PROBE_FAULT = { probeFault: true } as const;

export { EC } from './ec.ts';

/** A device that owns system registers (GICv3 CPU interface, generic timer): see sysregs.ts. */
export interface SysregProvider {
  readSysreg(enc: number): bigint | undefined;
  writeSysreg(enc: number, v: bigint): boolean;
}

/**
 * Where synchronous exceptions go when there is no EL1 software to take them: run-elf (user-mode
 * programs) and the instruction oracle install one. Returning from the hook resumes at cpu.nextPc.
 */
export type ExceptionHook = (cpu: Cpu, ec: number, iss: number, far: number) => void;


export abstract class ProcessingElement extends MemoryAccessor {
  readonly regs = new RegisterFile(this.slot.buffer, this.slot.base);
  readonly r = this.regs.r;

  nextPc = 0;

  // PSTATE (besides NZCV, which lives in the register file); PSTATE.EL is `el` (soft-tlb.ts).
  /** PSTATE.SP: 0 = use SP_EL0, 1 = use SP_ELx. */
  spsel = 0;
  /** PSTATE.{D,A,I,F} as in SPSR bits [9:6], kept in the CPU's slot (the wasm interpreter's MRS/MSR DAIF). */
  private readonly daifWord = new Int32Array(this.slot.buffer, this.slot.base + SLOT_DAIF, 2);
  get daif(): number {
    return this.daifWord[0]!;
  }
  set daif(v: number) {
    this.daifWord[0] = v;
  }

  /** Instructions retired (all run() calls). */
  instret = 0;
  halted = false;
  /** Ask run() to return at the next block boundary (machine scheduler, debugger). */
  stopRequested = false;

  exceptionHook: ExceptionHook | null = null;
  /** Trace hook: called before an UNDEFINED instruction exception is raised (--trace undef). */
  onUndefined: ((cpu: Cpu) => void) | null = null;

  /**
   * Devices that own system registers (generic timer, GICv3 CPU interface), consulted by MRS/MSR
   * after the architectural register table: readSysreg returns undefined / writeSysreg false for
   * an encoding the device does not have.
   */
  readonly sysregProviders: SysregProvider[] = [];

  // Exclusive monitor (LDXR/STXR): address and size of the reservation, -1 when open, and the
  // value(s) the load-exclusive returned as lo, hi, lo2, hi2 words (exec/ls-excl.ts). In the
  // register file (regs.ts EXCL_BYTE), where the wasm interpreter keeps it too.
  private readonly exclusiveWords = new Int32Array(this.slot.buffer, this.slot.base + EXCL_BYTE, 3);
  get exclusiveAddr(): number {
    const w = this.exclusiveWords;
    return w[1]! * 4294967296 + (w[0]! >>> 0);
  }
  set exclusiveAddr(v: number) {
    const hi = Math.floor(v / 4294967296);
    this.exclusiveWords[0] = (v - hi * 4294967296) | 0;
    this.exclusiveWords[1] = hi | 0;
  }
  get exclusiveSize(): number {
    return this.exclusiveWords[2]!;
  }
  set exclusiveSize(v: number) {
    this.exclusiveWords[2] = v;
  }
  readonly exclusiveValue = new Int32Array(this.slot.buffer, this.slot.base + EXCL_VALUE_BYTE, 4);

  /** This PE's generic timer (CNTKCTL_EL1 and the EL1 virtual timer), or null (user mode). */
  timer: CpuTimer | null = null;

  /** Decodes for this CPU's core: its optional features (decoder.features) are the ID registers'. */
  readonly decoder: Decoder;

  /** EL1/EL2 system-register state the hardware consults. */
  readonly sys = new SystemState(this.slot);
  /** Stage 1 + stage 2 translation; becomes the translator in system mode. */
  readonly mmu: Mmu;
  /** EL2 software (the hypervisor port), or null: then HCR_EL2 controls are not in force. */
  hypervisor: Hypervisor | null = null;
  /** EL3 software (PSCI firmware in native mode), or null. */
  firmware: Firmware | null = null;
  /** PSTATE.IL after an illegal exception return: the next instruction is an Illegal State exception. */
  illegalState = false;
  /** In WFI/WFE, waiting for an interrupt (the machine's scheduler skips us until one is asserted). */
  waiting = false;
  /** EL2 software executed WFI (El2Cpu.park): the CPU stays at EL2 until an IRQ is asserted. */
  el2Parked = false;
  /** Powered on at EL2 (El2Machine.startCpu): EL2 software's start entry runs at the next turn. */
  el2StartPending = false;
  /**
   * Time charged by EL2 software (El2Cpu.chargeCycles) in units of simple instructions: counted
   * into this CPU's virtual time like executed instructions, but not into instret.
   */
  stall = 0;
  /** Cycles of this core per simple instruction (its core model; PMCCNTR_EL0 counts cycles). */
  cyclesPerInstr = 1;
  /**
   * What an exception entry or return costs, in simple instructions (the core model's Exception
   * class, set by the machine; 0 leaves exceptions free, as unit tests of the CPU expect).
   */
  exceptionStall = 0;
  /**
   * A counter read (MRS of CNTVCT_EL0, PMCCNTR_EL0...) at this PC ended its block and runs again
   * first in the next one, where the instruction count (hence the time) is exact: instret is
   * brought up to date only at block ends.
   */
  timedReadPc = -1;
  /** The PMU's cycle counter (pmu.ts). */
  readonly pmu = new Pmu();

  // Interrupt wires from the interrupt controller (GIC CPU interface outputs).
  irqLine = false;
  fiqLine = false;
  virqLine = false;
  vfiqLine = false;

  /** This PE as the Cpu it always is (cpu.ts's Cpu is its one subclass): what exceptions.ts takes. */
  private get cpu(): Cpu {
    return this as unknown as Cpu;
  }

  constructor(mem: PhysicalMemory, decoder?: Decoder) {
    super(mem);
    this.decoder = decoder ?? defaultDecoder();
    this.mmu = new Mmu(this.cpu);
    // Fields that come to hold addresses, counts past 2^31 or fractions (double-fields.ts): else
    // widened mid-boot, at a secondary CPU's first PC or the first exclusive load above 2 GiB.
    holdDoubles(this, ['pc', 'nextPc', 'va', 'instret', 'stall', 'cyclesPerInstr', 'exceptionStall', 'timedReadPc']);
    this.exclusiveAddr = -1;
  }


  /** Full-system operation: translations through the MMU, exceptions to EL1/EL2 software. */
  enableSystemMode(): void {
    this.translator = this.mmu;
    this.exceptionHook = null;
    this.el = 1;
    this.spsel = 1;
    this.daif = 0x3c0;
    this.setTlbContext(1);
  }

  /** The interrupt controller's view of this CPU: its four input wires. */
  readonly pins = {
    setIrq: (level: boolean): void => {
      this.irqLine = level;
      if (level) this.wake();
    },
    setFiq: (level: boolean): void => {
      this.fiqLine = level;
      if (level) this.wake();
    },
    setVirq: (level: boolean): void => {
      this.virqLine = level;
      if (level) this.wake();
    },
    setVfiq: (level: boolean): void => {
      this.vfiqLine = level;
      if (level) this.wake();
    },
  };

  /** An interrupt line changed: end the current block so it is looked at, and leave WFI. */
  wake(): void {
    this.exitRequest = 1;
    this.waiting = false;
  }

  // ---- registers (convenience for loaders, tests, debugger; not for hot paths) ----

  getX(n: number): bigint {
    return this.regs.x[n]!;
  }
  setX(n: number, v: bigint): void {
    this.regs.x[n] = BigInt.asUintN(64, v);
  }
  get nzcv(): number {
    const r = this.r;
    return (r[NF]! << 31) | (r[ZF]! << 30) | (r[CF]! << 29) | (r[VF]! << 28);
  }
  set nzcv(v: number) {
    const r = this.r;
    r[NF] = (v >>> 31) & 1;
    r[ZF] = (v >>> 30) & 1;
    r[CF] = (v >>> 29) & 1;
    r[VF] = (v >>> 28) & 1;
  }
  get fpcr(): number {
    return this.r[FPCR]! >>> 0;
  }
  set fpcr(v: number) {
    this.r[FPCR] = v;
  }
  get fpsr(): number {
    return this.r[FPSR]! >>> 0;
  }
  set fpsr(v: number) {
    this.r[FPSR] = v;
  }

  // ---- exceptions ----

  /**
   * Raise a synchronous exception with syndrome (EC, ISS) and fault address, then unwind the
   * current instruction. Without EL1 software (exceptionHook set) the hook receives it.
   */
  raise(ec: number, iss: number, far: number, preferredReturn: number): never {
    if (this.probing) {
      this.probeFsc = iss & 0x3f;
      throw PROBE_FAULT;
    }
    this.nextPc = preferredReturn;
    this.takeSync(ec, iss, far, preferredReturn);
    throw EXCEPTION_TAKEN;
  }

  /** UNDEFINED instruction (ESR EC 0). */
  raiseUndefined(): never {
    this.onUndefined?.(this.cpu);
    return this.raise(EC.UNKNOWN, 0, 0, this.pc);
  }

  /** SVC/HVC/SMC/BRK: an exception whose preferred return is set by the caller's class rules. */
  exceptionCall(ec: number, imm16: number): void {
    // SVC, HVC and SMC return to the next instruction; BRK returns to itself.
    const ret = ec === EC.BRK64 ? this.pc : this.nextPc;
    this.nextPc = ret;
    this.takeSync(ec, imm16 & 0xffff, 0, ret);
    if (ec === EC.BRK64) throw EXCEPTION_TAKEN;
  }

  /** Deliver a synchronous exception: to the user-mode hook, or architecturally (exceptions.ts). */
  private takeSync(ec: number, iss: number, far: number, preferredReturn: number): void {
    if (this.exceptionHook) {
      this.exceptionHook(this.cpu, ec, iss, far);
      return;
    }
    takeSyncException(this.cpu, ec, iss, far, preferredReturn);
  }

  /** Trap to EL2 (hypervisor) with full syndrome, then unwind the current instruction. */
  raiseToEl2(ec: number, iss: number, far: number, hpfar: number, preferredReturn: number): never {
    if (this.probing) {
      this.probeFsc = iss & 0x3f;
      this.probeStage2 = true;
      throw PROBE_FAULT;
    }
    this.nextPc = preferredReturn;
    enterEl2(this.cpu, ExceptionKind.Sync, ec, iss, far, hpfar, preferredReturn);
    throw EXCEPTION_TAKEN;
  }

  /** A trap to EL2 that does not unwind (the instruction's effect is replaced by the hypervisor's). */
  trapToEl2(ec: number, iss: number): void {
    enterEl2(this.cpu, ExceptionKind.Sync, ec, iss, 0, 0, this.pc);
  }

  /** Is the hypervisor attached and trapping with HCR_EL2 bit(s) `bits` (low word)? */
  hcrTraps(bits: number): boolean {
    return this.hypervisor !== null && this.el < 2 && (this.sys.hcr & bits) !== 0;
  }

  /** ERET at EL1 (EL0 ERET is UNDEFINED: the caller checks). */
  eret(): void {
    exceptionReturn(this.cpu, this.sys.spsr1, this.sys.elr1);
  }

  /**
   * A CPU at EL2 (just powered on, or parked by EL2 software) runs EL2 software's start or IRQ
   * entry; false while it stays parked with nothing asserted.
   */
  protected resumeFromEl2(): boolean {
    if (this.el2StartPending) {
      this.el2StartPending = false;
      runAtEl2(this.cpu, 'start');
    } else if (this.irqLine) {
      this.stall += this.exceptionStall; // the IRQ exception taken at EL2 out of its WFI
      runAtEl2(this.cpu, ExceptionKind.Irq);
    } else {
      this.waiting = true;
      return false;
    }
    if (this.el === 2) return false;
    this.waiting = false;
    this.exitRequest = 0;
    return true;
  }

  /** Would an interrupt (or an EL2 power-on) get this waiting CPU going again? */
  wakeable(): boolean {
    if (this.el === 2) return this.el2StartPending || this.irqLine;
    return interruptAsserted(this.cpu);
  }

  /** Take a pending unmasked interrupt; true if one was taken. */
  checkInterrupts(): boolean {
    if (this.el === 2 || !this.mayTakeInterrupt()) return false;
    return takePendingInterrupt(this.cpu);
  }

  /**
   * Could checkInterrupts take one: an interrupt wire asserted, or a virtual interrupt or SError
   * by HCR_EL2, masked or not. False means it takes none (the cheap test before the full one).
   */
  mayTakeInterrupt(): boolean {
    return this.irqLine || this.fiqLine || this.virqLine || this.vfiqLine || (this.hypervisor !== null && (this.sys.hcr & (HCR.VI | HCR.VF | HCR.VSE)) !== 0);
  }

  /**
   * WFI/WFE (ARM ARM D1.16): trapped to EL2 by HCR_EL2.TWI/TWE, to EL1 from EL0 unless
   * SCTLR_EL1.nTWI/nTWE; otherwise the PE idles until an interrupt is asserted (the machine
   * advances virtual time to the next event instead of spinning).
   */
  waitForInterrupt(isWfe: boolean): void {
    if (this.exceptionHook !== null) return; // user mode: a hint
    const trapBit = isWfe ? HCR.TWE : HCR.TWI;
    if (this.el === 0 && (this.sys.sctlr & (isWfe ? SCTLR.nTWE : SCTLR.nTWI)) === 0) {
      this.raise(EC.WFX, 0x1e00000 | (isWfe ? 1 : 0), 0, this.pc);
    }
    if (this.hcrTraps(trapBit)) {
      this.raiseToEl2(EC.WFX, 0x1e00000 | (isWfe ? 1 : 0), 0, 0, this.pc);
    }
    if (isWfe) {
      // WFE waits for an event; other PEs' SEV and exclusive-monitor clears are events we do not
      // track, so WFE ends this CPU's slice instead (a spurious wake-up is architecturally allowed)
      // and the spin-wait it sits in resumes after the other CPUs have run.
      this.eventRegister = false;
      this.stopRequested = true;
      this.exitRequest = 1;
      return;
    }
    if (interruptAsserted(this.cpu)) return;
    this.waiting = true;
    this.exitRequest = 1;
  }
  /** The WFE event register (set by SEV/SEVL and by exception return). */
  eventRegister = false;

  /** Set while AT translates: faults are recorded instead of taken. */
  private probing = false;
  private probeFsc = 0;
  private probeStage2 = false;

  /**
   * AT S1E1x/S1E0x (ARM ARM C5.5): translate without taking a fault; the PAR_EL1 value.
   * Success: PA[47:12] with F=0. Fault: F=1, FST (bits 6:1), S (bit 9) for a stage-2 fault.
   */
  translateForAt(va: number, access: Access, asEl0: boolean): bigint {
    this.probing = true;
    this.probeStage2 = false;
    const savedUnpriv = this.mmu.unprivileged;
    if (asEl0 && this.el === 1) this.mmu.unprivileged = true;
    try {
      const pa = this.mmu.translate(va, access);
      return BigInt(pa - (pa % 4096));
    } catch (e) {
      if (e !== PROBE_FAULT) throw e;
      return BigInt(1 | (this.probeFsc << 1) | (this.probeStage2 ? 1 << 9 : 0) | (1 << 11));
    } finally {
      this.probing = false;
      this.mmu.unprivileged = savedUnpriv;
    }
  }

  /** LDTR/STTR at EL1: make the accesses between begin/end with EL0 permissions. */
  beginUnprivileged(): void {
    if (this.el === 1) {
      this.mmu.unprivileged = true;
      this.tlbCtx = 0;
    }
  }
  endUnprivileged(): void {
    if (this.mmu.unprivileged) {
      this.mmu.unprivileged = false;
      this.setTlbContext(this.el);
    }
  }

  /** ISS instruction-syndrome bits of the executing load/store, for a data abort taken to EL2. */
  dataAbortInstructionSyndrome(): number {
    const pc = this.pc;
    const off = pc & 0xfff;
    const pn = (pc - off) / PAGE;
    const ti = (pn & TLB_MASK) + this.tlbCtx;
    if (this.xTag[ti] === pn) return dataAbortSyndromeFor(this.ram.getUint32(this.xPage[ti]!.ramOffset + off, true));
    // The block runs on from a page whose TLB entry a store into that same page dropped (code and
    // data sharing a page): find the instruction again through the translation tables.
    const par = this.translateForAt(pc - off, Access.Exec, false);
    if (par & 1n) return 0;
    const ro = this.mem.ramOffset(Number(par & 0xfffffffff000n) + off);
    return ro < 0 ? 0 : dataAbortSyndromeFor(this.ram.getUint32(ro, true));
  }
}
