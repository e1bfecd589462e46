// The hypervisor's share of the board's RAM (as Rust-Shyper reserves its heap, at 0x200000 on
// rk3588): the bottom HYP_RESERVED bytes hold stage-2 tables and nothing a guest can map; the rest
// is the pool VM memory is allocated from (first fit, 2 MiB aligned so stage 2 uses blocks).
import type { El2Machine } from '../emulator/arm64/el2.ts';

export const HYP_RESERVED = 16 << 20;
const PAGE = 4096;
const BLOCK = 2 << 20;

/** Physical memory as EL2 software uses it: page-table pages, VM memory, byte copies. */
export class HypMemory {
  private nextPage: number;
  private readonly freePages: number[] = [];
  private readonly reservedEnd: number;
  /** Free ranges of the VM pool, sorted by address. */
  private readonly pool: { pa: number; size: number }[];

  constructor(readonly machine: El2Machine) {
    this.nextPage = machine.ramBase;
    this.reservedEnd = machine.ramBase + HYP_RESERVED;
    this.pool = [{ pa: this.reservedEnd, size: machine.ramSize - HYP_RESERVED }];
  }

  /** Bytes of RAM VMs can have in all. */
  get poolSize(): number {
    return this.machine.ramSize - HYP_RESERVED;
  }

  /** A zeroed 4 KiB page of hypervisor memory (stage-2 tables). */
  allocPage(): number {
    const pa = this.freePages.pop() ?? this.bumpPage();
    this.machine.writePhys(pa, ZERO_PAGE);
    return pa;
  }

  freePage(pa: number): void {
    this.freePages.push(pa);
  }

  private bumpPage(): number {
    if (this.nextPage + PAGE > this.reservedEnd) throw new Error('hypervisor memory exhausted (stage-2 tables)');
    const pa = this.nextPage;
    this.nextPage += PAGE;
    return pa;
  }

  /** Physical memory for a VM region of `size` bytes (2 MiB aligned), or -1 when the pool is short. */
  allocVm(size: number): number {
    const need = Math.ceil(size / BLOCK) * BLOCK;
    for (let i = 0; i < this.pool.length; i++) {
      const r = this.pool[i]!;
      const start = Math.ceil(r.pa / BLOCK) * BLOCK;
      const waste = start - r.pa;
      if (r.size - waste < need) continue;
      const rest = { pa: start + need, size: r.size - waste - need };
      const parts = [];
      if (waste > 0) parts.push({ pa: r.pa, size: waste });
      if (rest.size > 0) parts.push(rest);
      this.pool.splice(i, 1, ...parts);
      return start;
    }
    return -1;
  }

  /** Give a VM region back (VM removal). */
  freeVm(pa: number, size: number): void {
    const need = Math.ceil(size / BLOCK) * BLOCK;
    this.pool.push({ pa, size: need });
    this.pool.sort((a, b) => a.pa - b.pa);
    for (let i = 0; i + 1 < this.pool.length; ) {
      const a = this.pool[i]!;
      const b = this.pool[i + 1]!;
      if (a.pa + a.size === b.pa) {
        a.size += b.size;
        this.pool.splice(i + 1, 1);
      } else i++;
    }
  }

  /** Zero physical memory (a VM's RAM before (re)loading its images). */
  zero(pa: number, size: number): void {
    this.machine.zeroPhys(pa, size);
  }
}

const ZERO_PAGE = new Uint8Array(PAGE);
