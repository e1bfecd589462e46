// A64 "Branches, Exception Generating and System instructions" (ARM ARM C4.1.87).
import { group, op, requires } from './pattern.ts';
import { rz, wz } from '../regs.ts';
import * as x from '../exec/int-sys.ts';
import { sysregDef, isTimedSysreg } from '../sysregs.ts';

type F = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const packEnc = (op0: number, op1: number, crn: number, crm: number, op2: number): number => (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;

export const intBranchSystem = group(
  op('B', '0 00101 imm26:s26', x.b, (f: F) => ({ off: f.imm26 * 4 })),
  op('BL', '1 00101 imm26:s26', x.bl, (f: F) => ({ off: f.imm26 * 4 })),
  op('B_cond', '0101010 0 imm19:s19 0 cond:4', x.bcond, (f: F) => ({ cond: f.cond, off: f.imm19 * 4 })),
  op('CBZ64', '1 011010 op:1 imm19:s19 rt:5', x.cbz64, (f: F) => ({ rt: rz(f.rt), nz: f.op === 1, off: f.imm19 * 4 })),
  op('CBZ32', '0 011010 op:1 imm19:s19 rt:5', x.cbz32, (f: F) => ({ rt: rz(f.rt), nz: f.op === 1, off: f.imm19 * 4 })),
  op('TBZ', 'b5:1 011011 op:1 b40:5 imm14:s14 rt:5', x.tbz, (f: F) => {
    const bit = f.b5 * 32 + f.b40;
    return { rt: rz(f.rt), half: bit >= 32 ? 1 : 0, bit: bit & 31, nz: f.op === 1, off: f.imm14 * 4 };
  }),
  op('BR', '1101011 0000 11111 000000 rn:5 00000', x.br, (f: F) => ({ rn: rz(f.rn) })),
  op('BLR', '1101011 0001 11111 000000 rn:5 00000', x.blr, (f: F) => ({ rn: rz(f.rn) })),
  op('RET', '1101011 0010 11111 000000 rn:5 00000', x.br, (f: F) => ({ rn: rz(f.rn) })),
  op('ERET', '1101011 0100 11111 000000 11111 00000', x.eret),

  op('SVC', '11010100 000 imm16:16 000 01', x.svc),
  op('HVC', '11010100 000 imm16:16 000 10', x.hvc),
  op('SMC', '11010100 000 imm16:16 000 11', x.smc),
  op('BRK', '11010100 001 imm16:16 000 00', x.brk),

  // Hints (C6.2.101 HINT): unallocated hints execute as NOP.
  op('HINT', '11010101000000110010 crm:4 op2:3 11111', x.nop, (f: F) => f),
  op('NOP_YIELD', '11010101000000110010 0000 00. 11111', x.nop),
  op('WFE', '11010101000000110010 0000 010 11111', x.wfe),
  op('WFI', '11010101000000110010 0000 011 11111', x.wfi),
  op('SEV', '11010101000000110010 0000 10. 11111', x.sev),
  op('CLREX', '11010101000000110011 crm:4 010 11111', x.clrex),
  op('DSB', '11010101000000110011 crm:4 100 11111', x.nop),
  op('DMB', '11010101000000110011 crm:4 101 11111', x.nop),
  op('ISB', '11010101000000110011 crm:4 110 11111', x.isb),
  op('SB', '11010101000000110011 0000 111 11111', x.nop),

  // MSR (immediate): PSTATE fields we implement; the rest (UAO, SSBS, DIT, TCO, FlagM) are absent.
  op('MSR_i', '1101010100000 op1:3 0100 crm:4 op2:3 11111', x.msrImm, (f: F) => {
    const field = f.op1 === 3 && f.op2 === 6 ? 'daifset' : f.op1 === 3 && f.op2 === 7 ? 'daifclr' : f.op1 === 0 && f.op2 === 5 ? 'spsel' : null;
    return field === null ? null : { field, crm: f.crm };
  }),
  // PSTATE.PAN (FEAT_PAN, Armv8.1): MSR PAN, #imm and the PAN special register (op0=3 op1=0 C4 C2 3).
  ...requires('PAN',
    op('MSR_i_PAN', '1101010100000 000 0100 crm:4 100 11111', x.msrImm, (f: F) => ({ field: 'pan', crm: f.crm })),
    op('MRS_PAN', '1101010100 1 1 1 000 0100 0010 011 rt:5', x.mrs, (f: F) => sysregFields(3, 0, 4, 2, 3, f.rt)),
    op('MSR_r_PAN', '1101010100 0 1 1 000 0100 0010 011 rt:5', x.msr, (f: F) => sysregFields(3, 0, 4, 2, 3, f.rt)),
  ),

  op('MRS', '1101010100 1 1 o0:1 op1:3 crn:4 crm:4 op2:3 rt:5', x.mrs, (f: F) => {
    const fields = sysregFields(2 + f.o0, f.op1, f.crn, f.crm, f.op2, f.rt);
    // Counters are read first in a block, where the time is exact (exec/int-sys.ts mrsTimed).
    return isTimedSysreg(fields.enc) ? { ...fields, exec: x.mrsTimed } : fields;
  }),
  op('MSR_r', '1101010100 0 1 o0:1 op1:3 crn:4 crm:4 op2:3 rt:5', x.msr, (f: F) => sysregFields(2 + f.o0, f.op1, f.crn, f.crm, f.op2, f.rt)),
  // SYS: cache maintenance, TLB maintenance, address translation.
  op('SYS', '1101010100 0 01 op1:3 crn:4 crm:4 op2:3 rt:5', x.sysUndef, (f: F) => sysOp(f)),
  // DC CVAP, clean to the point of persistence (FEAT_DPB, Armv8.2): SYS #3, C7, C12, #1.
  ...requires('DPB', op('DC_CVAP', '1101010100 0 01 011 0111 1100 001 rt:5', x.dcByVa, (f: F) =>
    ({ enc: packEnc(1, 3, 7, 12, 1), rt: f.rt, rtr: rz(f.rt), el1Only: false }))),
  op('SYSL', '1101010100 1 01 op1:3 crn:4 crm:4 op2:3 rt:5', x.sysUndef, () => null),
);

/** MRS/MSR operands: the register's definition is looked up once, at decode time. */
function sysregFields(op0: number, op1: number, crn: number, crm: number, op2: number, rt: number): F {
  const e = packEnc(op0, op1, crn, crm, op2);
  return { enc: e, def: sysregDef(e), rt, rtw: wz(rt), rtr: rz(rt) };
}

// SYS encodings are resolved to handlers at decode time (a per-word choice a pattern cannot
// express without a table per operation).
function sysOp(f: F): F | null {
  const e = packEnc(1, f.op1, f.crn, f.crm, f.op2);
  const base = { enc: e, rt: f.rt, rtr: rz(f.rt) };
  // TLBI VAE1, VAAE1, VALE1, VAALE1 (op2 1, 3, 5, 7), Inner Shareable (CRm 3) or not (CRm 7):
  // one page; the others (all, by ASID) flush everything.
  if (f.crn === 8 && (f.op1 === 0)) {
    return { ...base, byVa: (f.crm === 3 || f.crm === 7) && (f.op2 & 1) === 1, shareable: f.crm === 3, exec: x.tlbi };
  }
  if (f.crn !== 7) return null;
  const key = `${f.op1},${f.crm},${f.op2}`;
  switch (key) {
    case '3,4,1':
      return { ...base, exec: x.dcZva };
    case '3,10,1': // DC CVAC
    case '3,11,1': // DC CVAU
    case '3,14,1': // DC CIVAC
      return { ...base, el1Only: false, exec: x.dcByVa };
    case '0,6,1': // DC IVAC
      return { ...base, el1Only: true, exec: x.dcByVa };
    case '0,6,2': // DC ISW
    case '0,10,2': // DC CSW
    case '0,14,2': // DC CISW
      return { ...base, setWay: true, exec: x.cacheEl1 };
    case '0,1,0': // IC IALLUIS
    case '0,5,0': // IC IALLU
      return { ...base, el1Only: true, exec: x.icInvalidate };
    case '3,5,1': // IC IVAU
      return { ...base, el1Only: false, exec: x.icInvalidate };
    case '0,8,0':
      return { ...base, write: false, el0: false, exec: x.at };
    case '0,8,1':
      return { ...base, write: true, el0: false, exec: x.at };
    case '0,8,2':
      return { ...base, write: false, el0: true, exec: x.at };
    case '0,8,3':
      return { ...base, write: true, el0: true, exec: x.at };
  }
  return null;
}
