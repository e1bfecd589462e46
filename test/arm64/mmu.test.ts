// Stage 1 and stage 2 translation (ARM ARM D8), driven through the CPU's own memory accessors
// with page tables written the way Linux (stage 1) and a hypervisor (stage 2) write them.
import { beforeEach, describe, expect, it } from 'vitest';
import { Cpu, EC, EXCEPTION_TAKEN, defaultDecoder } from '../../emulator/arm64/cpu.ts';
import { FlatMemory } from '../../emulator/arm64/flat-memory.ts';
import { HCR, SCTLR } from '../../emulator/arm64/sysstate.ts';
import type { Hypervisor } from '../../emulator/arm64/exceptions.ts';

const TABLE = 3n;
const PAGE = 3n;
const BLOCK = 1n;
const AF = 1n << 10n;
const AP_EL0 = 1n << 6n; // AP[1]
const AP_RO = 1n << 7n; // AP[2]
const PXN = 1n << 53n;
const UXN = 1n << 54n;

class Tables {
  next: number;
  constructor(private readonly mem: FlatMemory, start: number) {
    this.next = start;
  }
  alloc(): number {
    const a = this.next;
    this.next += 0x1000;
    return a;
  }
  set(table: number, idx: number, desc: bigint): void {
    this.mem.ram.setBigUint64(table + idx * 8, desc, true);
  }
  /** Map one 4 KiB page in a 4-level (48-bit, 4 KiB granule) tree rooted at `root`. */
  map4k(root: number, va: bigint, pa: number, attrs: bigint): void {
    let t = root;
    for (let level = 0; level < 3; level++) {
      const shift = BigInt(39 - 9 * level);
      const idx = Number((va >> shift) & 511n);
      const cur = this.mem.ram.getBigUint64(t + idx * 8, true);
      if ((cur & 3n) !== 3n) {
        const nt = this.alloc();
        this.set(t, idx, BigInt(nt) | TABLE);
        t = nt;
      } else t = Number(cur & 0xfffffffff000n);
    }
    this.set(t, Number((va >> 12n) & 511n), BigInt(pa) | attrs | AF | PAGE);
  }
}

/** RAM, and two pages of a device above it whose registers read as their own address's low bits. */
const DEV = 0x9000000;
class DeviceMemory extends FlatMemory {
  readonly log: string[] = [];
  override read(pa: number, size: 1 | 2 | 4): number {
    if (pa < DEV || pa >= DEV + 0x2000) return super.read(pa, size);
    this.log.push(`r ${(pa - DEV).toString(16)}`);
    return pa & 0xffff;
  }
  override write(pa: number, size: 1 | 2 | 4, value: number): void {
    if (pa < DEV || pa >= DEV + 0x2000) return super.write(pa, size, value);
    this.log.push(`w ${(pa - DEV).toString(16)}=${value}`);
  }
}

/** TCR_EL1 as Linux sets it for 48-bit VAs with 4 KiB pages: T0SZ=T1SZ=16, TG0=4K, TG1=4K. */
const TCR_48_4K = 16 | (16 << 16) | (2 << 30);

function vaNumber(va: bigint): number {
  return Number(BigInt.asIntN(64, va));
}

describe('stage 1 translation', () => {
  let mem: FlatMemory;
  let cpu: Cpu;
  let tables: Tables;
  let root0: number;
  let root1: number;
  beforeEach(() => {
    mem = new FlatMemory(4 << 20);
    cpu = new Cpu(mem);
    cpu.enableSystemMode();
    tables = new Tables(mem, 0x100000);
    root0 = tables.alloc();
    root1 = tables.alloc();
    cpu.sys.tcr = TCR_48_4K;
    cpu.sys.ttbr0 = root0;
    cpu.sys.ttbr1 = root1;
    cpu.sys.sctlr |= SCTLR.M;
    cpu.sys.vbar1 = 0x8000;
  });

  function fault(fn: () => unknown): { ec: number; iss: number; far: number } {
    let thrown: unknown = null;
    try {
      fn();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBe(EXCEPTION_TAKEN);
    const esr = cpu.sys.esr1;
    return { ec: esr >>> 26, iss: esr & 0x1ffffff, far: cpu.sys.far1 };
  }

  it('translates a TTBR0 page and a TTBR1 (upper range) page', () => {
    tables.map4k(root0, 0x400000n, 0x80000, 0n);
    tables.map4k(root1, 0xffff000000001000n, 0x90000, 0n);
    mem.ram.setUint32(0x80010, 0xdeadbeef, true);
    mem.ram.setUint32(0x90ffc, 0x12345678, true);
    expect(cpu.read32(0x400010)).toBe(0xdeadbeef);
    expect(cpu.read32(vaNumber(0xffff000000001ffcn))).toBe(0x12345678);
  });

  it('2 MiB block at level 2 maps the offset inside the block', () => {
    const l1 = tables.alloc();
    const l2 = tables.alloc();
    tables.set(root0, 0, BigInt(l1) | TABLE);
    tables.set(l1, 0, BigInt(l2) | TABLE);
    tables.set(l2, 1, 0x200000n | AF | BLOCK); // VA 0x200000-0x3fffff -> PA 0x200000
    mem.ram.setUint32(0x3ffff0, 0xcafe, true);
    expect(cpu.read32(0x3ffff0)).toBe(0xcafe);
  });

  // (The MMU keeps 2 MiB blocks it walked for their other pages until the next full flush.)
  it("the other pages of a 2 MiB block: their own offsets, the block's permissions at every access", () => {
    const l1 = tables.alloc();
    const l2 = tables.alloc();
    tables.set(root0, 0, BigInt(l1) | TABLE);
    tables.set(l1, 0, BigInt(l2) | TABLE);
    tables.set(l2, 1, 0x200000n | AF | BLOCK | AP_RO); // VA 0x200000-0x3fffff -> PA 0x200000, EL1 read-only
    // Blocks 128 apart share an entry of the MMU's block cache: VA 0x10200000 -> PA 0.
    tables.set(l2, 129, 0x000000n | AF | BLOCK | AP_EL0 | UXN); // EL0 and EL1 read/write
    mem.ram.setUint32(0x200010, 1, true);
    mem.ram.setUint32(0x3fe020, 2, true);
    mem.ram.setUint32(0x000010, 3, true);
    mem.ram.setUint32(0x1fe020, 4, true);
    expect([cpu.read32(0x200010), cpu.read32(0x3fe020)]).toEqual([1, 2]);
    expect(cpu.read32(0x3fe020 - 0x1000)).toBe(0);
    // Read-only for EL1: a write to a page of it not touched before is a level-2 permission fault.
    // (Taking a fault enters EL1 and, SCTLR_EL1.SPAN being 0, sets PSTATE.PAN: cleared after each.)
    const w = fault(() => cpu.write32(0x300000, 5));
    expect([w.ec, w.iss & 0x7f, w.far]).toEqual([EC.DABT_SAME, 0x4e, 0x300000]);
    cpu.sys.pan = 0;
    expect([cpu.read32(0x10200010), cpu.read32(0x101fe020 + 0x200000)]).toEqual([3, 4]);
    cpu.write32(0x10280040, 6);
    expect(mem.ram.getUint32(0x80040, true)).toBe(6);
    // EL0 may read the second block, not the first (whose walk faults, and then whose kept block does).
    for (const va of [0x10280010, 0x280000, 0x2c0000]) {
      cpu.el = 0;
      cpu.setTlbContext(0);
      if (va === 0x10280010) {
        expect(cpu.read32(va)).toBe(0);
        continue;
      }
      const r = fault(() => cpu.read32(va));
      expect([r.ec, r.iss & 0x3f, r.far]).toEqual([EC.DABT_LOWER, 0x0e, va]);
    }
    cpu.el = 1;
    cpu.setTlbContext(1);
    cpu.sys.pan = 0;
    expect(cpu.read32(0x200010)).toBe(1);
    // PAN (a flush): EL1 data accesses to the EL0-accessible block fault.
    cpu.sys.pan = 1;
    cpu.flushTlb();
    expect(cpu.read32(0x200010)).toBe(1);
    expect(fault(() => cpu.read32(0x10280000)).iss & 0x3f).toBe(0x0e);
  });

  it('an unmapped address is a level-N translation fault with FAR, ESR EC=0x25 (same EL)', () => {
    tables.map4k(root0, 0x400000n, 0x80000, 0n);
    const f = fault(() => cpu.read32(0x401000));
    expect(f.ec).toBe(EC.DABT_SAME);
    expect(f.iss & 0x3f).toBe(0x07); // translation fault, level 3
    expect(f.far).toBe(0x401000);
    const g = fault(() => cpu.write32(0x7f0000000000, 1));
    expect(g.iss & 0x3f).toBe(0x04); // level 0
    expect((g.iss >>> 6) & 1).toBe(1); // WnR
  });

  it('AF=0 is an access flag fault (no hardware AF management)', () => {
    tables.map4k(root0, 0x400000n, 0x80000, 0n);
    // clear AF in the leaf
    const va = 0x400000n;
    let t = root0;
    for (let level = 0; level < 3; level++) {
      const idx = Number((va >> BigInt(39 - 9 * level)) & 511n);
      t = Number(mem.ram.getBigUint64(t + idx * 8, true) & 0xfffffffff000n);
    }
    const idx = Number((va >> 12n) & 511n);
    mem.ram.setBigUint64(t + idx * 8, mem.ram.getBigUint64(t + idx * 8, true) & ~AF, true);
    expect(fault(() => cpu.read8(0x400000)).iss & 0x3f).toBe(0x0b);
  });

  it('EL0 cannot read a privileged page; EL1 cannot write a read-only one; PAN blocks EL1 from EL0 data', () => {
    tables.map4k(root0, 0x400000n, 0x80000, 0n); // EL1 RW only
    tables.map4k(root0, 0x401000n, 0x81000, AP_RO); // EL1 RO
    tables.map4k(root0, 0x402000n, 0x82000, AP_EL0); // EL0+EL1 RW
    cpu.el = 0;
    cpu.setTlbContext(0);
    const f = fault(() => cpu.read32(0x400000));
    expect(f.ec).toBe(EC.DABT_LOWER);
    expect(f.iss & 0x3f).toBe(0x0f); // permission, level 3
    cpu.el = 1;
    cpu.setTlbContext(1);
    expect(cpu.read32(0x401000)).toBe(0);
    expect(fault(() => cpu.write32(0x401000, 5)).iss & 0x7f).toBe(0x4f);
    expect(cpu.read32(0x402000)).toBe(0);
    cpu.sys.pan = 1;
    cpu.flushTlb();
    expect(fault(() => cpu.read32(0x402000)).iss & 0x3f).toBe(0x0f);
  });

  it('exception entry to EL1 from EL0 uses VBAR_EL1 + 0x400 and saves ELR/SPSR', () => {
    cpu.el = 0;
    cpu.spsel = 0;
    cpu.setTlbContext(0);
    cpu.pc = 0x400123 & ~3;
    cpu.nzcv = 0x60000000;
    cpu.daif = 0;
    fault(() => cpu.read32(0x500000));
    expect(cpu.nextPc).toBe(0x8000 + 0x400);
    expect(cpu.sys.elr1).toBe(0x400120);
    expect(cpu.sys.spsr1).toBe(0x60000000); // EL0t, NZCV kept, DAIF clear
    expect(cpu.el).toBe(1);
    expect(cpu.daif).toBe(0x3c0);
  });

  it('execute-never: UXN at EL0, PXN at EL1, and EL1 cannot execute EL0-writable memory', () => {
    tables.map4k(root0, 0x400000n, 0x80000, AP_EL0 | AP_RO | UXN); // EL0 RO data
    tables.map4k(root0, 0x401000n, 0x81000, AP_EL0); // EL0 RW
    tables.map4k(root0, 0x402000n, 0x82000, PXN); // EL1 RW, PXN
    const mmu = cpu.mmu;
    cpu.el = 0;
    expect(() => mmu.translate(0x400000, 2)).toThrow();
    expect(cpu.sys.esr1 >>> 26).toBe(EC.IABT_LOWER);
    cpu.el = 1;
    expect(() => mmu.translate(0x401000, 2)).toThrow();
    expect(() => mmu.translate(0x402000, 2)).toThrow();
    expect(cpu.sys.esr1 >>> 26).toBe(EC.IABT_SAME);
    expect(cpu.sys.esr1 & 0x3f).toBe(0x0f);
  });
});

describe('TLBI by VA', () => {
  let mem: DeviceMemory;
  let cpu: Cpu;
  let tables: Tables;
  let root0: number;
  let root1: number;
  beforeEach(() => {
    mem = new DeviceMemory(4 << 20);
    cpu = new Cpu(mem);
    cpu.enableSystemMode();
    tables = new Tables(mem, 0x100000);
    root0 = tables.alloc();
    root1 = tables.alloc();
    cpu.sys.tcr = TCR_48_4K;
    cpu.sys.ttbr0 = root0;
    cpu.sys.ttbr1 = root1;
    cpu.sys.sctlr |= SCTLR.M;
    cpu.sys.vbar1 = 0x8000;
  });

  /** TLBI <op>, X0 with X0 = VA[55:12] (SYS #0, C8, C<crm>, #<op2>). */
  function tlbi(crm: number, op2: number, va: bigint): void {
    const word = (0xd5080000 | (8 << 12) | (crm << 8) | (op2 << 5)) >>> 0;
    const page = (va >> 12n) & 0xfffffffffffn;
    cpu.r[0] = Number(page & 0xffffffffn) | 0;
    cpu.r[1] = Number(page >> 32n) | 0;
    const d = defaultDecoder().decode(word);
    d.exec(cpu, d.fields);
  }

  it('VAE1IS drops the page it names (either VA range) and only that page', () => {
    tables.map4k(root0, 0x400000n, 0x80000, 0n);
    tables.map4k(root0, 0x401000n, 0x81000, 0n);
    tables.map4k(root1, 0xffff000000002000n, 0x82000, 0n);
    mem.ram.setUint32(0x80000, 1, true);
    mem.ram.setUint32(0x81000, 2, true);
    mem.ram.setUint32(0x82000, 3, true);
    mem.ram.setUint32(0x90000, 4, true);
    const upper = vaNumber(0xffff000000002000n);
    expect([cpu.read32(0x400000), cpu.read32(0x401000), cpu.read32(upper)]).toEqual([1, 2, 3]);
    // Remap all three to 0x90000: until a TLBI the soft TLB keeps the old translations.
    tables.map4k(root0, 0x400000n, 0x90000, 0n);
    tables.map4k(root0, 0x401000n, 0x90000, 0n);
    tables.map4k(root1, 0xffff000000002000n, 0x90000, 0n);
    expect(cpu.read32(0x400000)).toBe(1);
    tlbi(3, 1, 0x400000n);
    expect([cpu.read32(0x400000), cpu.read32(0x401000), cpu.read32(upper)]).toEqual([4, 2, 3]);
    tlbi(7, 7, 0xffff000000002000n); // VAALE1, the upper range: VA[55] set in Xt[43]
    expect([cpu.read32(0x401000), cpu.read32(upper)]).toEqual([2, 4]);
    tlbi(3, 0, 0n); // VMALLE1IS: everything
    expect(cpu.read32(0x401000)).toBe(4);
  });

  it('the Inner Shareable forms reach every CPU on the memory', () => {
    const other = new Cpu(mem);
    other.enableSystemMode();
    other.sys.tcr = TCR_48_4K;
    other.sys.ttbr0 = root0;
    other.sys.sctlr |= SCTLR.M;
    tables.map4k(root0, 0x400000n, 0x80000, 0n);
    tables.map4k(root0, 0x401000n, 0x81000, 0n);
    mem.ram.setUint32(0x80000, 1, true);
    mem.ram.setUint32(0x81000, 2, true);
    mem.ram.setUint32(0x90000, 4, true);
    expect([other.read32(0x400000), other.read32(0x401000)]).toEqual([1, 2]);
    tables.map4k(root0, 0x400000n, 0x90000, 0n);
    tables.map4k(root0, 0x401000n, 0x90000, 0n);
    tlbi(3, 1, 0x400000n); // VAE1IS on `cpu`
    expect(other.read32(0x400000)).toBe(4);
    tlbi(3, 0, 0n); // VMALLE1IS
    expect(other.read32(0x401000)).toBe(4);
  });

  it('a TLBI of one page of a 2 MiB block drops the whole block', () => {
    const l1 = tables.alloc();
    const l2 = tables.alloc();
    tables.set(root0, 0, BigInt(l1) | TABLE);
    tables.set(l1, 0, BigInt(l2) | TABLE);
    tables.set(l2, 1, 0x200000n | AF | BLOCK); // VA 0x200000-0x3fffff -> PA 0x200000
    mem.ram.setUint32(0x200000, 1, true);
    mem.ram.setUint32(0x3ff000, 2, true);
    mem.ram.setUint32(0x000000, 3, true);
    mem.ram.setUint32(0x1ff000, 4, true);
    expect([cpu.read32(0x200000), cpu.read32(0x3ff000)]).toEqual([1, 2]);
    tables.set(l2, 1, 0x000000n | AF | BLOCK); // now -> PA 0
    tlbi(3, 5, 0x200000n); // VALE1IS of the block's first page
    expect([cpu.read32(0x200000), cpu.read32(0x3ff000)]).toEqual([3, 4]);
  });

  /** MSR TTBR1_EL1, X0 with X0 = ASID:root. */
  function setTtbr1(root: number, asid: number): void {
    cpu.r[0] = root;
    cpu.r[1] = asid << 16;
    const d = defaultDecoder().decode(0xd5182020);
    d.exec(cpu, d.fields);
  }

  // KPTI's switch of TTBR1_EL1 at every exception from EL0 and return (soft-tlb.ts switchTtbr1):
  // an ASID-tagged TLB keeps both tables' entries, and so does the soft TLB, for the last two
  // values; every other change of translation is seen.
  it("TTBR1_EL1 switches: the last two values' pages kept, any other value walked anew, TLBIs reach both", () => {
    const rootB = tables.alloc();
    const rootC = tables.alloc();
    const va = 0xffff000000003000n;
    const upper = vaNumber(va);
    tables.map4k(root1, va, 0x80000, 0n);
    tables.map4k(rootB, va, 0x81000, 0n);
    tables.map4k(rootC, va, 0x82000, 0n);
    tables.map4k(root1, 0xffff000000004000n, DEV, AP_EL0); // a device page, EL0's too
    tables.map4k(rootB, 0xffff000000004000n, DEV + 0x1000, AP_EL0);
    for (const [pa, v] of [[0x80000, 1], [0x81000, 2], [0x82000, 3], [0x90000, 4]]) mem.ram.setUint32(pa!, v!, true);
    const dev = vaNumber(0xffff000000004010n);
    expect([cpu.read32(upper), cpu.read32(dev)]).toEqual([1, 0x10]);
    setTtbr1(rootB, 1);
    expect([cpu.read32(upper), cpu.read32(dev)]).toEqual([2, 0x1010]);
    // Back to the first value: its pages were kept (remapped without a TLBI, the old page is read).
    tables.map4k(root1, va, 0x90000, 0n);
    setTtbr1(root1, 0);
    expect([cpu.read32(upper), cpu.read32(dev)]).toEqual([1, 0x10]);
    // A TLBI made under one value drops the page under the other too.
    setTtbr1(rootB, 1);
    tlbi(7, 1, va); // VAE1
    setTtbr1(root1, 0);
    expect(cpu.read32(upper)).toBe(4);
    // The same base with another ASID is another value; a third value replaces the older one.
    tables.map4k(root1, va, 0x80000, 0n);
    tables.map4k(rootB, va, 0x90000, 0n);
    setTtbr1(root1, 2);
    expect(cpu.read32(upper)).toBe(1);
    setTtbr1(rootC, 0);
    expect(cpu.read32(upper)).toBe(3);
    setTtbr1(rootB, 1);
    expect(cpu.read32(upper)).toBe(4);
    // EL0's pages of the TTBR1 range go with any change; EL0's device pages too.
    setTtbr1(root1, 0);
    cpu.el = 0;
    cpu.setTlbContext(0);
    expect(cpu.read32(dev)).toBe(0x10);
    cpu.el = 1;
    setTtbr1(rootB, 1);
    cpu.el = 0;
    cpu.setTlbContext(0);
    expect(cpu.read32(dev)).toBe(0x1010);
    mem.ram.setUint32(0x91000, 5, true);
    tables.map4k(root1, 0xffff000000005000n, 0x91000, AP_EL0);
    tables.map4k(rootB, 0xffff000000005000n, 0x90000, AP_EL0);
    expect(cpu.read32(vaNumber(0xffff000000005000n))).toBe(4);
    cpu.el = 1;
    setTtbr1(root1, 0);
    cpu.el = 0;
    cpu.setTlbContext(0);
    expect(cpu.read32(vaNumber(0xffff000000005000n))).toBe(5);
  });

  it("TTBR1_EL1 switches: a 2 MiB block walked under one value is not another's", () => {
    const rootB = tables.alloc();
    for (const [root, pa] of [[root1, 0x200000], [rootB, 0x000000]]) {
      const l1 = tables.alloc();
      const l2 = tables.alloc();
      tables.set(root!, 0, BigInt(l1) | TABLE);
      tables.set(l1, 0, BigInt(l2) | TABLE);
      tables.set(l2, 1, BigInt(pa!) | AF | BLOCK); // VA 0xffff000000200000 + 2 MiB
    }
    mem.ram.setUint32(0x201000, 1, true);
    mem.ram.setUint32(0x202000, 2, true);
    mem.ram.setUint32(0x001000, 3, true);
    mem.ram.setUint32(0x002000, 4, true);
    expect(cpu.read32(vaNumber(0xffff000000201000n))).toBe(1);
    setTtbr1(rootB, 1);
    expect(cpu.read32(vaNumber(0xffff000000202000n))).toBe(4);
    setTtbr1(root1, 0);
    expect([cpu.read32(vaNumber(0xffff000000201000n)), cpu.read32(vaNumber(0xffff000000202000n))]).toEqual([1, 2]);
  });

  it('device pages: translated once, forgotten at a TLBI; reads, writes and each EL checked on their own', () => {
    const taken = (fn: () => unknown): number => {
      try {
        fn();
      } catch (e) {
        expect(e).toBe(EXCEPTION_TAKEN);
        return cpu.sys.esr1;
      }
      throw new Error('no exception');
    };
    tables.map4k(root0, 0x400000n, DEV, 0n); // EL1 read/write
    tables.map4k(root0, 0x401000n, DEV + 0x1000, AP_RO); // EL1 read-only
    expect([cpu.read32(0x400010), cpu.read32(0x400018), cpu.read32(0x401020)]).toEqual([0x10, 0x18, 0x1020]);
    cpu.write32(0x400004, 7);
    expect(mem.log).toEqual(['r 10', 'r 18', 'r 1020', 'w 4=7']);
    // A read of the read-only page went through: a write to it still faults (permission, level 3, WnR).
    expect(taken(() => cpu.write32(0x401000, 1)) & 0x7f).toBe(0x4f);
    // Not for EL0, whatever EL1 did.
    cpu.el = 0;
    cpu.setTlbContext(0);
    expect((taken(() => cpu.read32(0x400010)) >>> 26)).toBe(EC.DABT_LOWER);
    cpu.el = 1;
    cpu.setTlbContext(1);
    cpu.sys.pan = 0;
    // Remapped: the old page until a TLBI of it (as the RAM pages above), then the new one.
    tables.map4k(root0, 0x400000n, DEV + 0x1000, 0n);
    expect(cpu.read32(0x400020)).toBe(0x20);
    cpu.write32(0x400008, 8);
    tlbi(3, 1, 0x400000n);
    expect(cpu.read32(0x400020)).toBe(0x1020);
    cpu.write32(0x400008, 9);
    expect(mem.log.slice(-4)).toEqual(['r 20', 'w 8=8', 'r 1020', 'w 1008=9']);
  });
});

describe('stage 2 translation and the EL2 port', () => {
  it('a guest access to an unmapped IPA reaches the hypervisor with ESR_EL2, FAR_EL2 and HPFAR_EL2', () => {
    const mem = new FlatMemory(4 << 20);
    const cpu = new Cpu(mem);
    cpu.enableSystemMode();
    const seen: { esr: number; far: number; hpfar: number }[] = [];
    const hv: Hypervisor = {
      sync: (c) => {
        seen.push({ esr: c.sys.esr2, far: c.sys.far2, hpfar: c.sys.hpfar2 });
        c.sys.elr2 += 4; // emulate and skip, as a hypervisor does for MMIO
      },
      irq: () => {},
      fiq: () => {},
    };
    cpu.hypervisor = hv;
    // Stage 2: 40-bit IPA space (T0SZ=24), start at level 1 (SL0=1), 4 KiB granule.
    const t = new Tables(mem, 0x200000);
    const l1 = t.alloc();
    const l2 = t.alloc();
    const l3 = t.alloc();
    cpu.sys.vttbr = l1;
    cpu.sys.vtcr = 24 | (1 << 6);
    cpu.sys.hcr = HCR.VM | HCR.RW;
    t.set(l1, 1, BigInt(l2) | TABLE); // IPA 0x40000000..
    t.set(l2, 0, BigInt(l3) | TABLE);
    // IPA 0x40000000 -> PA 0x300000, S2AP = RW (bits 7:6 = 11)
    t.set(l3, 0, 0x300000n | AF | (3n << 6n) | PAGE);
    // IPA 0x40001000 -> PA 0x301000, read-only
    t.set(l3, 1, 0x301000n | AF | (1n << 6n) | PAGE);
    mem.ram.setUint32(0x300008, 0x11223344, true);
    expect(cpu.read32(0x40000008)).toBe(0x11223344);
    cpu.pc = 0x1000;
    expect(() => cpu.read32(0x40200010)).toThrow();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.esr >>> 26).toBe(EC.DABT_LOWER);
    expect(seen[0]!.esr & 0x3f).toBe(0x06); // translation fault, level 2
    expect(seen[0]!.far).toBe(0x40200010);
    expect(seen[0]!.hpfar).toBe((0x40200010 >>> 12) << 4);
    expect(cpu.nextPc).toBe(0x1004); // ELR_EL2 + 4 after the hypervisor emulated it
    expect(() => cpu.write32(0x40001000, 1)).toThrow();
    expect(seen[1]!.esr & 0x7f).toBe(0x40 | 0x0f); // WnR, permission level 3
  });
});
