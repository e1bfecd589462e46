// A64 "Data Processing -- Register" (ARM ARM C4.1.88).
import { group, op, requires } from './pattern.ts';
import { rz, wz, SP } from '../regs.ts';
import * as x from '../exec/int-dp.ts';

type F = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export const intRegister = group(
  // Logical (shifted register). In 32-bit forms imm6 >= 32 is unallocated.
  op('LOG_r', 'sf:1 opc:2 01010 shift:2 n:1 rm:5 imm6:6 rn:5 rd:5', x.logReg, (f: F) =>
    !f.sf && f.imm6 > 31 ? null : { sf: f.sf, opc: f.opc, inv: f.n, shift: f.shift, amt: f.imm6, rm: rz(f.rm), rn: rz(f.rn), rd: wz(f.rd) }),
  // MOV (register) = ORR Rd, ZR, Rm: the commonest move, its own handler.
  op('MOV_r64', '1 01 01010 00 0 rm:5 000000 11111 rd:5', x.movReg64, (f: F) => ({ rm: rz(f.rm), rd: wz(f.rd) })),
  op('MOV_r32', '0 01 01010 00 0 rm:5 000000 11111 rd:5', x.movReg32, (f: F) => ({ rm: rz(f.rm), rd: wz(f.rd) })),
  op('ADDSUB_r', 'sf:1 op:1 s:1 01011 shift:2 0 rm:5 imm6:6 rn:5 rd:5', x.addSubShifted, (f: F) =>
    f.shift === 3 || (!f.sf && f.imm6 > 31) ? null : { sf: f.sf, sub: f.op, s: f.s === 1, shift: f.shift, amt: f.imm6, rm: rz(f.rm), rn: rz(f.rn), rd: wz(f.rd) }),
  // Extended register: Rn and (without S) Rd may be SP.
  op('ADDSUB_x', 'sf:1 op:1 s:1 01011 00 1 rm:5 option:3 imm3:3 rn:5 rd:5', x.addSubExtended, (f: F) =>
    f.imm3 > 4 ? null : {
      sf: f.sf, sub: f.op, s: f.s === 1, option: f.option, amt: f.imm3, rm: rz(f.rm),
      rn: f.rn === 31 ? SP : f.rn, rd: f.s ? wz(f.rd) : f.rd === 31 ? SP : f.rd,
    }),
  op('ADCSBC', 'sf:1 op:1 s:1 11010000 rm:5 000000 rn:5 rd:5', x.adcSbc, (f: F) => ({ sf: f.sf, sub: f.op, s: f.s === 1, rm: rz(f.rm), rn: rz(f.rn), rd: wz(f.rd) })),
  op('CCMP_r', 'sf:1 op:1 1 11010010 rm:5 cond:4 0 0 rn:5 0 nzcv:4', x.condCompare, (f: F) => ({
    sf: f.sf, sub: f.op, cond: f.cond, nzcv: f.nzcv, rm: rz(f.rm), rn: rz(f.rn), isImm: false, imm5: 0,
  })),
  op('CCMP_i', 'sf:1 op:1 1 11010010 imm5:5 cond:4 1 0 rn:5 0 nzcv:4', x.condCompare, (f: F) => ({
    sf: f.sf, sub: f.op, cond: f.cond, nzcv: f.nzcv, rm: 0, rn: rz(f.rn), isImm: true, imm5: f.imm5,
  })),
  op('CSEL', 'sf:1 op:1 0 11010100 rm:5 cond:4 0 o2:1 rn:5 rd:5', x.condSelect, (f: F) => ({
    sf: f.sf, inv: f.op, inc: f.o2, cond: f.cond, rm: rz(f.rm), rn: rz(f.rn), rd: wz(f.rd),
  })),
  op('DP1', 'sf:1 1 0 11010110 00000 0000 opc:2 rn:5 rd:5', x.dp1, (f: F) => {
    // opc: 00 RBIT, 01 REV16, 10 REV32 (x) / REV (w), 11 REV (x only)
    if (!f.sf && f.opc === 3) return null;
    const op = f.opc === 2 && !f.sf ? 2 : f.opc;
    return { sf: f.sf, op, rn: rz(f.rn), rd: wz(f.rd) };
  }),
  op('CLZCLS', 'sf:1 1 0 11010110 00000 00010 op:1 rn:5 rd:5', x.dp1, (f: F) => ({ sf: f.sf, op: 4 + f.op, rn: rz(f.rn), rd: wz(f.rd) })),
  op('DIV', 'sf:1 0 0 11010110 rm:5 00001 o1:1 rn:5 rd:5', x.div, (f: F) => ({ sf: f.sf, signed: f.o1 === 1, rm: rz(f.rm), rn: rz(f.rn), rd: wz(f.rd) })),
  op('SHIFTV', 'sf:1 0 0 11010110 rm:5 0010 op2:2 rn:5 rd:5', x.shiftVar, (f: F) => ({ sf: f.sf, shift: f.op2, rm: rz(f.rm), rn: rz(f.rn), rd: wz(f.rd) })),
  ...requires('CRC32', op('CRC32', 'sf:1 0 0 11010110 rm:5 010 c:1 sz:2 rn:5 rd:5', x.crc, (f: F) =>
    (f.sz === 3) !== (f.sf === 1) ? null : { c: f.c, sz: f.sz, rm: rz(f.rm), rn: rz(f.rn), rd: wz(f.rd) })),
  op('MADD', 'sf:1 00 11011 000 rm:5 o0:1 ra:5 rn:5 rd:5', x.madd, (f: F) => ({ sf: f.sf, sub: f.o0, rm: rz(f.rm), ra: rz(f.ra), rn: rz(f.rn), rd: wz(f.rd) })),
  op('MADDL', '1 00 11011 u:1 01 rm:5 o0:1 ra:5 rn:5 rd:5', x.maddl, (f: F) => ({ signed: f.u === 0, sub: f.o0, rm: rz(f.rm), ra: rz(f.ra), rn: rz(f.rn), rd: wz(f.rd) })),
  op('MULH', '1 00 11011 u:1 10 rm:5 0 ra:5 rn:5 rd:5', x.mulh, (f: F) => ({ signed: f.u === 0, rm: rz(f.rm), rn: rz(f.rn), rd: wz(f.rd) })),
);
