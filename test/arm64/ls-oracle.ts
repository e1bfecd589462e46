// qemu-aarch64 as the oracle for load/store tests. A static runner program (built once, cached
// under /tmp) reads cases on stdin, executes each case's instruction words in a fixed code slot,
// from a given state (X0-X30, SP, V0-V31) over a fixed 4 KiB data buffer, and writes the resulting
// state and buffer to stdout. The same words run on TestCpu at the same addresses, so PC-relative forms
// (LDR literal) and absolute addresses agree.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { TestCpu } from './harness.ts';

export const BUF = 0x80000;
export const BUFSZ = 4096;
/** Address of the 4-word instruction slot (checked against the linked runner). */
export const SLOT = 0x10010;
export const SLOT_WORDS = 4;
const NOP = 0xd503201f;
const INSZ = 256 + 512;
const OUTSZ = INSZ + BUFSZ;
/** Cases per runner invocation. */
const MAX_CASES = 2048;

export interface State {
  /** X0..X30 */
  x: bigint[];
  sp: bigint;
  /** V0..V31, 16 bytes each */
  v: Uint8Array;
}
export interface Case extends State {
  words: number[];
}
export interface Result extends State {
  buf: Uint8Array;
}

/** Seeded PRNG (xorshift32); the tests print their seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  u32(): number {
    let s = this.s;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.s = s >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.u32() % n;
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
}

export function randomState(rng: Rng): State {
  const x: bigint[] = [];
  for (let i = 0; i < 31; i++) x.push(rng.u64());
  return { x, sp: BigInt(BUF + 0x800), v: rng.bytes(512) };
}

const RUNNER = `
.text
.global _start
_start:
  b main
  .balign 16
slot:
  .inst ${Array(SLOT_WORDS).fill('0x' + NOP.toString(16)).join(', ')}
save:
  msr tpidr_el0, x0
  ldr x0, =outptr
  ldr x0, [x0]
  str x1, [x0, #8]
  mrs x1, tpidr_el0
  str x1, [x0]
${Array.from({ length: 14 }, (_, k) => `  stp x${2 + 2 * k}, x${3 + 2 * k}, [x0, #${16 + 16 * k}]`).join('\n')}
  str x30, [x0, #240]
  mov x1, sp
  str x1, [x0, #248]
  add x1, x0, #256
${Array.from({ length: 16 }, (_, k) => `  stp q${2 * k}, q${2 * k + 1}, [x1], #32`).join('\n')}
  ldr x12, =buf
  mov x14, #${BUFSZ}
1: ldp x15, x16, [x12], #16
  stp x15, x16, [x1], #16
  subs x14, x14, #16
  b.ne 1b
  ldr x9, =outptr
  str x1, [x9]
  ldr x9, =cur
  ldr x10, [x9]
  add x10, x10, #1
  str x10, [x9]
  b loop
main:
  mov x0, #0x10000
  mov x1, #0x1000
  mov x2, #7
  mov x8, #226
  svc #0
  // stdin: ncases (8 bytes), pristine buffer, insns, ins
  ldr x1, =ncases
  mov x2, #8
  bl readall
  ldr x1, =pristine
  mov x2, #${BUFSZ}
  bl readall
  ldr x9, =ncases
  ldr x9, [x9]
  ldr x1, =insns
  lsl x2, x9, #4
  bl readall
  ldr x9, =ncases
  ldr x9, [x9]
  ldr x1, =ins
  mov x2, #${INSZ}
  mul x2, x2, x9
  bl readall
  ldr x9, =outptr
  ldr x10, =outs
  str x10, [x9]
  b loop
// read(0, x1, x2) until x2 bytes have arrived
readall:
  cbz x2, 9f
  mov x0, #0
  mov x8, #63
  mov x19, x1
  mov x20, x2
  svc #0
  cmp x0, #0
  b.le fail
  add x1, x19, x0
  sub x2, x20, x0
  b readall
9: ret
fail:
  mov x0, #3
  mov x8, #93
  svc #0
loop:
  ldr x9, =cur
  ldr x10, [x9]
  ldr x11, =ncases
  ldr x11, [x11]
  cmp x10, x11
  b.ge done
  ldr x12, =insns
  add x12, x12, x10, lsl #4
  adr x13, slot
  ldp x14, x15, [x12]
  stp x14, x15, [x13]
  dc cvau, x13
  dsb ish
  ic ivau, x13
  dsb ish
  isb
  ldr x12, =pristine
  ldr x13, =buf
  mov x14, #${BUFSZ}
2: ldp x15, x16, [x12], #16
  stp x15, x16, [x13], #16
  subs x14, x14, #16
  b.ne 2b
  ldr x12, =ins
  mov x13, #${INSZ}
  madd x0, x10, x13, x12
  add x1, x0, #256
${Array.from({ length: 16 }, (_, k) => `  ldp q${2 * k}, q${2 * k + 1}, [x1], #32`).join('\n')}
  ldr x1, [x0, #248]
  mov sp, x1
${Array.from({ length: 14 }, (_, k) => `  ldp x${2 + 2 * k}, x${3 + 2 * k}, [x0, #${16 + 16 * k}]`).join('\n')}
  ldr x30, [x0, #240]
  clrex
  ldp x0, x1, [x0]
  b slot
done:
  mov x0, #1
  ldr x1, =outs
  ldr x2, =ncases
  ldr x2, [x2]
  mov x3, #${OUTSZ}
  mul x2, x2, x3
  mov x8, #64
  svc #0
  mov x0, #0
  mov x8, #93
  svc #0
  .ltorg
.section .buf,"aw"
buf: .space ${BUFSZ}
.section .tab,"aw"
.balign 16
cur: .quad 0
outptr: .quad 0
ncases: .quad 0
.section .big,"aw",%nobits
.balign 16
pristine: .space ${BUFSZ}
insns: .space ${MAX_CASES * 16}
ins: .space ${MAX_CASES * INSZ}
outs: .space ${MAX_CASES * OUTSZ}
`;

function u64le(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return b;
}

/** Build (or reuse) the runner; returns the executable's path. */
function build(): string {
  const h = createHash('sha256').update(RUNNER).digest('hex').slice(0, 16);
  const dir = `/tmp/ls-oracle/runner-${h}`;
  const exe = `${dir}/runner`;
  if (existsSync(exe)) return exe;
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/runner.S`, RUNNER);
  execFileSync('aarch64-linux-gnu-gcc', [
    '-nostdlib', '-static', '-Wl,-Ttext=0x10000', `-Wl,--section-start=.buf=0x${BUF.toString(16)}`,
    '-Wl,--section-start=.tab=0x200000', '-Wl,--section-start=.big=0x400000', '-Wl,--build-id=none',
    '-Wl,--no-warn-rwx-segments', 'runner.S', '-o', `runner.${process.pid}`,
  ], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const nm = execFileSync('aarch64-linux-gnu-nm', [`${dir}/runner.${process.pid}`], { encoding: 'utf8' });
  if (!new RegExp(`^0*${SLOT.toString(16)} t slot$`, 'm').test(nm) || !new RegExp(`^0*${BUF.toString(16)} [bd] buf$`, 'm').test(nm)) {
    throw new Error('runner layout differs from SLOT/BUF');
  }
  renameSync(`${dir}/runner.${process.pid}`, exe);
  return exe;
}

/** The runner's stdin for these cases. */
function input(cases: Case[], pristine: Uint8Array): Uint8Array {
  if (cases.length > MAX_CASES) throw new Error('too many cases');
  const n = cases.length;
  const buf = new Uint8Array(8 + BUFSZ + n * 16 + n * INSZ);
  const dv = new DataView(buf.buffer);
  dv.setBigUint64(0, BigInt(n), true);
  buf.set(pristine, 8);
  const wo = 8 + BUFSZ;
  const io = wo + n * 16;
  cases.forEach((c, i) => {
    if (c.words.length > SLOT_WORDS) throw new Error('too many words');
    for (let k = 0; k < SLOT_WORDS; k++) dv.setUint32(wo + i * 16 + 4 * k, c.words[k] ?? NOP, true);
    const o = io + i * INSZ;
    c.x.forEach((v, k) => buf.set(u64le(v), o + 8 * k));
    buf.set(u64le(c.sp), o + 248);
    buf.set(c.v, o + 256);
  });
  return buf;
}

function parse(out: Uint8Array, n: number): Result[] {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const res: Result[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * OUTSZ;
    const x: bigint[] = [];
    for (let k = 0; k < 31; k++) x.push(dv.getBigUint64(o + 8 * k, true));
    res.push({ x, sp: dv.getBigUint64(o + 248, true), v: out.slice(o + 256, o + 768), buf: out.slice(o + 768, o + OUTSZ) });
  }
  return res;
}

/** Run the cases under qemu-aarch64 (default CPU model: cortex-a76, which has FEAT_LRCPC). */
export function runQemu(cases: Case[], pristine: Uint8Array, cpu = 'cortex-a76'): Result[] {
  const out: Result[] = [];
  for (let i = 0; i < cases.length; i += MAX_CASES) {
    const part = cases.slice(i, i + MAX_CASES);
    const r = spawnSync('qemu-aarch64', ['-cpu', cpu, build()], { input: input(part, pristine), maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`qemu runner failed: status ${r.status} signal ${r.signal}`);
    out.push(...parse(new Uint8Array(r.stdout), part.length));
  }
  return out;
}

/** Run one case under qemu-aarch64 and return the signal that ended it (null if none). */
export function qemuSignal(c: Case, pristine: Uint8Array, cpu = 'cortex-a76'): string | null {
  const r = spawnSync('qemu-aarch64', ['-cpu', cpu, build()], { input: input([c], pristine), maxBuffer: 1 << 24 });
  return r.signal;
}

/** Load a case's state into TestCpu (reused between cases), with the buffer and slot in place. */
export function loadCase(t: TestCpu, c: Case, pristine: Uint8Array): void {
  const cpu = t.cpu;
  c.x.forEach((v, k) => cpu.setX(k, v));
  cpu.setX(31, c.sp);
  cpu.regs.vb.set(c.v);
  cpu.exclusiveAddr = -1;
  t.mem.ramBytes.set(pristine, BUF);
  for (let k = 0; k < SLOT_WORDS; k++) t.mem.ram.setUint32(SLOT + 4 * k, c.words[k] ?? NOP, true);
  cpu.invalidateCodeRam(SLOT, SLOT_WORDS * 4);
  t.traps.length = 0;
  cpu.halted = false;
  cpu.pc = SLOT;
}

/** Run the cases on TestCpu; a trap is reported in the result as `trap`. */
export function runOurs(cases: Case[], pristine: Uint8Array): (Result & { trap?: unknown })[] {
  const t = new TestCpu();
  return cases.map((c) => {
    loadCase(t, c, pristine);
    t.cpu.run(c.words.length);
    const cpu = t.cpu;
    const x: bigint[] = [];
    for (let k = 0; k < 31; k++) x.push(cpu.getX(k));
    const res: Result & { trap?: unknown } = {
      x, sp: cpu.getX(31), v: cpu.regs.vb.slice(), buf: t.mem.ramBytes.slice(BUF, BUF + BUFSZ),
    };
    if (t.traps.length) res.trap = t.traps[0];
    return res;
  });
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A readable summary of one result (for toEqual diffs): registers in hex, changed buffer bytes. */
export function summary(r: Result & { trap?: unknown }, pristine: Uint8Array): Record<string, string> {
  const s: Record<string, string> = {};
  r.x.forEach((v, k) => (s[`x${k}`] = v.toString(16)));
  s.sp = r.sp.toString(16);
  for (let k = 0; k < 32; k++) s[`v${k}`] = hex(r.v.subarray(16 * k, 16 * k + 16));
  for (let i = 0; i < BUFSZ; i += 16) {
    const a = r.buf.subarray(i, i + 16);
    if (hex(a) !== hex(pristine.subarray(i, i + 16))) s[`buf+${i.toString(16)}`] = hex(a);
  }
  if (r.trap) s.trap = JSON.stringify(r.trap);
  return s;
}

/** Assemble lines of A64 assembly to instruction words (cached per source text). */
export function assemble(lines: string[]): number[] {
  const src = lines.join('\n') + '\n';
  const h = createHash('sha256').update(src).digest('hex').slice(0, 16);
  const dir = `/tmp/ls-oracle/asm-${h}`;
  const bin = `${dir}/out.bin`;
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/in.S`, '.arch armv8.2-a+rcpc+crypto+dotprod+fp16\n' + src);
    execFileSync('aarch64-linux-gnu-as', ['in.S', '-o', 'in.o'], { cwd: dir });
    execFileSync('aarch64-linux-gnu-objcopy', ['-O', 'binary', '-j', '.text', 'in.o', 'out.bin'], { cwd: dir });
  }
  const b = readFileSync(bin);
  const words: number[] = [];
  for (let i = 0; i < b.length; i += 4) words.push(b.readUInt32LE(i));
  return words;
}
