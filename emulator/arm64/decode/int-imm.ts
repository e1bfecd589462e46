// A64 "Data Processing -- Immediate" (ARM ARM C4.1.86).
import { group, op } from './pattern.ts';
import { rz, wz, SP } from '../regs.ts';
import * as x from '../exec/int-dp.ts';
import { decodeBitMasks, type Masks } from '../exec/int-bits.ts';

type F = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const spOrZr = (n: number): number => (n === 31 ? SP : n);

export const intImmediate = group(
  op('ADR', '0 immlo:2 10000 immhi:s19 rd:5', x.adr, (f) => ({ rd: wz(f.rd), imm: f.immhi * 4 + f.immlo })),
  op('ADRP', '1 immlo:2 10000 immhi:s19 rd:5', x.adrp, (f) => ({ rd: wz(f.rd), imm: (f.immhi * 4 + f.immlo) * 4096 })),
  // ADD/SUB (immediate): Rd and Rn may be SP; the flag-setting forms write XZR, not SP.
  op('ADDSUB_i64', '1 op:1 0 100010 sh:1 imm12:12 rn:5 rd:5', x.addImm64, addSubImm),
  op('ADDSUB_i32', '0 op:1 0 100010 sh:1 imm12:12 rn:5 rd:5', x.addImm32, addSubImm),
  op('ADDSUBS_i64', '1 op:1 1 100010 sh:1 imm12:12 rn:5 rd:5', x.addsImm64, addSubsImm),
  op('ADDSUBS_i32', '0 op:1 1 100010 sh:1 imm12:12 rn:5 rd:5', x.addsImm32, addSubsImm),
  op('LOG_i', 'sf:1 opc:2 100100 n:1 immr:6 imms:6 rn:5 rd:5', x.logImm, (f: F) => {
    if (!f.sf && f.n) return null;
    const m = bitMasks(f.n, f.imms, f.immr, true, f.sf);
    if (!m) return null;
    // AND/ORR/EOR may write SP; ANDS writes XZR.
    return { sf: f.sf, opc: f.opc, rn: rz(f.rn), rd: f.opc === 3 ? wz(f.rd) : spOrZr(f.rd), mlo: m.wlo, mhi: m.whi };
  }),
  op('MOVN', 'sf:1 00 100101 hw:2 imm16:16 rd:5', x.movImm, (f: F) => movWide(f, true)),
  op('MOVZ', 'sf:1 10 100101 hw:2 imm16:16 rd:5', x.movImm, (f: F) => movWide(f, false)),
  op('MOVK', 'sf:1 11 100101 hw:2 imm16:16 rd:5', x.movk, (f: F) => (!f.sf && f.hw > 1 ? null : { sf: f.sf, hw: f.hw, imm16: f.imm16, rd: wz(f.rd) })),
  op('BITFIELD', 'sf:1 opc:2 100110 n:1 immr:6 imms:6 rn:5 rd:5', x.bitfield, (f: F) => {
    if (f.opc === 3 || f.n !== f.sf || (!f.sf && (f.immr > 31 || f.imms > 31))) return null;
    const m = bitMasks(f.n, f.imms, f.immr, false, f.sf);
    if (!m) return null;
    const top = f.sf ? 63 : 31;
    // LSL/LSR/ASR #n are UBFM/SBFM aliases with their own handlers (exec override).
    let exec: unknown;
    let sh = 0;
    if (f.opc === 2 && f.imms === top) {
      exec = f.sf ? x.lsrImm64 : x.lsrImm32;
      sh = f.immr;
    } else if (f.opc === 2 && f.imms + 1 === f.immr) {
      exec = f.sf ? x.lslImm64 : x.lslImm32;
      sh = top - f.imms;
    } else if (f.opc === 0 && f.imms === top) {
      exec = f.sf ? x.asrImm64 : x.asrImm32;
      sh = f.immr;
    }
    return {
      sf: f.sf, opc: f.opc, rn: rz(f.rn), rd: wz(f.rd), rdr: rz(f.rd), immr: f.immr, imms: f.imms,
      wlo: m.wlo, whi: m.whi, tlo: m.tlo, thi: m.thi, sh, exec,
    };
  }),
  op('EXTR', 'sf:1 00 100111 n:1 0 rm:5 imms:6 rn:5 rd:5', x.extr, (f: F) =>
    f.n !== f.sf || (!f.sf && f.imms > 31) ? null : { sf: f.sf, rm: rz(f.rm), rn: rz(f.rn), rd: wz(f.rd), imms: f.imms }),
);

/** MOVZ/MOVN: imm16 << (16 * hw), inverted for MOVN, as two int32 words (the 32-bit form's high word 0). */
function movWide(f: F, invert: boolean): F | null {
  if (!f.sf && f.hw > 1) return null;
  const part = f.hw & 1 ? f.imm16 << 16 : f.imm16;
  let lo = f.hw < 2 ? part : 0;
  let hi = f.hw < 2 ? 0 : part;
  if (invert) {
    lo = ~lo;
    hi = ~hi;
  }
  return { rd: wz(f.rd), lo: lo | 0, hi: f.sf ? hi | 0 : 0 };
}

/** DecodeBitMasks (ARM ARM J1) as int32 words, remembered per operand combination. */
const masks: (Masks | null | undefined)[] = new Array(1 << 15);
export function bitMasks(n: number, imms: number, immr: number, immediate: boolean, sf: number): Masks | null {
  const key = (sf << 14) | ((immediate ? 1 : 0) << 13) | (n << 12) | (imms << 6) | immr;
  let m = masks[key];
  if (m === undefined) {
    m = decodeBitMasks(n, imms, immr, immediate, sf ? 64 : 32);
    masks[key] = m;
  }
  return m;
}

function addSubImm(f: F): F {
  const v = f.imm12 * (f.sh ? 4096 : 1);
  return { rd: spOrZr(f.rd), rn: spOrZr(f.rn), imm: f.op ? -v : v };
}

function addSubsImm(f: F): F {
  return { rd: wz(f.rd), rn: spOrZr(f.rn), uimm: f.imm12 * (f.sh ? 4096 : 1), sub: f.op };
}
