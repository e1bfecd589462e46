// PLACEHOLDER until the context branch lands: GPRs, SP banks, PC/PSTATE, ELR/SPSR_EL1, the
// translation registers, VBAR, FP/SIMD. Replaced by the complete EL1 context (issue 7).
import type { Cpu } from './cpu.ts';
import type { El1Context } from './el2.ts';
import { FPCR, FPSR } from './regs.ts';

export const CONTEXT_WORDS = 512;

export class El1ContextData implements El1Context {
  readonly words = new Uint32Array(CONTEXT_WORDS);
}

export function saveEl1(cpu: Cpu, ctx: El1ContextData, pc: number, pstate: number): void {
  const w = ctx.words;
  const r = cpu.regs.u;
  for (let i = 0; i < 62; i++) w[i] = r[i]!;
  const s = cpu.sys;
  const f = new Float64Array(w.buffer, 256 * 4, 16);
  f[0] = pc; f[1] = pstate; f[2] = s.elr1; f[3] = s.spsr1; f[4] = s.vbar1; f[5] = s.ttbr0; f[6] = s.ttbr1;
  f[7] = s.far1; f[8] = s.esr1;
  w[64] = s.spEl0Lo; w[65] = s.spEl0Hi; w[66] = s.spEl1Lo; w[67] = s.spEl1Hi;
  w[68] = s.sctlr; w[69] = s.sctlrHi; w[70] = s.tcr; w[71] = s.tcrHi; w[72] = s.asid0; w[73] = s.asid1;
  w[74] = s.mairLo; w[75] = s.mairHi; w[76] = s.pan; w[77] = r[FPCR]!; w[78] = r[FPSR]!;
  w.set(cpu.regs.vs, 128);
}

export function restoreEl1(cpu: Cpu, ctx: El1ContextData): { pc: number; pstate: number } {
  const w = ctx.words;
  const r = cpu.regs.u;
  for (let i = 0; i < 62; i++) r[i] = w[i]!;
  const s = cpu.sys;
  const f = new Float64Array(w.buffer, 256 * 4, 16);
  s.elr1 = f[2]!; s.spsr1 = f[3]!; s.vbar1 = f[4]!; s.ttbr0 = f[5]!; s.ttbr1 = f[6]!; s.far1 = f[7]!; s.esr1 = f[8]!;
  s.spEl0Lo = w[64]! | 0; s.spEl0Hi = w[65]! | 0; s.spEl1Lo = w[66]! | 0; s.spEl1Hi = w[67]! | 0;
  s.sctlr = w[68]!; s.sctlrHi = w[69]!; s.tcr = w[70]!; s.tcrHi = w[71]!; s.asid0 = w[72]!; s.asid1 = w[73]!;
  s.mairLo = w[74]!; s.mairHi = w[75]!; s.pan = w[76]!; r[FPCR] = w[77]!; r[FPSR] = w[78]!;
  cpu.regs.vs.set(w.subarray(128, 256));
  cpu.exclusiveAddr = -1;
  cpu.flushTlb();
  return { pc: f[0]!, pstate: f[1]! };
}

/** A fresh vCPU: EL1h with DAIF masked, MMU off (SCTLR_EL1 RES1 bits only). */
export function resetEl1Context(ctx: El1ContextData): void {
  ctx.words.fill(0);
  const f = new Float64Array(ctx.words.buffer, 256 * 4, 16);
  f[1] = 0x3c5;
  ctx.words[68] = 0x30d00800;
}
