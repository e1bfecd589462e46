// How much virtual time an instruction costs, per core type. Simple on purpose: a cost in cycles
// per instruction class and a nominal clock. What the machine applies today (machine.ts): every
// executed instruction advances its CPU's local time by the Alu cost; exception entry and return
// add the Exception cost (cpu.exceptionStall); EL2 software adds what it charges
// (El2Cpu.chargeCycles, hypervisor/cost.ts). The other classes are the table for a finer model.
// PMCCNTR_EL0 counts those cycles (emulator/arm64/pmu.ts).
//
// Constants (RK3588): Cortex-A76 at 2.4 GHz sustains about 2 simple instructions per cycle
// (0.5 cycle each, ~0.21 ns); Cortex-A55 at 1.8 GHz, in order, about 1 (0.56 ns). Loads and stores
// are charged as L1 hits; an MMIO access is charged ~40 ns, the order of an APB round trip.

export const enum InstrClass {
  Alu = 0,
  LoadStore = 1,
  Branch = 2,
  MulDiv = 3,
  Fp = 4,
  /** An access that left RAM for a device (charged on top of the LoadStore cost). */
  Mmio = 5,
  /** Exception entry or return (trap to EL1/EL2, ERET). */
  Exception = 6,
}
export const INSTR_CLASS_COUNT = 7;

export interface CoreModelSpec {
  readonly name: string;
  readonly freqHz: number;
  /** Cycles per instruction, indexed by InstrClass. */
  readonly cycles: readonly number[];
}

export class CoreModel {
  readonly name: string;
  readonly freqHz: number;
  /** Cycles per instruction class, for the CPU's hot loop. */
  readonly costs: Float64Array;
  // ns = cycles * nsNum / nsDen, 1e9/freqHz reduced to lowest terms.
  private readonly nsNum: number;
  private readonly nsDen: number;

  constructor(spec: CoreModelSpec) {
    if (spec.cycles.length !== INSTR_CLASS_COUNT) throw new Error(`core model ${spec.name}: need ${INSTR_CLASS_COUNT} costs`);
    if (!Number.isInteger(spec.freqHz) || spec.freqHz <= 0) throw new Error(`core model ${spec.name}: bad frequency`);
    this.name = spec.name;
    this.freqHz = spec.freqHz;
    this.costs = Float64Array.from(spec.cycles);
    const g = gcd(1e9, spec.freqHz);
    this.nsNum = 1e9 / g;
    this.nsDen = spec.freqHz / g;
  }

  /** Nanoseconds elapsed after `cycles` cycles (floor). */
  nsForCycles(cycles: number): number {
    return Math.floor((cycles * this.nsNum) / this.nsDen);
  }

  /** Whole cycles that fit in ns nanoseconds (floor): a run budget for the CPU. */
  cyclesForNs(ns: number): number {
    return Math.floor((ns * this.nsDen) / this.nsNum);
  }
}

export const CORTEX_A76 = new CoreModel({
  name: 'cortex-a76',
  freqHz: 2_400_000_000,
  //       alu  ld/st branch mul/div fp  mmio exception
  cycles: [0.5, 1, 0.5, 1, 1, 96, 24],
});

export const CORTEX_A55 = new CoreModel({
  name: 'cortex-a55',
  freqHz: 1_800_000_000,
  cycles: [1, 1.5, 1, 2, 2, 72, 18],
});

/** Cortex-A57 (TX2's A57 cluster, 2.0 GHz) and Cortex-A72 (Pi 4, 1.5 GHz): 3-wide out of order. */
export const CORTEX_A57 = new CoreModel({ name: 'cortex-a57', freqHz: 2_000_000_000, cycles: [0.75, 1, 0.75, 1.5, 1.5, 80, 20] });
export const CORTEX_A72 = new CoreModel({ name: 'cortex-a72', freqHz: 1_500_000_000, cycles: [0.75, 1, 0.75, 1.5, 1.5, 60, 16] });

export const CORE_MODELS: Readonly<Record<string, CoreModel>> = {
  'cortex-a76': CORTEX_A76,
  'cortex-a55': CORTEX_A55,
  'cortex-a57': CORTEX_A57,
  'cortex-a72': CORTEX_A72,
};

/** Per-CPU counters the CPU bumps; cycles is the CPU's local time in its own clock. */
export class CycleCounter {
  cycles = 0;
  instructions = 0;
  constructor(readonly model: CoreModel) {}
  charge(cls: InstrClass): void {
    this.cycles += this.model.costs[cls];
    this.instructions++;
  }
  get ns(): number {
    return this.model.nsForCycles(this.cycles);
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
