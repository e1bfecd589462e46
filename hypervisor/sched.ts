// Per-physical-CPU scheduling (Rust-Shyper's sched_rr): placement is static — a pCPU holds at most
// one vCPU of each VM — and the vCPUs placed on one pCPU share it round-robin in 10 ms slices
// driven by the EL2 physical timer, which is armed only while more than one of them is runnable.
// A vCPU in WFI with nothing pending sleeps; a pCPU with nothing runnable executes WFI at EL2
// (park) and the host idles with it. The vCPU last run stays loaded while the pCPU idles, so its
// virtual timer keeps counting in hardware and its interrupt wakes it; a sleeping vCPU that is not
// loaded is woken by the EL2 timer at its virtual timer's deadline (Vcpu.timerDeadline).
import type { Vcpu } from './vcpu.ts';

export const SLICE_NS = 10_000_000;

export class PcpuSched {
  readonly vcpus: Vcpu[] = [];
  /** The vCPU whose EL1 context is in the physical CPU. */
  loaded: Vcpu | null = null;
  /** End of the loaded vCPU's slice (physical count) while other vCPUs here are runnable. */
  sliceEnd: bigint | null = null;
  /** What the EL2 timer is armed for (physical count): the slice end or a sleeper's wake-up. */
  timerAt: bigint | null = null;
  started = false;

  constructor(readonly index: number) {}

  add(v: Vcpu): void {
    if (this.vcpus.some((o) => o.vm === v.vm)) throw new Error(`pCPU ${this.index} already runs a vCPU of vm ${v.vm.id}`);
    this.vcpus.push(v);
  }

  remove(v: Vcpu): void {
    const i = this.vcpus.indexOf(v);
    if (i >= 0) this.vcpus.splice(i, 1);
    if (this.loaded === v) this.loaded = null;
  }

  runnableCount(): number {
    let n = 0;
    for (const v of this.vcpus) if (v.runnable) n++;
    return n;
  }

  /** The vCPU to run next: the loaded one while it is runnable, else the next runnable in order. */
  pick(): Vcpu | null {
    if (this.loaded !== null && this.loaded.runnable) return this.loaded;
    return this.after(this.loaded);
  }

  /** The next runnable vCPU after `v` in round-robin order (v itself if it is the only one). */
  after(v: Vcpu | null): Vcpu | null {
    const n = this.vcpus.length;
    const start = v === null ? -1 : this.vcpus.indexOf(v);
    for (let k = 1; k <= n; k++) {
      const c = this.vcpus[(start + k + n) % n]!;
      if (c.runnable) return c;
    }
    return null;
  }
}
