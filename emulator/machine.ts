// Assembles a board description into a running machine: RAM and devices on the bus, the GIC,
// one generic timer per CPU, the UART console, PSCI firmware (native mode), and the CPUs run in
// deterministic round-robin time slices on one host thread (DESIGN.md "Determinism").
import { Bus } from './bus/bus.ts';
import { Clock } from './clock/clock.ts';
import { CORE_MODELS, CORTEX_A76, type CoreModel, InstrClass } from './clock/cycle-model.ts';
import { Cpu, defaultDecoder } from './arm64/cpu.ts';
import { GenericTimer, SystemCounter } from './devices/generic-timer.ts';
import type { Console } from './devices/console.ts';
import { PsciFirmware, type PowerController } from './firmware/psci.ts';
import { maybeGunzip, parseImageHeader, planLayout, ImageError } from './boot/linux-image.ts';
import { setCpuIdentity } from './arm64/sysregs-el1.ts';
import { sysregName } from './arm64/sysregs.ts';
import { attachPlatform, type Platform } from './platform.ts';
import type { BoardDescription } from '../boards/types.ts';
import { boardTree } from './fdt/board-tree.ts';
import { Fdt } from './fdt/fdt.ts';

export interface MachineOptions {
  board: BoardDescription;
  smp?: number;
  memBytes?: number;
  gicVersion?: 2 | 3;
  console: Console;
  /** Virtual time per scheduling slice (ns). Smaller = finer interleaving of CPUs. */
  sliceNs?: number;
}

export interface LinuxBoot {
  kernel: Uint8Array;
  initrd?: Uint8Array;
  /** A device tree to use instead of the generated one (its /chosen is updated). */
  dtb?: Uint8Array;
  cmdline: string;
}

export type RunState = 'running' | 'poweroff' | 'reset' | 'hang' | 'stopped';

export class Machine {
  readonly bus = new Bus();
  readonly clock = new Clock();
  readonly cpus: Cpu[] = [];
  readonly timers: GenericTimer[] = [];
  readonly models: CoreModel[] = [];
  readonly platform: Platform;
  readonly smp: number;
  readonly memBytes: number;
  readonly gicVersion: 2 | 3;
  private readonly online: boolean[] = [];
  private readonly budgets: number[] = [];
  private readonly sliceStartInstret: number[] = [];
  private readonly nsPerInstr: number[] = [];
  private readonly sliceNs: number;
  private sliceStart = 0;
  private state: RunState = 'running';

  constructor(readonly opts: MachineOptions) {
    const b = opts.board;
    this.smp = opts.smp ?? b.cpus.length;
    if (this.smp < 1 || this.smp > b.cpus.length) throw new ImageError(`--smp ${this.smp}: board ${b.name} has 1 to ${b.cpus.length} CPUs`);
    this.memBytes = opts.memBytes ?? b.memory.defaultSize;
    if (this.memBytes > b.memory.maxSize || this.memBytes < 16 << 20 || this.memBytes % 4096 !== 0) {
      throw new ImageError(`--mem: board ${b.name} takes 16 MiB to ${b.memory.maxSize / 2 ** 20} MiB of RAM in 4 KiB units`);
    }
    this.gicVersion = opts.gicVersion ?? b.gic.version;
    if (!b.gic.versions.includes(this.gicVersion)) throw new ImageError(`--gic ${this.gicVersion}: board ${b.name} has GICv${b.gic.versions.join('/v')}`);
    this.sliceNs = opts.sliceNs ?? 20_000;
    this.bus.addRam(b.memory.base, this.memBytes);

    const counter = new SystemCounter(b.timer.freqHz);
    const decoder = defaultDecoder();
    for (let i = 0; i < this.smp; i++) {
      const cpu = new Cpu(this.bus, decoder);
      cpu.enableSystemMode();
      cpu.onUndefined = (c) => this.traceUndefined(c);
      const spec = b.cpus[i]!;
      const model = CORE_MODELS[spec.core] ?? CORTEX_A76;
      this.models.push(model);
      // Instructions per slice: the core's cycles in a slice over its cost of a simple instruction.
      this.budgets.push(Math.max(1, Math.floor(model.cyclesForNs(this.sliceNs) / model.costs[InstrClass.Alu]!)));
      this.nsPerInstr.push(this.sliceNs / this.budgets[i]!);
      this.cpus.push(cpu);
      this.online.push(false);
      this.sliceStartInstret.push(0);
    }
    this.platform = attachPlatform(this, { board: b, gicVersion: this.gicVersion, console: opts.console });
    for (let i = 0; i < this.smp; i++) {
      const cpu = this.cpus[i]!;
      const idx = i;
      const timer = new GenericTimer({
        clock: this.clock,
        counter,
        irqs: this.platform.timerIrqs(i),
        now: () => this.cpuNow(idx),
        name: `cpu${i}.timer`,
      });
      this.timers.push(timer);
      setCpuIdentity(cpu, {
        midr: b.cpus[i]!.midr,
        mpidr: BigInt(b.cpus[i]!.mpidr) | 0x80000000n | (b.cpus[i]!.mt ? 0x01000000n : 0n),
        gicv3: this.gicVersion === 3,
      });
      this.platform.attachCpu(i, cpu, timer);
    }
    const power: PowerController = {
      cpuIndexByMpidr: (m) => b.cpus.slice(0, this.smp).findIndex((c) => c.mpidr === m),
      isCpuOn: (i) => this.online[i]!,
      cpuOn: (i, entry, ctx) => this.startCpu(i, entry, ctx),
      cpuOff: (cpu) => {
        const i = this.cpus.indexOf(cpu);
        this.online[i] = false;
        cpu.stopRequested = true;
        cpu.exitRequest = 1;
      },
      systemOff: () => this.finish('poweroff'),
      systemReset: () => this.finish('reset'),
    };
    const fw = new PsciFirmware(power);
    for (const cpu of this.cpus) cpu.firmware = fw;
  }

  private readonly undefSeen = new Set<number>();
  /** Where UNDEFINED-instruction trace lines go (the CLI: stderr). */
  traceSink: (line: string) => void = (line) => process.stderr.write(line + '\n');

  /**
   * One line per distinct PC when EL1 software hits an UNDEFINED instruction or an unknown system
   * register (the guest gets the exception; the user learns what is missing). EL0 UNDEFs are
   * normal (Linux emulates MRS of ID registers from them) and traced only with SHYPER_TRACE_UNDEF.
   */
  private traceUndefined(c: Cpu): void {
    if (c.el === 0 && !process.env.SHYPER_TRACE_UNDEF) return;
    if (this.undefSeen.has(c.pc) || this.undefSeen.size >= 32) return;
    this.undefSeen.add(c.pc);
    const w = c.fetchWord(c.pc) >>> 0;
    let what = `insn=0x${w.toString(16).padStart(8, '0')}`;
    if ((w & 0xffd00000) === 0xd5100000) {
      const e = (((w >>> 19) & 3) << 14) | (((w >>> 16) & 7) << 11) | (((w >>> 12) & 15) << 7) | (((w >>> 8) & 15) << 3) | ((w >>> 5) & 7);
      what += ` (${w & (1 << 21) ? 'MRS' : 'MSR'} ${sysregName(e)})`;
    }
    this.traceSink(`shyper-emu: cpu${this.cpus.indexOf(c)} el${c.el} UNDEFINED at pc=0x${BigInt.asUintN(64, BigInt(c.pc)).toString(16)} ${what}`);
  }

  /** Virtual time as seen by CPU i inside the current slice. */
  cpuNow(i: number): number {
    const cpu = this.cpus[i]!;
    return this.sliceStart + Math.floor((cpu.instret - this.sliceStartInstret[i]!) * this.nsPerInstr[i]!);
  }

  private startCpu(i: number, entry: number, x0: bigint): void {
    const cpu = this.cpus[i]!;
    cpu.enableSystemMode();
    cpu.pc = entry;
    cpu.setX(0, x0);
    cpu.halted = false;
    cpu.waiting = false;
    this.online[i] = true;
  }

  private finish(state: RunState): void {
    this.state = state;
    for (const c of this.cpus) {
      c.stopRequested = true;
      c.exitRequest = 1;
    }
  }

  /** Load an arm64 Linux Image (booting.rst) with initrd and device tree; CPU 0 starts at it. */
  loadLinux(boot: LinuxBoot): void {
    const b = this.opts.board;
    const kernel = maybeGunzip(boot.kernel);
    const hdr = parseImageHeader(kernel);
    const initrd = boot.initrd ? boot.initrd : new Uint8Array(0);
    const layout = planLayout(b.memory.base, this.memBytes, hdr, initrd.length, 0x200000);
    this.bus.loadBytes(layout.kernelAddr, kernel);
    if (initrd.length) this.bus.loadBytes(layout.initrdAddr, initrd);
    const fdt = boot.dtb ? Fdt.decode(boot.dtb) : boardTree(b, { smp: this.smp, memBytes: this.memBytes, gic: this.gicVersion });
    const chosen = fdt.ensureNode('/chosen');
    chosen.setString('bootargs', boot.cmdline);
    if (initrd.length) {
      chosen.setU64('linux,initrd-start', BigInt(layout.initrdAddr));
      chosen.setU64('linux,initrd-end', BigInt(layout.initrdEnd));
    }
    const blob = fdt.encode();
    if (blob.length > 0x200000) throw new ImageError('device tree larger than 2 MiB');
    this.bus.loadBytes(layout.dtbAddr, blob);
    // booting.rst: x0 = DTB physical address, x1..x3 = 0, MMU off, D-cache off, DAIF masked, EL1.
    this.startCpu(0, layout.kernelAddr, BigInt(layout.dtbAddr));
  }

  /** Stop at the next slice boundary (user quit). */
  stop(): void {
    if (this.state === 'running') this.finish('stopped');
  }

  /** Run slices for about `wallMs` of host time; returns the machine state afterwards. */
  runFor(wallMs: number): RunState {
    const end = performance.now() + wallMs;
    do {
      if (this.state !== 'running') return this.state;
      this.runSlice();
    } while (performance.now() < end);
    return this.state;
  }

  /** One round: every online, non-waiting CPU runs one slice; then virtual time advances. */
  runSlice(): void {
    const start = this.clock.now;
    this.sliceStart = start;
    let anyRan = false;
    for (let i = 0; i < this.cpus.length; i++) {
      if (!this.online[i]) continue;
      const cpu = this.cpus[i]!;
      this.platform.selectCpu(i);
      this.sliceStartInstret[i] = cpu.instret;
      if (cpu.waiting && !cpu.checkInterrupts()) continue;
      cpu.waiting = false;
      anyRan = true;
      cpu.run(this.budgets[i]!);
      if (this.state !== 'running') return;
    }
    if (anyRan) {
      this.clock.advanceTo(start + this.sliceNs);
      return;
    }
    // Every CPU idles in WFI: skip virtual time to the next event.
    const next = this.clock.nextEventAt();
    if (next === Infinity) {
      this.state = 'hang';
      return;
    }
    this.clock.advanceTo(Math.max(next, start + 1));
  }

  instructions(): number {
    let n = 0;
    for (const c of this.cpus) n += c.instret;
    return n;
  }

  virtualNs(): number {
    return this.clock.now;
  }
}
