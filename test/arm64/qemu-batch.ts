// One static AArch64 program per batch of oracle cases, run under qemu-aarch64: it reads all
// case inputs from stdin into `inbuf` (x20 walks it), runs each case's lines (which load their
// state from [x20], execute, and store results to [x21]), then writes `outbuf` to stdout.
// Shared by the per-group qemu oracles (int, SIMD, FP).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** MOVZ/MOVK for a 32-bit constant (a literal pool would be out of LDR range in a big batch). */
function movImm(reg: string, v: number): string[] {
  return [`movz ${reg}, #${v & 0xffff}`, `movk ${reg}, #${(v >>> 16) & 0xffff}, lsl #16`];
}

export function runQemuBatch(caseLines: string[], input: Buffer, outTotal: number, epilogue: string[] = []): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'qemu-batch-'));
  try {
    const lines: string[] = [
      '.text', '.global _start', '_start:',
      'adrp x20, inbuf', 'add x20, x20, :lo12:inbuf', 'mov x23, x20', ...movImm('x22', input.length),
      '1: mov x0, #0', 'mov x1, x23', 'mov x2, x22', 'mov x8, #63', 'svc #0',
      'cmp x0, #0', 'b.le 2f', 'add x23, x23, x0', 'sub x22, x22, x0', 'cbnz x22, 1b',
      '2: adrp x21, outbuf', 'add x21, x21, :lo12:outbuf',
      ...caseLines,
      ...epilogue,
      'adrp x23, outbuf', 'add x23, x23, :lo12:outbuf', ...movImm('x22', outTotal),
      '3: mov x0, #1', 'mov x1, x23', 'mov x2, x22', 'mov x8, #64', 'svc #0',
      'cmp x0, #0', 'b.le 4f', 'add x23, x23, x0', 'sub x22, x22, x0', 'cbnz x22, 3b',
      '4: mov x0, #0', 'mov x8, #93', 'svc #0',
      '.bss', '.balign 16', `inbuf: .skip ${input.length}`, '.balign 16', `outbuf: .skip ${outTotal}`,
    ];
    writeFileSync(join(dir, 'p.s'), lines.join('\n') + '\n');
    execFileSync('aarch64-linux-gnu-gcc', ['-static', '-nostdlib', '-o', join(dir, 'p'), join(dir, 'p.s')]);
    const out = execFileSync('qemu-aarch64', [join(dir, 'p')], { input, maxBuffer: 1 << 28 });
    if (out.length !== outTotal) throw new Error(`qemu-aarch64 wrote ${out.length} bytes, expected ${outTotal}`);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
