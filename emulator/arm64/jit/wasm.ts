// A small WebAssembly byte emitter (v86 writes its x86 translator's output the same way): opcodes
// as constants, a growable byte buffer with LEB128 immediates, and the one module shape the
// translator needs: an imported memory, helper and function table, the first function exported.
// Opcode values are from the WebAssembly core specification, section 5.4 (binary instructions).

export const enum Op {
  block = 0x02, loop = 0x03, if = 0x04, else = 0x05, end = 0x0b, br = 0x0c, br_if = 0x0d,
  br_table = 0x0e, return = 0x0f, call = 0x10, return_call = 0x12, return_call_indirect = 0x13, drop = 0x1a, select = 0x1b, unreachable = 0x00,
  local_get = 0x20, local_set = 0x21, local_tee = 0x22,
  i32_load = 0x28, i64_load = 0x29, f64_load = 0x2b,
  i32_load8_s = 0x2c, i32_load8_u = 0x2d, i32_load16_s = 0x2e, i32_load16_u = 0x2f,
  i64_load8_s = 0x30, i64_load8_u = 0x31, i64_load16_s = 0x32, i64_load16_u = 0x33,
  i64_load32_s = 0x34, i64_load32_u = 0x35,
  i32_store = 0x36, i64_store = 0x37, f64_store = 0x39, i32_store8 = 0x3a, i64_store8 = 0x3c, i64_store16 = 0x3d, i64_store32 = 0x3e,
  i32_const = 0x41, i64_const = 0x42, f64_const = 0x44,
  i32_eqz = 0x45, i32_eq = 0x46, i32_ne = 0x47, i32_lt_s = 0x48, i32_lt_u = 0x49, i32_le_u = 0x4d, i32_ge_s = 0x4e,
  i64_eqz = 0x50, i64_eq = 0x51, i64_ne = 0x52, i64_lt_u = 0x54, i64_le_u = 0x58, i64_ge_u = 0x5a,
  f64_eq = 0x61, f64_ne = 0x62, f64_lt = 0x63, f64_gt = 0x64, f64_le = 0x65, f64_ge = 0x66,
  i32_clz = 0x67, i32_add = 0x6a, i32_sub = 0x6b, i32_mul = 0x6c, i32_div_s = 0x6d, i32_div_u = 0x6e,
  i32_and = 0x71, i32_or = 0x72, i32_xor = 0x73, i32_shl = 0x74, i32_shr_s = 0x75, i32_shr_u = 0x76,
  i32_rotr = 0x78,
  i64_clz = 0x79, i64_add = 0x7c, i64_sub = 0x7d, i64_mul = 0x7e, i64_div_s = 0x7f, i64_div_u = 0x80,
  i64_and = 0x83, i64_or = 0x84, i64_xor = 0x85, i64_shl = 0x86, i64_shr_s = 0x87, i64_shr_u = 0x88,
  i64_rotr = 0x8a,
  f64_abs = 0x99, f64_neg = 0x9a, f64_add = 0xa0, f64_sub = 0xa1, f64_mul = 0xa2,
  i32_wrap_i64 = 0xa7, i32_trunc_f64_u = 0xab, i64_extend_i32_s = 0xac, i64_extend_i32_u = 0xad,
  i64_trunc_f64_s = 0xb0, f64_convert_i64_s = 0xb9, i64_reinterpret_f64 = 0xbd, f64_reinterpret_i64 = 0xbf,
  i64_extend8_s = 0xc2, i64_extend16_s = 0xc3, i64_extend32_s = 0xc4,
}

/**
 * SIMD instructions: the 0xfd prefix then this opcode as a LEB128 u32 (WebAssembly SIMD, the
 * final opcode table). Memory forms take memarg (align, offset); shuffle 16 lane indexes (0-15
 * the first operand, 16-31 the second); extract_lane a lane byte.
 */
export const enum SimdOp {
  v128_load = 0x00, v128_load64_splat = 0x0a, v128_store = 0x0b, v128_const = 0x0c, i8x16_shuffle = 0x0d,
  i32x4_splat = 0x11, i64x2_extract_lane = 0x1d,
  f64x2_eq = 0x47, f64x2_ne = 0x48, f64x2_lt = 0x49, f64x2_gt = 0x4a, f64x2_le = 0x4b, f64x2_ge = 0x4c,
  v128_not = 0x4d, v128_and = 0x4e, v128_andnot = 0x4f, v128_or = 0x50, v128_xor = 0x51, v128_any_true = 0x53,
  i32x4_add = 0xae, i32x4_sub = 0xb1, i32x4_mul = 0xb5,
  i64x2_all_true = 0xc3, i64x2_add = 0xce, i64x2_eq = 0xd6,
  f64x2_abs = 0xec, f64x2_neg = 0xed, f64x2_add = 0xf0, f64x2_sub = 0xf1, f64x2_mul = 0xf2, f64x2_div = 0xf3,
}

export const enum T {
  i32 = 0x7f,
  i64 = 0x7e,
  f64 = 0x7c,
  void = 0x40,
}

const f64Bits = new Float64Array(1);
const f64Bytes = new Uint8Array(f64Bits.buffer);

export class Bytes {
  buf = new Uint8Array(4096);
  len = 0;

  byte(b: number): void {
    if (this.len === this.buf.length) {
      const n = new Uint8Array(this.buf.length * 2);
      n.set(this.buf);
      this.buf = n;
    }
    this.buf[this.len++] = b;
  }
  op(o: Op): void {
    this.byte(o);
  }
  // The shapes both assemblers (emitter.ts, winterp-asm.ts) build everything from.
  get(l: number): void {
    this.op(Op.local_get);
    this.u32(l);
  }
  set(l: number): void {
    this.op(Op.local_set);
    this.u32(l);
  }
  tee(l: number): void {
    this.op(Op.local_tee);
    this.u32(l);
  }
  i32(v: number): void {
    this.op(Op.i32_const);
    this.s32(v);
  }
  i64(v: bigint | number): void {
    this.op(Op.i64_const);
    this.s64(v);
  }
  /** Push (i64) hi << 32 | lo from i32 locals: a page address passed in halves (a double would be boxed). */
  i64Halves(lo: number, hi: number): void {
    this.get(hi);
    this.op(Op.i64_extend_i32_s);
    this.i64(32);
    this.op(Op.i64_shl);
    this.get(lo);
    this.op(Op.i64_extend_i32_u);
    this.op(Op.i64_or);
  }
  /** A load or store: its opcode, alignment (log2) and offset. */
  mem(o: Op, offset: number, align = 0): void {
    this.op(o);
    this.u32(align);
    this.u32(offset);
  }
  u32(v: number): void {
    v >>>= 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.byte(b);
    } while (v !== 0);
  }
  s32(v: number): void {
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        this.byte(b);
        return;
      }
      this.byte(b | 0x80);
    }
  }
  s64(v: bigint | number): void {
    if (typeof v === 'number') {
      if (v === (v | 0)) {
        this.s32(v);
        return;
      }
      if (Number.isSafeInteger(v)) {
        // Signed LEB128 of a safe integer without BigInt: 7 bits at a time by floor division.
        for (;;) {
          const b = v - Math.floor(v / 128) * 128;
          v = Math.floor(v / 128);
          if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
            this.byte(b);
            return;
          }
          this.byte(b | 0x80);
        }
      }
      v = BigInt(v);
    }
    v = BigInt.asIntN(64, v);
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
        this.byte(b);
        return;
      }
      this.byte(b | 0x80);
    }
  }
  simd(o: SimdOp): void {
    this.byte(0xfd);
    this.u32(o);
  }
  /** v128.const with both 64-bit lanes the double v. */
  f64x2(v: number): void {
    this.simd(SimdOp.v128_const);
    f64Bits[0] = v;
    for (let k = 0; k < 16; k++) this.byte(f64Bytes[k & 7]!);
  }
  /** v128.const with both 64-bit lanes the integer v (|v| < 2^31). */
  i64x2(v: number): void {
    this.simd(SimdOp.v128_const);
    const lo = v | 0, hi = v < 0 ? -1 : 0;
    for (let k = 0; k < 16; k++) this.byte(((k & 7) < 4 ? lo >> (8 * (k & 3)) : hi) & 0xff);
  }
  /** f64.const v (the immediate is the value's 8 bytes, little-endian). */
  f64(v: number): void {
    this.op(Op.f64_const);
    f64Bits[0] = v;
    for (let k = 0; k < 8; k++) this.byte(f64Bytes[k]!);
  }
  bytes(b: ArrayLike<number>): void {
    if (this.len + b.length > this.buf.length) {
      const n = new Uint8Array(Math.max(this.buf.length * 2, this.len + b.length));
      n.set(this.buf.subarray(0, this.len));
      this.buf = n;
    }
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  str(s: string): void {
    this.u32(s.length);
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i));
  }
  /** A section: id, then the size-prefixed contents. */
  section(id: number, body: Bytes): void {
    this.byte(id);
    this.u32(body.len);
    this.bytes(body.buf.subarray(0, body.len));
  }
  get result(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/** One function of a module: its type index, locals (groups of [count, type]) and body (without the final `end`). */
export interface WasmFunction {
  type: number;
  locals: [number, T][];
  body: Bytes;
}

/** wasm32's most pages (4 GiB): the maximum a shared memory import must declare. */
export const MAX_MEMORY_PAGES = 65536;

/** An import of a translator module, all from namespace "e". */
export type Import =
  | { name: string; kind: 'memory' }
  | { name: string; kind: 'table' }
  | { name: string; kind: 'func'; type: number };

/**
 * A translator module: function types `types` ([params, result]); `imports` from namespace "e"
 * (function imports take the first function indices, in order); the functions `fns` after them,
 * the first exported as f.
 */
/** A module of `fns` (the first ones exported as `exportNames`: 'f' by default). */
export function buildModule(types: [T[], T][], imports: Import[], fns: WasmFunction[], exportNames: string[] = ['f']): Uint8Array {
  const m = new Bytes();
  m.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const ts = new Bytes();
  ts.u32(types.length);
  for (const [params, result] of types) {
    ts.byte(0x60);
    ts.u32(params.length);
    for (const p of params) ts.byte(p);
    ts.u32(1);
    ts.byte(result);
  }
  m.section(1, ts);
  const is = new Bytes();
  is.u32(imports.length);
  let funcImports = 0;
  for (const imp of imports) {
    is.str('e');
    is.str(imp.name);
    if (imp.kind === 'memory') {
      // Shared, at least 1 page, at most 4 GiB (guest-memory.ts: the guest memory is shared).
      is.bytes([0x02, 0x03, 0x01]);
      is.u32(MAX_MEMORY_PAGES);
    }
    else if (imp.kind === 'table') is.bytes([0x01, 0x70, 0x00, 0x01]); // funcref, at least 1 entry
    else {
      is.byte(0x00);
      is.u32(imp.type);
      funcImports++;
    }
  }
  m.section(2, is);
  const funcs = new Bytes();
  funcs.u32(fns.length);
  for (const f of fns) funcs.u32(f.type);
  m.section(3, funcs);
  const exports = new Bytes();
  exports.u32(exportNames.length);
  exportNames.forEach((name, i) => {
    exports.str(name);
    exports.byte(0x00);
    exports.u32(funcImports + i); // the functions defined here, in order
  });
  m.section(7, exports);
  const code = new Bytes();
  code.u32(fns.length);
  for (const f of fns) {
    const fn = new Bytes();
    fn.u32(f.locals.length);
    for (const [n, t] of f.locals) {
      fn.u32(n);
      fn.byte(t);
    }
    fn.bytes(f.body.buf.subarray(0, f.body.len));
    fn.byte(Op.end);
    code.u32(fn.len);
    code.bytes(fn.buf.subarray(0, fn.len));
  }
  m.section(10, code);
  return m.result;
}
