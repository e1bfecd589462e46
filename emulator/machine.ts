// Assembles a board description into a running machine: RAM and devices on the bus, the GIC,
// one generic timer per CPU, the UART console, PSCI firmware (native mode), and the CPUs run in
// deterministic round-robin time slices on one host thread (DESIGN.md "Determinism").
//
// Time: with `clock: 'cycles'` (the default) virtual time advances by modeled instruction costs
// only, and runFor() returns 'idle' when every CPU waits for an interrupt, leaving the caller to
// let the host sleep before advanceIdle() moves time to the next event (so an idle guest does not
// spin the host, and output stays deterministic). With `clock: 'host'` virtual time follows the
// host clock (RealTimePacer): counter reads see host time and slices end at the host's now.
import { Bus } from './bus/bus.ts';
import { Clock } from './clock/clock.ts';
import { CORE_MODELS, CORTEX_A76, type CoreModel, InstrClass } from './clock/cycle-model.ts';
import { Cpu, decoderFor } from './arm64/cpu.ts';
import { coreFeatures } from './arm64/features.ts';
import { GenericTimer, SystemCounter } from './devices/generic-timer.ts';
import type { Console } from './devices/console.ts';
import { PsciFirmware, type PowerController } from './firmware/psci.ts';
import { maybeGunzip, parseImageHeader, planLayout, ImageError, type ImageFile } from './boot/linux-image.ts';
import { sysregName } from './arm64/sysregs.ts';
import { attachPlatform, type Platform } from './platform.ts';
import type { BoardDescription } from '../boards/types.ts';
import { boardTree } from './fdt/board-tree.ts';
import { Fdt } from './fdt/fdt.ts';
import type { VirtioDevice } from './devices/virtio/device.ts';
import { RealTimePacer } from './clock/pacing.ts';
import { DEFAULT_SEED, Rng } from './rng.ts';

export interface MachineOptions {
  board: BoardDescription;
  smp?: number;
  memBytes?: number;
  gicVersion?: 2 | 3;
  console: Console;
  /** Virtual time per scheduling slice (ns). Smaller = finer interleaving of CPUs. */
  sliceNs?: number;
  /** Devices for the board's virtio-mmio slots, by slot number (DESIGN.md: --disk, virtio-rng). */
  virtio?: readonly (VirtioDevice | null | undefined)[];
  /**
   * 'cycles' (default): virtual time is modeled time, deterministic. 'host': virtual time follows
   * the host clock (interactive use; not reproducible).
   */
  clock?: ClockMode;
  /** Seeds everything random the guest is given (--seed); default DEFAULT_SEED. */
  seed?: bigint;
}

export type ClockMode = 'cycles' | 'host';

export interface LinuxBoot {
  /** The Image's bytes (gzip or not), or an uncompressed Image still in its file. */
  kernel: Uint8Array | ImageFile;
  /** The initramfs's bytes, or it still in its file (read straight into guest RAM). */
  initrd?: Uint8Array | ImageFile;
  /** A device tree to use instead of the generated one (its /chosen gets bootargs and the initrd;
   *  no seeds are added: the tree is the user's). */
  dtb?: Uint8Array;
  cmdline: string;
}

/**
 * What runFor() ends with. 'idle': every online CPU waits for an interrupt and nothing is due
 * before `machine.idleNs` of virtual time; the caller lets the host wait (at most that long, less
 * if host input arrives) and then calls advanceIdle().
 */
export type RunState = 'running' | 'idle' | 'poweroff' | 'reset' | 'hang' | 'stopped';

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
  readonly seed: bigint;
  private readonly online: boolean[] = [];
  /**
   * Each CPU's local time (DESIGN.md "Determinism"): t0[i] ns at the moment its count of executed
   * instructions plus charged stall (cpu.instret + cpu.stall) was c0[i]. A CPU may end a slice
   * ahead of it (its last block, EL2 work charged by chargeCycles): that time is its own and
   * carries into the next slice instead of being dropped, so the counter it reads never steps back.
   */
  private readonly t0: number[] = [];
  private readonly c0: number[] = [];
  private readonly nsPerInstr: number[] = [];
  /** The CPU inside cpu.run(), -1 between runs. */
  private running = -1;
  /** The running CPU armed a timer deadline (its run ended early to look at it). */
  private rearmed = false;
  private readonly sliceNs: number;
  /** Virtual time at the start of the current round (the 'host' clock's floor). */
  private sliceStart = 0;
  private state: RunState = 'running';
  /** Set in 'host' clock mode: virtual time from the host clock. */
  private readonly hostTime: RealTimePacer | null;
  /** After runFor() returned 'idle': virtual ns from now to the next clock event. */
  idleNs = 0;

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
    this.hostTime = opts.clock === 'host' ? new RealTimePacer(0) : null;
    this.seed = opts.seed ?? DEFAULT_SEED;
    this.bus.addRam(b.memory.base, this.memBytes);

    const counter = new SystemCounter(b.timer.freqHz);
    for (let i = 0; i < this.smp; i++) {
      const spec = b.cpus[i]!;
      // Each core decodes its own architecture: Armv8.2 on A76/A55, Armv8.0 on A72/A57/Denver2.
      const cpu = new Cpu(this.bus, decoderFor(coreFeatures(spec.core, { crypto: spec.crypto })));
      cpu.enableSystemMode();
      cpu.onUndefined = (c) => this.traceUndefined(c);
      const model = CORE_MODELS[spec.core] ?? CORTEX_A76;
      this.models.push(model);
      // Instructions per slice: the core's cycles in a slice over its cost of a simple instruction.
      const budget = Math.max(1, Math.floor(model.cyclesForNs(this.sliceNs) / model.costs[InstrClass.Alu]!));
      this.nsPerInstr.push(this.sliceNs / budget);
      // Exception entry and return cost the model's cycles (in units of simple instructions).
      cpu.exceptionStall = model.costs[InstrClass.Exception]! / model.costs[InstrClass.Alu]!;
      cpu.cyclesPerInstr = model.costs[InstrClass.Alu]!;
      this.cpus.push(cpu);
      this.online.push(false);
      this.t0.push(0);
      this.c0.push(0);
    }
    this.platform = attachPlatform(this, {
      board: b,
      gicVersion: this.gicVersion,
      console: opts.console,
      virtio: opts.virtio,
      log: (line) => this.traceSink(`shyper-emu: ${line}`),
    });
    for (let i = 0; i < this.smp; i++) {
      const cpu = this.cpus[i]!;
      const idx = i;
      const timer = new GenericTimer({
        clock: this.clock,
        counter,
        irqs: this.platform.timerIrqs(i),
        now: () => this.cpuNow(idx),
        onArm: () => {
          // The running CPU armed its timer: end its run so that runSlice() stops at the deadline.
          if (this.running === idx) {
            this.rearmed = true;
            cpu.stopRequested = true;
            cpu.exitRequest = 1;
          }
        },
        name: `cpu${i}.timer`,
      });
      this.timers.push(timer);
      cpu.sys.identity = {
        midr: b.cpus[i]!.midr,
        mpidr: BigInt(b.cpus[i]!.mpidr) | 0x80000000n | (b.cpus[i]!.mt ? 0x01000000n : 0n),
        gicv3: this.gicVersion === 3,
      };
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

  /** Virtual time (ns) as seen by CPU i: its local time, exact to the instruction. */
  cpuNow(i: number): number {
    if (this.hostTime !== null) return Math.max(this.sliceStart, this.hostTime.virtualNow());
    return Math.floor(this.localTime(i));
  }

  private localTime(i: number): number {
    const cpu = this.cpus[i]!;
    return this.t0[i]! + (cpu.instret + cpu.stall - this.c0[i]!) * this.nsPerInstr[i]!;
  }

  private setLocalTime(i: number, ns: number): void {
    const cpu = this.cpus[i]!;
    this.t0[i] = ns;
    this.c0[i] = cpu.instret + cpu.stall;
  }

  /**
   * Power on CPU i at EL2 (the EL2 port): the attached EL2 software's start entry runs on it at its
   * next turn. Used when a hypervisor is attached (el2-machine.ts).
   */
  startCpuAtEl2(i: number): void {
    const cpu = this.cpus[i]!;
    cpu.el = 2;
    cpu.el2StartPending = true;
    cpu.halted = false;
    cpu.waiting = false;
    this.online[i] = true;
  }

  /** Write physical memory (a loader, DMA, EL2 software): decoded code of every CPU stays coherent. */
  writePhys(pa: number, data: Uint8Array): void {
    this.bus.writeBytes(pa, data);
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

  /** End the run with this state at the next slice boundary (EL2 software: the MVM powered off). */
  end(state: 'poweroff' | 'reset'): void {
    if (this.state === 'running') this.finish(state);
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
    const kernel = boot.kernel instanceof Uint8Array ? maybeGunzip(boot.kernel) : boot.kernel;
    const hdr = kernel instanceof Uint8Array ? parseImageHeader(kernel) : parseImageHeader(kernel.head, kernel.size);
    const initrd = boot.initrd ?? new Uint8Array(0);
    const initrdSize = initrd instanceof Uint8Array ? initrd.length : initrd.size;
    const layout = planLayout(b.memory.base, this.memBytes, hdr, initrdSize, 0x200000);
    this.load(layout.kernelAddr, kernel);
    if (initrdSize) this.load(layout.initrdAddr, initrd);
    const fdt = boot.dtb ? Fdt.decode(boot.dtb) : boardTree(b, { smp: this.smp, memBytes: this.memBytes, gic: this.gicVersion, rng: new Rng(this.seed, 'chosen') });
    const chosen = fdt.ensureNode('/chosen');
    chosen.setString('bootargs', boot.cmdline);
    if (initrdSize) {
      chosen.setU64('linux,initrd-start', BigInt(layout.initrdAddr));
      chosen.setU64('linux,initrd-end', BigInt(layout.initrdEnd));
    }
    const blob = fdt.encode();
    if (blob.length > 0x200000) throw new ImageError('device tree larger than 2 MiB');
    this.bus.loadBytes(layout.dtbAddr, blob);
    // booting.rst: x0 = DTB physical address, x1..x3 = 0, MMU off, D-cache off, DAIF masked, EL1.
    this.startCpu(0, layout.kernelAddr, BigInt(layout.dtbAddr));
  }

  /** An image into guest RAM at `pa`: its bytes, or read straight from its file. */
  private load(pa: number, image: Uint8Array | ImageFile): void {
    if (image instanceof Uint8Array) this.bus.loadBytes(pa, image);
    else this.bus.fillBytes(pa, image.size, (into, done) => image.read(into, done));
  }

  /** Stop at the next slice boundary (user quit). */
  stop(): void {
    if (this.state === 'running') this.finish('stopped');
  }

  /**
   * Run slices for about `wallMs` of host time; returns the machine state afterwards, or 'idle'
   * as soon as every CPU waits with the next event `idleNs` away (virtual time is then not
   * advanced: call advanceIdle() once the host has waited).
   */
  runFor(wallMs: number): RunState {
    const end = performance.now() + wallMs;
    do {
      if (this.state !== 'running') return this.state;
      if (this.runSliceOrIdle()) return this.state === 'running' ? 'idle' : this.state;
    } while (performance.now() < end);
    return this.state;
  }

  /** One round (see runSliceOrIdle); when every CPU idles, virtual time skips to the next event. */
  runSlice(): void {
    if (this.runSliceOrIdle() && this.state === 'running') this.advanceIdle(Infinity);
  }

  /**
   * While every CPU idles after runFor() returned 'idle': let up to `ns` of virtual time pass,
   * never beyond the next event (Infinity: exactly to it, as a host timer for idleNs would). With
   * the 'host' clock, virtual time moves to the host's now instead, whatever `ns` says.
   */
  advanceIdle(ns: number): void {
    const now = this.clock.now;
    const next = this.clock.nextEventAt();
    if (this.hostTime !== null) {
      this.clock.advanceTo(Math.max(now, this.hostTime.virtualNow()));
      return;
    }
    if (next === Infinity) return;
    this.clock.advanceTo(Math.max(Math.min(next, now + Math.floor(ns)), now + 1));
  }

  /**
   * One round: every online CPU runs until its local time reaches the end of the slice; then
   * virtual time advances. A CPU's own timer fires at its exact deadline within the slice (the run
   * is split there), so an interrupt is taken at the instruction where the counter reaches the
   * compare value, not at the next slice boundary; a CPU idle in WFI skips to that deadline.
   * Returns true when no CPU could run (all wait for an interrupt): time is not advanced then,
   * idleNs is the virtual time to the next event (the state is 'hang' when there is none).
   */
  private runSliceOrIdle(): boolean {
    const host = this.hostTime;
    // Host clock: catch up with the host before the round (events due meanwhile fire now).
    if (host !== null) this.clock.advanceTo(host.virtualNow());
    const start = this.clock.now;
    const end = start + this.sliceNs;
    this.sliceStart = start;
    let anyRan = false;
    for (let i = 0; i < this.cpus.length; i++) {
      if (!this.online[i]) continue;
      const cpu = this.cpus[i]!;
      const timer = this.timers[i]!;
      this.platform.selectCpu(i);
      if (this.localTime(i) < start) this.setLocalTime(i, start);
      for (;;) {
        const now = this.localTime(i);
        if (now >= end) {
          // Ahead of the slice (EL2 work charged more cycles than the slice has) but not waiting:
          // it has work, so time goes on normally rather than skipping to the next event (a
          // 65k-cycle copy charged in the MVM's DEV_NOTIFY left its guest stalled for a tick).
          if (!cpu.waiting) anyRan = true;
          break;
        }
        // With the host clock the timers follow the host, not this CPU's count: no split there.
        let due = host !== null ? Infinity : timer.nextEventNs();
        if (due <= now) {
          timer.refresh();
          due = timer.nextEventNs();
          if (due <= now) due = Infinity; // left to the clock's own event (never expected)
        }
        const stop = due < end ? due : end;
        if (cpu.waiting && !(cpu.el === 2 ? cpu.wakeable() : cpu.checkInterrupts())) {
          // Idle in WFI: to this CPU's next deadline within the slice, if any.
          if (stop === end) break;
          this.setLocalTime(i, stop);
          timer.refresh();
          continue;
        }
        cpu.waiting = false;
        anyRan = true;
        this.running = i;
        this.rearmed = false;
        cpu.run(Math.max(1, Math.ceil((stop - now) / this.nsPerInstr[i]!)));
        this.running = -1;
        if (this.state !== 'running') return false;
        const after = this.localTime(i);
        if (after >= due) timer.refresh();
        if (cpu.waiting || this.rearmed) continue;
        if (after < stop) {
          // Stopped early (WFE, halted, a stop request): the rest of the slice passes idle, and
          // the spin-wait it sits in resumes after the other CPUs have run.
          this.setLocalTime(i, end);
          break;
        }
      }
    }
    if (anyRan) {
      this.clock.advanceTo(host !== null ? Math.max(start + 1, host.virtualNow()) : end);
      return false;
    }
    // Every CPU idles in WFI: the caller decides how time gets to the next event.
    const next = this.clock.nextEventAt();
    if (next === Infinity) {
      this.state = 'hang';
      return true;
    }
    this.idleNs = Math.max(1, next - start);
    return true;
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
