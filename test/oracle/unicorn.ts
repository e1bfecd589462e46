// A small koffi binding to Debian's libunicorn2 (Unicorn 2, QEMU's TCG underneath): the
// per-instruction oracle of DESIGN.md. Register ids are read from unicorn/arm64.h (Debian's
// libunicorn-dev) so they can never drift from the library's own numbering.
import { readFileSync } from 'node:fs';
import koffi from 'koffi';
import { LIBUNICORN, UNICORN_ARM64_H } from '../oracles.ts';

const UC_ARCH_ARM64 = 2;
const UC_MODE_ARM = 0;
const UC_PROT_ALL = 7;
// uc_control_type (unicorn.h): UC_CTL_CPU_MODEL = 7, UC_CTL_TB_FLUSH = 10.
const UC_CTL_CPU_MODEL = 7;
const UC_CTL_TB_FLUSH = 10;
const UC_CTL_IO_WRITE = 1;

export const UC_ERR = {
  OK: 0,
  READ_UNMAPPED: 6,
  WRITE_UNMAPPED: 7,
  FETCH_UNMAPPED: 8,
  INSN_INVALID: 10,
  EXCEPTION: 21,
} as const;

function loadRegisterIds(): Record<string, number> {
  const header = readFileSync(UNICORN_ARM64_H, 'utf8');
  const body = header.slice(header.indexOf('typedef enum uc_arm64_reg'));
  const ids: Record<string, number> = {};
  let next = 0;
  for (const line of body.slice(body.indexOf('{') + 1, body.indexOf('}')).split('\n')) {
    const m = /^\s*(UC_ARM64_REG_\w+)\s*(?:=\s*(\w+))?\s*,/.exec(line);
    if (!m) continue;
    const name = m[1]!.slice('UC_ARM64_REG_'.length);
    if (m[2] !== undefined) {
      const v = /^\d+$/.test(m[2]) ? Number(m[2]) : ids[m[2].slice('UC_ARM64_REG_'.length)];
      if (v === undefined) throw new Error(`unicorn/arm64.h: cannot resolve ${m[2]}`);
      ids[name] = v;
      next = v + 1;
    } else {
      ids[name] = next++;
    }
  }
  return ids;
}

let lib: ReturnType<typeof bind> | null = null;
function bind() {
  const l = koffi.load(LIBUNICORN);
  return {
    uc_open: l.func('int uc_open(int arch, int mode, _Out_ void **uc)'),
    uc_close: l.func('int uc_close(void *uc)'),
    uc_mem_map: l.func('int uc_mem_map(void *uc, uint64_t address, size_t size, uint32_t perms)'),
    uc_mem_write: l.func('int uc_mem_write(void *uc, uint64_t address, const uint8_t *bytes, size_t size)'),
    uc_mem_read: l.func('int uc_mem_read(void *uc, uint64_t address, _Out_ uint8_t *bytes, size_t size)'),
    uc_reg_write: l.func('int uc_reg_write(void *uc, int regid, const uint8_t *value)'),
    uc_reg_read: l.func('int uc_reg_read(void *uc, int regid, _Out_ uint8_t *value)'),
    uc_emu_start: l.func('int uc_emu_start(void *uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count)'),
    uc_ctl_int: l.func('int uc_ctl(void *uc, int control, int value)'),
    uc_ctl_0: l.func('int uc_ctl(void *uc, int control)'),
    uc_strerror: l.func('const char *uc_strerror(int code)'),
  };
}

let ids: Record<string, number> | null = null;
/** Unicorn's register ids by name (read from the header on first use, so that importing this
 *  file works on a machine without libunicorn-dev; test/oracles.ts decides whether to run). */
export const REG: Readonly<Record<string, number>> = new Proxy({}, {
  get: (_t, name) => (typeof name === 'string' ? (ids ??= loadRegisterIds())[name] : undefined),
});

export type CpuModel = 'a57' | 'a53' | 'a72' | 'max';
const MODELS: Record<CpuModel, number> = { a57: 0, a53: 1, a72: 2, max: 3 };

/** One Unicorn AArch64 engine. Values cross the boundary as little-endian byte buffers. */
export class Unicorn {
  private readonly uc: unknown;
  private readonly buf8 = Buffer.alloc(8);
  private readonly buf16 = Buffer.alloc(16);

  constructor(model: CpuModel = 'max') {
    lib ??= bind();
    const out = [null];
    check(lib.uc_open(UC_ARCH_ARM64, UC_MODE_ARM, out), 'uc_open');
    this.uc = out[0];
    // UC_CTL_WRITE(UC_CTL_CPU_MODEL, 1): type | (nr args << 26) | (io << 30)
    const ctl = UC_CTL_CPU_MODEL | (1 << 26) | (UC_CTL_IO_WRITE << 30);
    check(lib.uc_ctl_int(this.uc, ctl, MODELS[model]), 'uc_ctl(CPU_MODEL)');
  }

  /** Drop translated blocks: uc_mem_write does not invalidate code Unicorn already translated. */
  flushTb(): void {
    check(lib!.uc_ctl_0(this.uc, UC_CTL_TB_FLUSH | (UC_CTL_IO_WRITE << 30)), 'uc_ctl(TB_FLUSH)');
  }

  map(address: number, size: number): void {
    check(lib!.uc_mem_map(this.uc, BigInt(address), size, UC_PROT_ALL), 'uc_mem_map');
  }
  writeMem(address: number, bytes: Uint8Array): void {
    check(lib!.uc_mem_write(this.uc, BigInt(address), bytes, bytes.length), 'uc_mem_write');
  }
  readMem(address: number, size: number): Uint8Array {
    const out = Buffer.alloc(size);
    check(lib!.uc_mem_read(this.uc, BigInt(address), out, size), 'uc_mem_read');
    return new Uint8Array(out);
  }
  /** 64-bit register by name ("X0", "SP", "PC", "NZCV", "FPCR", "CPACR_EL1", ...). */
  reg(name: string): bigint {
    check(lib!.uc_reg_read(this.uc, regId(name), this.buf8), `uc_reg_read(${name})`);
    return this.buf8.readBigUInt64LE(0);
  }
  setReg(name: string, v: bigint): void {
    this.buf8.writeBigUInt64LE(BigInt.asUintN(64, v));
    check(lib!.uc_reg_write(this.uc, regId(name), this.buf8), `uc_reg_write(${name})`);
  }
  /** 128-bit vector register Vn as 16 little-endian bytes. */
  vreg(n: number): Uint8Array {
    check(lib!.uc_reg_read(this.uc, regId(`V${n}`), this.buf16), `uc_reg_read(V${n})`);
    return new Uint8Array(Buffer.from(this.buf16));
  }
  setVreg(n: number, bytes: Uint8Array): void {
    Buffer.from(bytes.buffer, bytes.byteOffset, 16).copy(this.buf16);
    check(lib!.uc_reg_write(this.uc, regId(`V${n}`), this.buf16), `uc_reg_write(V${n})`);
  }
  /** Run `count` instructions from `begin`; returns the uc_err code (0 = OK). */
  run(begin: number, count: number): number {
    return lib!.uc_emu_start(this.uc, BigInt(begin), 0xffffffffffffffffn, 0n, count) as number;
  }
  close(): void {
    lib!.uc_close(this.uc);
  }
}

function regId(name: string): number {
  const id = REG[name];
  if (id === undefined) throw new Error(`unknown Unicorn register ${name}`);
  return id;
}

function check(err: number, what: string): void {
  if (err !== 0) throw new Error(`${what}: ${lib!.uc_strerror(err) as string} (${err})`);
}
