// Shyper at EL2: the hypervisor the emulated CPUs call on every trap (El2Software). It builds VMs
// from their setups (memory, stage 2, images, devices, interrupts), powers the physical CPUs on,
// and on each entry — start, synchronous trap, IRQ — handles the event, then picks the vCPU to
// run on that physical CPU, switches worlds if needed, fills its list registers and returns
// (the port performs the ERET), or parks the CPU when nothing is runnable.
import { El2Reg, HCR_EL2, type El1Context, type El2Cpu, type El2Machine, type El2Software } from '../emulator/arm64/el2.ts';
import { HypMemory } from './memory.ts';
import { PhysGic } from './vgic/phys-gic.ts';
import { Vgic } from './vgic/vgic.ts';
import { PcpuSched, SLICE_NS } from './sched.ts';
import { VTCR_VALUE } from './stage2.ts';
import { handleSync, type TrapHost } from './trap.ts';
import type { Vcpu } from './vcpu.ts';
import { Vm, type VirtualGic, type VmSetup } from './vm.ts';
import { COST } from './cost.ts';
import { PassthroughGic, guestHcr } from './rt.ts';

/** What the program (src/) gives the hypervisor: a log, and news of VMs stopping. */
export interface HypervisorIo {
  /** One line for the user (no trailing newline). */
  log(line: string): void;
  /** A VM powered off (PSCI SYSTEM_OFF) or reset itself (SYSTEM_RESET: it reboots). */
  vmStopped(vm: Vm, why: 'poweroff' | 'reset'): void;
}

/** The VM-facing side of a vGIC's host (hypervisor/vgic). */
export interface VgicHost {
  readonly vcpuCount: number;
  vmpidr(vcpuId: number): number;
  pcpu(vcpuId: number): number;
  kick(vcpuId: number): void;
}

export type VgicFactory = (host: VgicHost, machine: El2Machine, version: 2 | 3, spiCount: number) => VirtualGic;

/** The real vGIC (hypervisor/vgic); tests of the core may pass a stand-in. */
export const defaultVgic: VgicFactory = (host, machine, version, spis) => new Vgic(host, machine, version, spis);

/** SGI the hypervisor uses between physical CPUs (Rust-Shyper's IPI). */
const SGI_IPI = 1;
/**
 * Distinct log lines a VM can cause (faults, unknown hypercalls...). Past it the hypervisor says
 * once that it stops reporting that VM: a guest must not be able to flood the host's log (100 000
 * random hypercalls used to print a line each once 4096 distinct ones had been seen).
 */
export const LOG_LINES_PER_VM = 100;
const PPI_MAINTENANCE = 25;
const PPI_HYP_TIMER = 26;

// HCR_EL2 while a guest runs: stage 2, virtual interrupts (IMO/FMO/AMO), set/way invalidation
// upgraded (SWIO), WFI trapped (the vCPU may sleep), SMC trapped (PSCI is ours), AArch64 EL1.
const HCR_GUEST = HCR_EL2.VM | HCR_EL2.SWIO | HCR_EL2.FMO | HCR_EL2.IMO | HCR_EL2.AMO | HCR_EL2.TWI | HCR_EL2.TSC | HCR_EL2.RW;
const MIDR_EL1 = (3 << 14) | (0 << 11) | (0 << 7) | (0 << 3) | 0;
const CNTV_CTL_EL0 = (3 << 14) | (3 << 11) | (14 << 7) | (3 << 3) | 1;
const CNTV_CVAL_EL0 = (3 << 14) | (3 << 11) | (14 << 7) | (3 << 3) | 2;
const SPSR_EL1H_MASKED = 0x3c5;

export class Shyper implements El2Software, TrapHost {
  readonly vms: Vm[] = [];
  readonly mem: HypMemory;
  readonly gic: PhysGic;
  private readonly pcpus: PcpuSched[];
  /** Physical SPI → the VM that owns it. */
  private readonly irqOwner = new Map<number, Vm>();
  /** The physical CPU whose EL2 entry is running (kicks to it need no IPI). */
  private executing: El2Cpu | null = null;
  private readonly logged = new Set<string>();
  /** Removed VMs whose memory waits for their last loaded vCPU to leave its CPU (reap). */
  private readonly dying = new Set<Vm>();
  /** Distinct lines logged on each VM's behalf (key -1: the hypervisor's own), for LOG_LINES_PER_VM. */
  private readonly loggedPerVm = new Map<number, number>();
  private readonly resetContext: El1Context;
  private distributorReady = false;
  /** Work queued for each physical CPU by another (runOn): Rust-Shyper's IPI messages, its async tasks. */
  private readonly work: ((cpu: El2Cpu) => void)[][];

  constructor(
    readonly machine: El2Machine,
    private readonly io: HypervisorIo,
    private readonly createVgic: VgicFactory = defaultVgic,
    /** Round-robin time slice (Rust-Shyper: 10 ms). */
    private readonly sliceNs = SLICE_NS,
  ) {
    this.mem = new HypMemory(machine);
    this.gic = new PhysGic(machine);
    this.pcpus = machine.cpus.map((_, i) => new PcpuSched(i));
    this.work = machine.cpus.map(() => []);
    this.resetContext = machine.newContext();
  }

  // ---- building VMs ----

  /** Create a VM: memory, stage 2, devices, interrupts, images. Throws Error with a clear message. */
  createVm(setup: VmSetup): Vm {
    const m = this.machine;
    if (this.vms.some((v) => v.id === setup.id)) throw new Error(`vm ${setup.id}: id already in use`);
    for (const p of setup.pcpus) if (p < 0 || p >= m.cpus.length) throw new Error(`vm ${setup.id}: no physical CPU ${p} on ${m.board.name}`);
    const vm = new Vm(setup, m, this.mem, () => m.newContext());
    try {
      this.buildVm(vm);
    } catch (e) {
      // Nothing of a VM that could not be built stays behind (a VM the MVM configures at run time).
      for (const [intid, owner] of this.irqOwner) if (owner === vm) this.irqOwner.delete(intid);
      for (const r of vm.ram) {
        this.mem.zero(r.pa, r.size);
        this.mem.freeVm(r.pa, r.size);
      }
      vm.stage2.free();
      throw e;
    }
    for (const v of vm.vcpus) this.pcpus[v.pcpu]!.add(v);
    this.vms.push(vm);
    return vm;
  }

  private buildVm(vm: Vm): void {
    const setup = vm.setup;
    for (const r of setup.memory) {
      const pa = this.mem.allocVm(r.size);
      if (pa < 0) throw new Error(`vm ${setup.id}: not enough memory for its ${r.size / 2 ** 20} MiB region at IPA 0x${r.ipa.toString(16)}`);
      vm.mapMemory(r.ipa, pa, r.size);
    }
    for (const p of setup.passthrough) vm.mapDevice(p.ipa, p.pa, p.size, p.normal ? 'normal' : 'device');
    for (const intid of setup.irqs) {
      const owner = this.irqOwner.get(intid);
      if (owner !== undefined) throw new Error(`vm ${setup.id}: interrupt ${intid} is already owned by vm ${owner.id}`);
      this.irqOwner.set(intid, vm);
    }
    this.attachVgic(vm);
    this.addGicRegions(vm);
    for (const d of setup.devices) {
      const irq = d.irq;
      const sink = irq === undefined ? null : { set: (level: boolean) => vm.vgic.setLevel(irq, level), pulse: () => vm.vgic.inject(irq) };
      vm.addRegion({ name: d.name, base: d.base, size: d.size, handler: d.create(sink, vm) });
    }
    this.loadImages(vm);
  }

  /** A fresh vGIC for the VM (at creation and reset), owning the VM's interrupts. */
  private attachVgic(vm: Vm): void {
    const m = this.machine;
    // An RTVM with gic_passthrough gets the physical GIC instead of a vGIC (hypervisor/rt.ts).
    vm.vgic = vm.setup.gicPassthrough ? new PassthroughGic({ id: vm.id, pcpus: vm.setup.pcpus }, m) : this.createVgic(this.vgicHost(vm), m, m.gicVersion, m.board.gic.spis);
    for (const intid of vm.setup.irqs) vm.vgic.own(intid, intid);
    for (const d of vm.setup.devices) if (d.irq !== undefined) vm.vgic.own(d.irq);
    for (const intid of vm.setup.virqs ?? []) vm.vgic.own(intid);
  }

  /** The guest's GIC: an emulated distributor (and redistributors), the GICV frame as its GICC. */
  private addGicRegions(vm: Vm): void {
    const g = this.machine.board.gic;
    type Size = 1 | 2 | 4 | 8;
    const pt = vm.vgic instanceof PassthroughGic ? vm.vgic : null;
    vm.addRegion({
      name: pt ? 'GICD (passthrough, checked)' : 'vGICD',
      base: g.distBase,
      size: g.distSize,
      handler: { read: (o, s, vc) => vm.vgic.gicdAccess(vc, o, s as Size, false), write: (o, s, v, vc) => void vm.vgic.gicdAccess(vc, o, s as Size, true, v) },
      cost: pt ? COST.gpptAccess : COST.gicdAccess,
    });
    if (pt) {
      // Passthrough: the physical redistributors of the VM's cores, mapped (rt.ts).
      for (const f of pt.redistributorFrames()) vm.mapDevice(g.redistBase! + f.ipaOffset, f.pa, 0x20000);
    } else if (this.machine.gicVersion === 3) {
      vm.addRegion({
        name: 'vGICR',
        base: g.redistBase!,
        size: vm.vcpus.length * 0x20000,
        handler: { read: (o, s, vc) => vm.vgic.gicrAccess(vc, o, s as Size, false), write: (o, s, v, vc) => void vm.vgic.gicrAccess(vc, o, s as Size, true, v) },
        cost: COST.gicdAccess,
      });
    } else {
      vm.mapDevice(g.cpuBase!, g.gicvBase!, 0x2000);
    }
  }

  private vgicHost(vm: Vm): VgicHost {
    return {
      get vcpuCount() {
        return vm.vcpus.length;
      },
      vmpidr: (id) => vm.vcpus[id]!.vmpidr,
      pcpu: (id) => vm.vcpus[id]!.pcpu,
      kick: (id) => this.kick(vm.vcpus[id]!),
    };
  }

  private loadImages(vm: Vm): void {
    const s = vm.setup;
    const images: [string, { data: Uint8Array; ipa: number } | undefined][] = [['kernel', s.kernel], ['device tree', s.dtb], ['initrd', s.initrd]];
    for (const [what, img] of images) {
      if (img === undefined) continue;
      if (!vm.writeGuest(img.ipa, img.data)) {
        throw new Error(`vm ${s.id}: ${what} (${img.data.length} bytes at IPA 0x${img.ipa.toString(16)}) does not fit in the VM's memory`);
      }
    }
  }

  /** Boot a VM: its vCPU 0 starts at the entry point with x0 = DTB (Linux) or end of RAM (bare metal). */
  bootVm(vm: Vm): void {
    const s = vm.setup;
    const r0 = s.memory[0]!;
    const x0 = s.bareMetal ? r0.ipa + r0.size : (s.dtb?.ipa ?? 0);
    vm.state = 'pending';
    this.cpuOn(vm.vcpus[0]!, s.entry, BigInt(x0));
  }

  /** Power on every physical CPU at EL2 (cores without vCPUs park at once). */
  powerOn(): void {
    for (let i = 0; i < this.machine.cpus.length; i++) this.machine.startCpu(i);
  }

  // ---- EL2 entries ----

  start(cpu: El2Cpu): void {
    this.executing = cpu;
    if (!this.distributorReady) {
      this.gic.init();
      this.distributorReady = true;
    }
    this.gic.initCpu(cpu);
    this.pcpus[cpu.index]!.started = true;
    this.schedule(cpu);
    this.executing = null;
  }

  sync(cpu: El2Cpu): void {
    this.executing = cpu;
    cpu.chargeCycles(COST.trapVector + COST.syncDispatch); // modeled EL2 time (hypervisor/cost.ts)
    const p = this.pcpus[cpu.index]!;
    this.retire(cpu, p);
    const v = p.loaded;
    // (null: its VM was reset from another pCPU meanwhile; the trap died with the old incarnation.)
    if (v !== null) {
      v.vm.vgic.sync(v.id, cpu);
      handleSync(cpu, v, this);
    }
    this.schedule(cpu);
    this.executing = null;
  }

  irq(cpu: El2Cpu): void {
    this.executing = cpu;
    cpu.chargeCycles(COST.trapVector);
    const p = this.pcpus[cpu.index]!;
    this.retire(cpu, p);
    if (p.loaded !== null) p.loaded.vm.vgic.sync(p.loaded.id, cpu);
    this.handleIrqs(cpu, p);
    this.schedule(cpu);
    this.executing = null;
  }

  private handleIrqs(cpu: El2Cpu, p: PcpuSched): void {
    const vtimer = this.machine.board.timer.ppis[2] + 16;
    for (let n = 0; n < 16; n++) {
      const iar = this.gic.ack(cpu);
      const intid = iar & 0x3ff;
      if (intid >= 1020) return;
      this.gic.eoi(cpu, iar); // priority drop only (EOImode 1)
      cpu.chargeCycles(COST.irqAck);
      const v = p.loaded;
      if (intid === vtimer && v !== null && v.state !== 'off' && v.vm.vgic.injectHw(v.id, intid)) {
        cpu.chargeCycles(COST.virqInject);
        continue;
      }
      if (intid >= 32) {
        const owner = this.irqOwner.get(intid);
        if (owner !== undefined && owner.state !== 'off') {
          const target = owner.vcpus.find((c) => c.pcpu === cpu.index) ?? owner.vcpus[0]!;
          // The guest's deactivation of the hardware-linked vIRQ deactivates it physically.
          if (owner.vgic.injectHw(target.id, intid)) {
            cpu.chargeCycles(COST.virqInject);
            continue;
          }
        }
        this.logOnce(`spi:${intid}`, `shyper: physical interrupt ${intid} has no owner: ignored`);
      }
      this.gic.deactivate(cpu, iar);
      if (intid === PPI_HYP_TIMER) this.tick(cpu, p);
      else if (intid === PPI_MAINTENANCE && v !== null) v.vm.vgic.maintenance(v.id, cpu);
      // SGI_IPI: a kick; schedule() after us does the work.
    }
  }

  // ---- scheduling ----

  private schedule(cpu: El2Cpu): void {
    const p = this.pcpus[cpu.index]!;
    this.runWork(cpu);
    this.retire(cpu, p);
    if (p.loaded !== null && !p.vcpus.includes(p.loaded)) {
      // The loaded vCPU's VM was removed: drop its context (its virtual timer would keep firing).
      const gone = p.loaded.vm;
      cpu.restore(this.resetContext);
      p.loaded = null;
      this.reap(gone);
    }
    const next = p.pick();
    if (next === null) {
      this.setTick(cpu, p, false);
      cpu.park();
      return;
    }
    if (next !== p.loaded || next.pendingOn !== null) this.load(cpu, p, next);
    next.vm.vgic.flush(next.id, cpu);
    this.setTick(cpu, p, p.runnableCount() > 1);
  }

  /**
   * The loaded vCPU's VM was reset: the old vGIC empties the list registers it filled here (they
   * would otherwise reach the new incarnation or the next VM loaded here), and nothing counts as
   * loaded, so the next load restores a context and a vGIC state in full (the new vGIC's
   * restore() also sets the physical virtual-timer PPI's active state from scratch).
   */
  private retire(cpu: El2Cpu, p: PcpuSched): void {
    const l = p.loaded;
    if (l === null || l.retiredVgic === null) return;
    l.retiredVgic.save(l.id, cpu);
    l.retiredVgic = null;
    p.loaded = null;
  }

  /** World switch on this pCPU to `next` (and apply a pending CPU_ON / boot). */
  private load(cpu: El2Cpu, p: PcpuSched, next: Vcpu): void {
    const prev = p.loaded;
    if (prev !== null && prev !== next) {
      prev.timerDeadline = vtimerDeadline(cpu);
      prev.vm.vgic.save(prev.id, cpu);
      cpu.save(prev.ctx);
    }
    next.timerDeadline = null;
    const on = next.pendingOn;
    if (on !== null) next.ctx.words.set(this.resetContext.words);
    if (prev !== next || on !== null) {
      cpu.restore(next.ctx);
      cpu.chargeCycles(COST.worldSwitch);
    }
    if (on !== null) {
      next.pendingOn = null;
      cpu.elr = on.entry;
      cpu.spsr = SPSR_EL1H_MASKED;
      cpu.setX(0, on.contextId);
      if (next.vm.state === 'pending') next.vm.state = 'active';
    }
    const vm = next.vm;
    cpu.msr(El2Reg.VTCR_EL2, VTCR_VALUE);
    cpu.msr(El2Reg.VTTBR_EL2, vm.stage2.vttbr);
    cpu.msr(El2Reg.VMPIDR_EL2, BigInt(next.vmpidr));
    cpu.msr(El2Reg.VPIDR_EL2, cpu.mrs(MIDR_EL1));
    cpu.msr(El2Reg.HCR_EL2, guestHcr(vm.setup.gicPassthrough === true, HCR_GUEST));
    if (prev !== next) vm.vgic.restore(next.id, cpu);
    p.loaded = next;
  }

  /**
   * The EL2 timer: the slice boundary while more than one vCPU is runnable here (`roundRobin`),
   * or sooner, the virtual-timer deadline of a vCPU sleeping here that is not loaded (nothing
   * else would wake it: its timer is saved in its context, not counting in the hardware).
   */
  private setTick(cpu: El2Cpu, p: PcpuSched, roundRobin: boolean): void {
    if (!roundRobin) p.sliceEnd = null;
    else if (p.sliceEnd === null) {
      const freq = cpu.mrs(El2Reg.CNTFRQ_EL0);
      p.sliceEnd = cpu.mrs(El2Reg.CNTPCT_EL0) + (freq * BigInt(this.sliceNs)) / 1_000_000_000n;
    }
    let at = p.sliceEnd;
    for (const v of p.vcpus) {
      const d = v.timerDeadline;
      if (d !== null && v.state === 'sleeping' && v !== p.loaded && (at === null || d < at)) at = d;
    }
    if (at === p.timerAt) return;
    p.timerAt = at;
    if (at === null) {
      cpu.msr(El2Reg.CNTHP_CTL_EL2, 0n);
      return;
    }
    cpu.msr(El2Reg.CNTHP_CVAL_EL2, at);
    cpu.msr(El2Reg.CNTHP_CTL_EL2, 1n);
  }

  /** The EL2 timer fired: wake the sleepers whose virtual timer is due; at a slice end, switch. */
  private tick(cpu: El2Cpu, p: PcpuSched): void {
    cpu.chargeCycles(COST.schedTick);
    p.timerAt = null;
    cpu.msr(El2Reg.CNTHP_CTL_EL2, 0n);
    const now = cpu.mrs(El2Reg.CNTPCT_EL0);
    for (const v of p.vcpus) {
      if (v.state === 'sleeping' && v !== p.loaded && v.timerDeadline !== null && v.timerDeadline <= now) v.state = 'ready';
    }
    if (p.sliceEnd === null || now < p.sliceEnd) return;
    p.sliceEnd = null;
    const next = p.after(p.loaded);
    if (next !== null && next !== p.loaded) this.load(cpu, p, next);
  }

  /**
   * Run `fn` at EL2 on physical CPU `pcpu` (its cycles charged there): at the end of this entry if
   * it is the CPU executing, else at its next entry, which the IPI (or power-on) brings. Work that a
   * core does for another (Rust-Shyper's IPI handlers, the mediated disk's async tasks on their own
   * core) goes through here so that it is modeled on the core that does it.
   */
  runOn(pcpu: number, fn: (cpu: El2Cpu) => void): void {
    this.work[pcpu]!.push(fn);
    this.interruptCpu(pcpu);
  }

  private runWork(cpu: El2Cpu): void {
    const q = this.work[cpu.index]!;
    // Work may queue more work for this CPU: it runs in the same pass.
    while (q.length > 0) q.shift()!(cpu);
  }

  /** The physical CPU whose EL2 entry is running, if any (the one a handler's cycles are charged to). */
  get executingCpu(): El2Cpu | null {
    return this.executing;
  }

  /** Make a vCPU notice new work: wake it, and interrupt its physical CPU if that is another one. */
  kick(v: Vcpu): void {
    if (v.state === 'sleeping') v.state = 'ready';
    if (v.state === 'off') return;
    this.interruptCpu(v.pcpu);
  }

  /** Bring physical CPU `pcpu` to EL2 soon: power it on, or send it the IPI (not needed for this CPU). */
  private interruptCpu(pcpu: number): void {
    if (!this.pcpus[pcpu]!.started) {
      this.machine.startCpu(pcpu);
      return;
    }
    if (this.executing !== null && this.executing.index === pcpu) return;
    this.gic.sendSgi(this.executing ?? this.machine.cpus[pcpu]!, pcpu, SGI_IPI);
  }

  // ---- TrapHost ----

  wfi(v: Vcpu): void {
    if (!v.vm.vgic.pending(v.id)) v.state = 'sleeping';
  }

  wfe(v: Vcpu): void {
    const p = this.pcpus[v.pcpu]!;
    if (p.runnableCount() > 1 && this.executing !== null) {
      const next = p.after(v);
      if (next !== null && next !== v) this.load(this.executing, p, next);
    }
  }

  suspend(v: Vcpu): void {
    this.wfi(v);
  }

  cpuOn(target: Vcpu, entry: number, contextId: bigint): void {
    target.pendingOn = { entry, contextId };
    target.state = 'ready';
    this.kick(target);
  }

  cpuOff(v: Vcpu): void {
    v.state = 'off';
  }

  systemOff(v: Vcpu): void {
    const vm = v.vm;
    this.stopVm(vm);
    this.io.log(`shyper: vm${vm.id} (${vm.name}) powered off`);
    this.io.vmStopped(vm, 'poweroff');
  }

  systemReset(v: Vcpu): void {
    const vm = v.vm;
    this.io.log(`shyper: vm${vm.id} (${vm.name}) reset: rebooting from its images`);
    this.resetVm(vm);
    this.io.vmStopped(vm, 'reset');
    this.bootVm(vm);
  }

  // ---- VM management at run time (the MVM's hypercalls, hypervisor/hvc) ----

  /**
   * Stop a VM and put it back in its state before boot: RAM zeroed, images reloaded, a fresh vGIC.
   * bootVm() starts it again (Rust-Shyper vmm_reboot for a GVM).
   */
  resetVm(vm: Vm): void {
    this.stopVm(vm);
    for (const r of vm.ram) this.mem.zero(r.pa, r.size);
    this.loadImages(vm);
    // The old vGIC's state in the hardware goes with it: list registers where a vCPU is loaded
    // (retire()), and the active state of the physical SPIs it owns (no LR holds them any more).
    // (A second reset before retire() ran there keeps the first: its LRs are the ones in place.)
    for (const c of vm.vcpus) if (this.pcpus[c.pcpu]!.loaded === c && c.retiredVgic === null) c.retiredVgic = vm.vgic;
    for (const intid of vm.setup.irqs) if (intid >= 32) this.gic.setActive(intid, false, vm.vcpus[0]!.pcpu);
    this.attachVgic(vm);
    vm.state = 'inactive';
  }

  /**
   * Remove a VM (Rust-Shyper vmm_remove_vm): its vCPUs leave their physical CPUs (one still loaded
   * on another CPU is unloaded at that CPU's next entry, see schedule()), its RAM returns to the
   * pool, its SPIs lose their owner, its stage-2 tables are freed, its id is free again.
   */
  removeVm(vm: Vm): void {
    const i = this.vms.indexOf(vm);
    if (i < 0) return;
    this.stopVm(vm);
    for (const v of vm.vcpus) {
      const p = this.pcpus[v.pcpu]!;
      const loaded = p.loaded === v;
      p.remove(v);
      if (loaded) p.loaded = v; // unloaded by schedule() on its own CPU
    }
    for (const [intid, owner] of this.irqOwner) {
      if (owner !== vm) continue;
      this.irqOwner.delete(intid);
      this.gic.enable(intid, false);
    }
    this.vms.splice(i, 1);
    this.dying.add(vm);
    this.reap(vm);
  }

  /**
   * Free a removed VM's RAM (zeroed: the next VM must not read it) and stage-2 tables once no
   * physical CPU has one of its vCPUs loaded: until then that CPU may still run a few of its
   * instructions through its VTTBR.
   */
  private reap(vm: Vm): void {
    if (!this.dying.has(vm) || this.pcpus.some((p) => p.loaded?.vm === vm)) return;
    this.dying.delete(vm);
    for (const r of vm.ram) {
      this.mem.zero(r.pa, r.size);
      this.mem.freeVm(r.pa, r.size);
    }
    vm.ram.length = 0;
    vm.stage2.free();
    this.machine.invalidateTlbs();
  }

  /** Stop every vCPU of a VM (power off; resetVm or bootVm bring it back). */
  stopVm(vm: Vm): void {
    vm.state = 'off';
    for (const c of vm.vcpus) {
      c.state = 'off';
      c.pendingOn = null;
      // Its CPU stops running it at its next entry: make that now.
      if (this.pcpus[c.pcpu]!.started) this.interruptCpu(c.pcpu);
    }
    // Emulated devices forget the stopped guest (a virtio queue must not be used again: its
    // rings are in RAM that is zeroed and reloaded on a reset).
    for (const r of vm.regions) r.handler.reset?.();
  }

  /**
   * Shyper hypercalls (x7 = fid << 8 | event, arguments x0..x6): handled by the hypercall ABI
   * module when one is installed (hypervisor/hvc), else every call is an error.
   */
  hypercalls: ((cpu: El2Cpu, v: Vcpu) => bigint) | null = null;

  hypercall(cpu: El2Cpu, v: Vcpu): bigint {
    if (this.hypercalls !== null) return this.hypercalls(cpu, v);
    const x7 = Number(cpu.x(7) & 0xffffn);
    this.logOnce(`hvc:${v.vm.id}:${x7}`, `shyper: vm${v.vm.id}: unknown hypercall fid 0x${(x7 >> 8).toString(16)} event 0x${(x7 & 0xff).toString(16)}: error returned`, v.vm.id);
    return (1n << 64n) - 1n;
  }

  /** Log `line` the first time `key` is seen, within VM `vmId`'s budget (LOG_LINES_PER_VM). */
  logOnce(key: string, line: string, vmId = -1): void {
    if (this.logged.has(key)) return;
    const n = this.loggedPerVm.get(vmId) ?? 0;
    if (n > LOG_LINES_PER_VM) return;
    this.loggedPerVm.set(vmId, n + 1);
    if (n === LOG_LINES_PER_VM) {
      this.io.log(vmId < 0 ? 'shyper: further messages suppressed' : `shyper: vm${vmId}: further messages about this VM suppressed`);
      return;
    }
    this.logged.add(key);
    this.io.log(line);
  }
}

/**
 * The loaded vCPU's virtual timer deadline as a physical count (CVAL + CNTVOFF), or null when the
 * timer cannot interrupt (disabled or masked at the timer): read before its context is saved.
 */
function vtimerDeadline(cpu: El2Cpu): bigint | null {
  if ((cpu.mrs(CNTV_CTL_EL0) & 3n) !== 1n) return null; // ENABLE set, IMASK clear
  return cpu.mrs(CNTV_CVAL_EL0) + cpu.mrs(El2Reg.CNTVOFF_EL2);
}
