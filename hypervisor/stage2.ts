// Stage-2 translation tables of one VM (ARM ARM D8.3, VMSAv8-64 stage 2, 4 KiB granule), written
// into hypervisor memory so the emulated MMU walks real tables: 39-bit IPA space starting at
// level 1 (VTCR_EL2.T0SZ = 25, SL0 = 1), 2 MiB blocks wherever IPA, PA and size allow, 4 KiB
// pages elsewhere. Normal memory is write-back cacheable; passthrough devices get Device-nGnRE
// (Rust-Shyper's dev_property), which is what keeps their accesses uncached and in order.
import type { El2Machine } from '../emulator/arm64/el2.ts';
import type { HypMemory } from './memory.ts';

const PAGE = 4096;
const BLOCK = 2 << 20;
const GIB = 1 << 30;
export const IPA_BITS = 39;

// Descriptor bits (D8.3.2 stage 2 block and page descriptors).
const VALID = 1n;
const TABLE = 2n; // at levels 1-2: next-level table; at level 3: page
const MEMATTR_NORMAL_WB = 0xfn << 2n; // MemAttr[3:0] = 0b1111: Normal, Inner/Outer Write-Back
const MEMATTR_DEVICE_nGnRE = 0x1n << 2n;
const S2AP_RW = 3n << 6n;
const S2AP_RO = 1n << 6n;
const SH_INNER = 3n << 8n;
const AF = 1n << 10n;
const XN = 1n << 54n;
const OA_MASK = 0x0000_ffff_ffff_f000n;

/** VTCR_EL2 for these tables: T0SZ 25, SL0 1 (start level 1), WB-WA walks, inner shareable, 4K, PS 40 bits. */
export const VTCR_VALUE = 25n | (1n << 6n) | (1n << 8n) | (1n << 10n) | (3n << 12n) | (0n << 14n) | (2n << 16n) | (1n << 31n);

export type Stage2Kind = 'normal' | 'device';

export class Stage2 {
  readonly root: number;

  constructor(
    private readonly mem: HypMemory,
    private readonly machine: El2Machine,
    readonly vmid: number,
  ) {
    this.root = mem.allocPage();
  }

  /** VTTBR_EL2: VMID [55:48], BADDR. */
  get vttbr(): bigint {
    return (BigInt(this.vmid) << 48n) | BigInt(this.root);
  }

  /** Map [ipa, ipa+size) to [pa, pa+size). */
  map(ipa: number, pa: number, size: number, kind: Stage2Kind, writable = true): void {
    if (ipa % PAGE || pa % PAGE || size % PAGE) throw new Error(`stage 2: unaligned mapping ipa=0x${ipa.toString(16)} pa=0x${pa.toString(16)} size=0x${size.toString(16)}`);
    if (ipa + size > 2 ** IPA_BITS) throw new Error(`stage 2: IPA 0x${(ipa + size).toString(16)} beyond ${IPA_BITS} bits`);
    const attrs = (kind === 'normal' ? MEMATTR_NORMAL_WB : MEMATTR_DEVICE_nGnRE | XN) | (writable ? S2AP_RW : S2AP_RO) | SH_INNER | AF;
    let off = 0;
    while (off < size) {
      const i = ipa + off;
      const p = pa + off;
      if (i % BLOCK === 0 && p % BLOCK === 0 && size - off >= BLOCK) {
        this.setEntry(i, 2, BigInt(p) | attrs | VALID);
        off += BLOCK;
      } else {
        this.setEntry(i, 3, BigInt(p) | attrs | TABLE | VALID);
        off += PAGE;
      }
    }
  }

  /** Remove [ipa, ipa+size) (whole blocks or pages). */
  unmap(ipa: number, size: number): void {
    let off = 0;
    while (off < size) {
      const i = ipa + off;
      const l2 = this.tableFor(i, 2, false);
      if (l2 < 0) {
        off += GIB - (i % GIB);
        continue;
      }
      const e2pa = l2 + Math.floor((i % GIB) / BLOCK) * 8;
      const e2 = this.machine.read64(e2pa);
      if ((e2 & 3n) === 1n || (e2 & 1n) === 0n) {
        this.machine.write64(e2pa, 0n);
        off += BLOCK - (i % BLOCK);
        continue;
      }
      const l3 = Number(e2 & OA_MASK);
      this.machine.write64(l3 + Math.floor((i % BLOCK) / PAGE) * 8, 0n);
      off += PAGE;
    }
  }

  /** Give every table page back to hypervisor memory (the VM is gone and no CPU uses its VTTBR). */
  free(): void {
    const walk = (table: number, level: number): void => {
      if (level < 3) {
        for (let k = 0; k < 512; k++) {
          const e = this.machine.read64(table + k * 8);
          if ((e & VALID) !== 0n && (e & TABLE) !== 0n) walk(Number(e & OA_MASK), level + 1);
        }
      }
      this.mem.freePage(table);
    };
    walk(this.root, 1);
  }

  /** The PA behind an IPA, or -1 when unmapped (the hypervisor's own software walk). */
  translate(ipa: number): number {
    if (ipa < 0 || ipa >= 2 ** IPA_BITS) return -1;
    let table = this.root;
    for (let level = 1; level <= 3; level++) {
      const shift = 12 + 9 * (3 - level);
      const e = this.machine.read64(table + (Math.floor(ipa / 2 ** shift) % 512) * 8);
      if ((e & VALID) === 0n) return -1;
      const oa = Number(e & OA_MASK);
      if (level < 3 && (e & TABLE) !== 0n) {
        table = oa;
        continue;
      }
      const size = 2 ** shift;
      return oa - (oa % size) + (ipa % size);
    }
    return -1;
  }

  private setEntry(ipa: number, level: 2 | 3, desc: bigint): void {
    const table = this.tableFor(ipa, level, true);
    const shift = level === 2 ? 21 : 12;
    this.machine.write64(table + (Math.floor(ipa / 2 ** shift) % 512) * 8, desc);
  }

  /** The table holding level-`level` entries for ipa (creating tables on the way when asked). */
  private tableFor(ipa: number, level: 2 | 3, create: boolean): number {
    let table = this.root;
    for (let l = 1; l < level; l++) {
      const shift = 12 + 9 * (3 - l);
      const epa = table + (Math.floor(ipa / 2 ** shift) % 512) * 8;
      const e = this.machine.read64(epa);
      if ((e & VALID) !== 0n && (e & TABLE) !== 0n) {
        table = Number(e & OA_MASK);
        continue;
      }
      if (!create) return -1;
      const next = this.mem.allocPage();
      if ((e & VALID) !== 0n && l === 2) {
        // Split a 2 MiB block into pages with the same attributes.
        const base = e & OA_MASK & ~BigInt(BLOCK - 1);
        const attrs = e & ~OA_MASK & ~3n;
        for (let k = 0; k < 512; k++) this.machine.write64(next + k * 8, (base + BigInt(k * PAGE)) | attrs | TABLE | VALID);
      }
      this.machine.write64(epa, BigInt(next) | TABLE | VALID);
      table = next;
    }
    return table;
  }
}
