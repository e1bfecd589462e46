// Flattened Device Tree (Devicetree Specification v0.4, chapter 5): a node/property model with
// an encoder and a decoder for version 17 blobs. No maintained npm package exists (DESIGN.md).
// Properties are raw big-endian bytes; helpers read and write cells, strings and string lists.

const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;
const HEADER_SIZE = 40;
/** Deepest node nesting accepted (Linux: FDT_MAX_DEPTH in drivers/of/fdt.c). */
const MAX_DEPTH = 64;

export class FdtError extends Error {}

export class FdtNode {
  readonly props = new Map<string, Uint8Array>();
  readonly children: FdtNode[] = [];
  constructor(public name: string) {}

  child(name: string): FdtNode | undefined {
    return this.children.find((c) => c.name === name);
  }
  /** The child with this name, created (appended) if missing. */
  ensureChild(name: string): FdtNode {
    let c = this.child(name);
    if (!c) {
      c = new FdtNode(name);
      this.children.push(c);
    }
    return c;
  }
  addChild(name: string): FdtNode {
    if (this.child(name)) throw new FdtError(`duplicate node ${name}`);
    const c = new FdtNode(name);
    this.children.push(c);
    return c;
  }
  removeChild(name: string): void {
    const i = this.children.findIndex((c) => c.name === name);
    if (i >= 0) this.children.splice(i, 1);
  }

  setBytes(name: string, v: Uint8Array): this {
    this.props.set(name, v);
    return this;
  }
  setEmpty(name: string): this {
    return this.setBytes(name, new Uint8Array(0));
  }
  /** A list of 32-bit cells. */
  setCells(name: string, ...cells: number[]): this {
    const b = new Uint8Array(cells.length * 4);
    const dv = new DataView(b.buffer);
    cells.forEach((c, i) => dv.setUint32(i * 4, c >>> 0));
    return this.setBytes(name, b);
  }
  setU32(name: string, v: number): this {
    return this.setCells(name, v);
  }
  setU64(name: string, v: bigint): this {
    return this.setCells(name, Number(v >> 32n), Number(v & 0xffffffffn));
  }
  setString(name: string, s: string): this {
    return this.setBytes(name, new TextEncoder().encode(s + '\0'));
  }
  setStringList(name: string, list: string[]): this {
    return this.setBytes(name, new TextEncoder().encode(list.map((s) => s + '\0').join('')));
  }

  get(name: string): Uint8Array | undefined {
    return this.props.get(name);
  }
  getCells(name: string): number[] | undefined {
    const b = this.props.get(name);
    if (!b) return undefined;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const out: number[] = [];
    for (let i = 0; i + 4 <= b.length; i += 4) out.push(dv.getUint32(i));
    return out;
  }
  getU32(name: string): number | undefined {
    return this.getCells(name)?.[0];
  }
  getStringList(name: string): string[] | undefined {
    const b = this.props.get(name);
    if (!b) return undefined;
    const s = new TextDecoder().decode(b);
    return s.split('\0').slice(0, -1);
  }
  getString(name: string): string | undefined {
    return this.getStringList(name)?.[0];
  }
}

export interface Reservation {
  address: bigint;
  size: bigint;
}

export class Fdt {
  root = new FdtNode('');
  reservations: Reservation[] = [];
  bootCpuidPhys = 0;
  private nextPhandle = 1;

  /** Node at an absolute path ("/", "/cpus/cpu@0"), or undefined. */
  node(path: string): FdtNode | undefined {
    let n: FdtNode | undefined = this.root;
    for (const part of path.split('/').filter((p) => p.length > 0)) {
      n = n.child(part);
      if (!n) return undefined;
    }
    return n;
  }

  /** Node at a path, creating missing nodes. */
  ensureNode(path: string): FdtNode {
    let n = this.root;
    for (const part of path.split('/').filter((p) => p.length > 0)) n = n.ensureChild(part);
    return n;
  }

  /** Give `node` a phandle (unique in this tree) and return it. */
  phandle(node: FdtNode): number {
    const existing = node.getU32('phandle');
    if (existing !== undefined) return existing;
    const used = new Set<number>();
    const walk = (n: FdtNode): void => {
      const p = n.getU32('phandle');
      if (p !== undefined) used.add(p);
      n.children.forEach(walk);
    };
    walk(this.root);
    while (used.has(this.nextPhandle)) this.nextPhandle++;
    const p = this.nextPhandle++;
    node.setU32('phandle', p);
    return p;
  }

  /**
   * The blob: header, reservations, structure block, strings block (names in first-use order).
   * Sized first, then written in place: built in arrays of numbers, byte by byte through
   * iterators, it cost ~5 ms of every boot's start (cold code, run once).
   */
  encode(): Uint8Array {
    const te = new TextEncoder();
    const align4 = (n: number): number => (n + 3) & ~3;
    const strOff = new Map<string, number>();
    const strings: Uint8Array[] = [];
    let stringsLen = 0;
    const names = new Map<FdtNode, Uint8Array>();
    let structLen = 4; // FDT_END
    const size = (n: FdtNode): void => {
      const name = te.encode(n.name);
      names.set(n, name);
      structLen += 4 + align4(name.length + 1) + 4; // FDT_BEGIN_NODE, the name, FDT_END_NODE
      for (const [k, v] of n.props) {
        if (!strOff.has(k)) {
          const b = te.encode(k);
          strOff.set(k, stringsLen);
          strings.push(b);
          stringsLen += b.length + 1;
        }
        structLen += 12 + align4(v.length);
      }
      for (const c of n.children) size(c);
    };
    size(this.root);

    const rsvOff = HEADER_SIZE;
    const rsvSize = (this.reservations.length + 1) * 16;
    const structOff = rsvOff + rsvSize;
    const stringsOff = structOff + structLen;
    const total = stringsOff + stringsLen;
    const out = new Uint8Array(Math.ceil(total / 4) * 4);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, FDT_MAGIC);
    dv.setUint32(4, out.length);
    dv.setUint32(8, structOff);
    dv.setUint32(12, stringsOff);
    dv.setUint32(16, rsvOff);
    dv.setUint32(20, 17);
    dv.setUint32(24, 16);
    dv.setUint32(28, this.bootCpuidPhys);
    dv.setUint32(32, stringsLen);
    dv.setUint32(36, structLen);
    this.reservations.forEach((r, i) => {
      dv.setBigUint64(rsvOff + i * 16, r.address);
      dv.setBigUint64(rsvOff + i * 16 + 8, r.size);
    });
    // (Padding and terminators are the zeros the array starts with.)
    let at = structOff;
    const write = (n: FdtNode): void => {
      dv.setUint32(at, FDT_BEGIN_NODE);
      const name = names.get(n)!;
      out.set(name, at + 4);
      at += 4 + align4(name.length + 1);
      for (const [k, v] of n.props) {
        dv.setUint32(at, FDT_PROP);
        dv.setUint32(at + 4, v.length);
        dv.setUint32(at + 8, strOff.get(k)!);
        out.set(v, at + 12);
        at += 12 + align4(v.length);
      }
      for (const c of n.children) write(c);
      dv.setUint32(at, FDT_END_NODE);
      at += 4;
    };
    write(this.root);
    dv.setUint32(at, FDT_END);
    let o = stringsOff;
    for (const b of strings) {
      out.set(b, o);
      o += b.length + 1;
    }
    return out;
  }

  /**
   * Parse a blob. Anything malformed is an FdtError (never a RangeError from reading past the
   * end): offsets and sizes are checked against the blob, nesting is bounded (Linux's unflatten
   * refuses trees deeper than FDT_MAX_DEPTH = 64 as well).
   */
  static decode(blob: Uint8Array): Fdt {
    if (blob.length < HEADER_SIZE) throw new FdtError('device tree blob too short');
    const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    if (dv.getUint32(0) !== FDT_MAGIC) throw new FdtError('not a device tree blob (bad magic)');
    const total = dv.getUint32(4);
    const structOff = dv.getUint32(8);
    const stringsOff = dv.getUint32(12);
    const rsvOff = dv.getUint32(16);
    const version = dv.getUint32(20);
    if (version < 16) throw new FdtError(`device tree version ${version} is too old`);
    if (total > blob.length) throw new FdtError(`device tree blob truncated (header says ${total} bytes, file has ${blob.length})`);
    if (total < HEADER_SIZE || structOff >= total || stringsOff > total || rsvOff > total || structOff % 4 !== 0 || rsvOff % 8 !== 0) {
      throw new FdtError('device tree header has offsets outside the blob');
    }
    const fdt = new Fdt();
    fdt.bootCpuidPhys = dv.getUint32(28);
    for (let o = rsvOff; ; o += 16) {
      if (o + 16 > total) throw new FdtError('device tree memory reservation map runs past the end');
      const address = dv.getBigUint64(o);
      const size = dv.getBigUint64(o + 8);
      if (address === 0n && size === 0n) break;
      fdt.reservations.push({ address, size });
    }
    const td = new TextDecoder();
    const cstr = (o: number): [string, number] => {
      let e = o;
      while (e < total && blob[e] !== 0) e++;
      if (e >= total) throw new FdtError('device tree string runs past the end');
      return [td.decode(blob.subarray(o, e)), e + 1];
    };
    const align4 = (v: number): number => Math.ceil(v / 4) * 4;
    let p = structOff;
    const stack: FdtNode[] = [];
    let root: FdtNode | null = null;
    for (;;) {
      if (p + 4 > total) throw new FdtError('device tree structure truncated');
      const tok = dv.getUint32(p);
      p += 4;
      if (tok === FDT_BEGIN_NODE) {
        if (root && stack.length === 0) throw new FdtError('device tree has more than one root node');
        if (stack.length >= MAX_DEPTH) throw new FdtError(`device tree nodes nested deeper than ${MAX_DEPTH}`);
        const [name, end] = cstr(p);
        p = align4(end);
        const n = new FdtNode(name);
        if (stack.length) stack[stack.length - 1]!.children.push(n);
        else root = n;
        stack.push(n);
      } else if (tok === FDT_END_NODE) {
        if (!stack.pop()) throw new FdtError('unbalanced END_NODE');
      } else if (tok === FDT_PROP) {
        if (p + 8 > total) throw new FdtError('device tree structure truncated');
        const len = dv.getUint32(p);
        const nameoff = dv.getUint32(p + 4);
        p += 8;
        if (p + len > total || !stack.length) throw new FdtError('bad property');
        if (stringsOff + nameoff >= total) throw new FdtError('property name outside the strings block');
        const [name] = cstr(stringsOff + nameoff);
        stack[stack.length - 1]!.props.set(name, blob.slice(p, p + len));
        p = align4(p + len);
      } else if (tok === FDT_NOP) {
        continue;
      } else if (tok === FDT_END) {
        break;
      } else throw new FdtError(`bad structure token ${tok}`);
    }
    if (!root || stack.length) throw new FdtError('device tree structure unbalanced');
    fdt.root = root;
    return fdt;
  }
}

// Interrupt specifiers of the arm,gic and arm,gic-v3 bindings (include/dt-bindings/interrupt-controller).
export const GIC_SPI = 0;
export const GIC_PPI = 1;
export const IRQ_TYPE_EDGE_RISING = 1;
export const IRQ_TYPE_LEVEL_HIGH = 4;

/** Values as pairs of cells (#address-cells = #size-cells = 2): `reg` of a node under /. */
export function cells64(...values: number[]): number[] {
  return values.flatMap((v) => [Math.floor(v / 2 ** 32), v >>> 0]);
}
