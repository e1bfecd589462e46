// Each core decodes its own architecture and says so in its ID registers: Cortex-A76/A55 (rk3588)
// are Armv8.2-A with LSE, RDM, DotProd, crypto, FP16, DPB, RCpc and PAN; Cortex-A72/A57 (pi4,
// tx2) are Armv8.0 with CRC32 and, except on BCM2711, the Cryptographic Extension. A feature's
// instructions are UNDEFINED on a core without it (features.ts, decode/pattern.ts requires()).
import { describe, expect, it } from 'vitest';
import { describeOracle } from '../oracles.ts';
import { Cpu, decoderFor, defaultDecoder, EC } from '../../emulator/arm64/cpu.ts';
import { ALL_FEATURES, coreFeatures, HWCAP, linuxHwcaps, type FeatureSet } from '../../emulator/arm64/features.ts';
import { FlatMemory } from '../../emulator/arm64/flat-memory.ts';
import { enc } from '../../emulator/arm64/sysregs-el1.ts';
import { sysregDef } from '../../emulator/arm64/sysregs.ts';
import { SCTLR } from '../../emulator/arm64/sysstate.ts';
import { Machine } from '../../emulator/machine.ts';
import { boards } from '../../boards/index.ts';
import { assemble } from './ls-oracle.ts';

function cpuFor(features: FeatureSet): Cpu {
  const cpu = new Cpu(new FlatMemory(1 << 20), decoderFor(features));
  cpu.enableSystemMode();
  return cpu;
}
const read = (cpu: Cpu, op0: number, op1: number, crn: number, crm: number, op2: number): bigint =>
  sysregDef(enc(op0, op1, crn, crm, op2))!.read!(cpu);
const idRegs = (cpu: Cpu) => ({
  isar0: read(cpu, 3, 0, 0, 6, 0).toString(16),
  isar1: read(cpu, 3, 0, 0, 6, 1).toString(16),
  fpSimd: ((read(cpu, 3, 0, 0, 4, 0) >> 16n) & 0xffn).toString(16),
  mmfr1: read(cpu, 3, 0, 0, 7, 1).toString(16),
});

describe('ID registers per core (Cortex-A76/A55/A72/A57 TRMs, less what is not implemented)', () => {
  it('Cortex-A76 and A55: ISAR0 0x0000100010211120, ISAR1 0x100001 (DPB, LRCPC), FP/AdvSIMD 1, MMFR1.PAN 1', () => {
    for (const core of ['cortex-a76', 'cortex-a55']) {
      expect(idRegs(cpuFor(coreFeatures(core)))).toEqual({ isar0: '100010211120', isar1: '100001', fpSimd: '11', mmfr1: '100000' });
    }
  });
  it('Cortex-A72 and A57 with crypto: ISAR0 0x11120 (AES+PMULL, SHA1, SHA2, CRC32), nothing of v8.1/v8.2', () => {
    for (const core of ['cortex-a72', 'cortex-a57', 'denver2']) {
      expect(idRegs(cpuFor(coreFeatures(core)))).toEqual({ isar0: '11120', isar1: '0', fpSimd: '0', mmfr1: '0' });
    }
  });
  it('BCM2711 Cortex-A72 (no Cryptographic Extension): ISAR0 0x10000 (CRC32 only)', () => {
    expect(idRegs(cpuFor(coreFeatures('cortex-a72', { crypto: false }))).isar0).toBe('10000');
  });
  it('the boards give each CPU its core: rk3588 A55 x4 + A76 x4 are Armv8.2, pi4 has no crypto, tx2 Armv8.0', () => {
    const con = { write: () => {}, read: () => -1, hasInput: () => false, setInputListener: () => {} };
    const isar0 = (board: string) => new Machine({ board: boards[board]!, console: con }).cpus.map((c) => read(c, 3, 0, 0, 6, 0).toString(16));
    expect(isar0('rk3588')).toEqual(Array(8).fill('100010211120'));
    expect(isar0('pi4')).toEqual(Array(4).fill('10000'));
    expect(isar0('tx2')).toEqual(Array(6).fill('11120'));
    expect(isar0('qemu-virt')).toEqual(Array(8).fill('100010211120'));
  });
  it('AT_HWCAP: what Linux lists for each core', () => {
    const names = (h: number) => Object.entries(HWCAP).filter(([, b]) => h & b).map(([n]) => n.toLowerCase()).join(' ');
    expect(names(linuxHwcaps(coreFeatures('cortex-a76')))).toBe(
      'fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp');
    expect(names(linuxHwcaps(coreFeatures('cortex-a72')))).toBe('fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid');
    expect(names(linuxHwcaps(coreFeatures('cortex-a72', { crypto: false })))).toBe('fp asimd evtstrm crc32 cpuid');
  });
});

describe('an optional feature is UNDEFINED on a core without it', () => {
  const full = defaultDecoder();
  const undef = full.decode(0).exec;
  const rand = (() => {
    let s = 12345;
    return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s);
  })();

  it('every requires() row: decodes with its feature, UNDEFINED without it', () => {
    const rows = full.all.filter((d) => d.feature !== undefined);
    expect(new Set(rows.map((d) => d.feature))).toEqual(ALL_FEATURES);
    for (const d of rows) {
      const without = decoderFor(new Set([...ALL_FEATURES].filter((f) => f !== d.feature)));
      let decoded = 0;
      for (let k = 0; k < 64; k++) {
        const w = (d.value | (rand() & ~d.mask)) >>> 0;
        if (full.match(w) !== d) continue;
        expect(without.decode(w).exec, `${d.name} ${w.toString(16)} without ${d.feature}`).toBe(undef);
        if (full.decode(w).exec !== undef) decoded++;
      }
      expect(decoded, `${d.name} decodes with ${d.feature}`).toBeGreaterThan(0);
    }
  });

  it('without FEAT_PAN, exception entry never sets PSTATE.PAN (SCTLR_EL1.SPAN is RES1) and ERET cannot set it', () => {
    for (const [core, pan] of [['cortex-a76', 1], ['cortex-a72', 0]] as const) {
      const cpu = cpuFor(coreFeatures(core));
      cpu.sys.sctlr &= ~SCTLR.SPAN;
      cpu.sys.vbar1 = 0x4000;
      cpu.el = 0;
      cpu.setTlbContext(0);
      cpu.mem.ram.setUint32(0x1000, 0, true); // UDF: taken to EL1
      cpu.pc = 0x1000;
      cpu.run(1);
      expect(cpu.el).toBe(1);
      expect(cpu.sys.pan).toBe(pan);
      cpu.sys.spsr1 = 0x3c5 | (1 << 22);
      cpu.eret();
      expect(cpu.sys.pan).toBe(pan);
    }
  });
});

describeOracle('instructions per core (assembled here)', ['cross-as'], () => {
  const trapsOf = (features: FeatureSet, asm: string[], setup: (cpu: Cpu) => void = () => {}) => {
    const cpu = cpuFor(features);
    const words = assemble(asm);
    const traps: number[] = [];
    cpu.exceptionHook = (c, ec) => {
      traps.push(ec);
      c.exitRequest = 1;
    };
    cpu.setX(2, 0x8000n);
    setup(cpu);
    for (const w of words) {
      cpu.mem.ram.setUint32(0x1000, w, true);
      cpu.invalidateCodeRam(0x1000, 4);
      cpu.pc = 0x1000;
      cpu.run(1);
    }
    return traps;
  };
  const v82 = ['ldaddal x1, x3, [x2]', 'casb w1, w3, [x2]', 'swp w1, w3, [x2]', 'ldapr x3, [x2]', 'dc cvap, x2',
    'sqrdmlah v1.8h, v2.8h, v3.8h', 'sdot v1.4s, v2.16b, v3.4b[1]', 'fadd h1, h2, h3', 'msr pan, #1', 'mrs x1, pan'];
  const crypto = ['aese v1.16b, v2.16b', 'sha256h q1, q2, v3.4s', 'sha1c q1, s2, v3.4s', 'pmull2 v1.1q, v2.2d, v3.2d'];

  it('Armv8.1/8.2 instructions (LSE, LRCPC, DPB, RDM, DotProd, FP16, PAN) run on A76, are UNDEFINED on A72', () => {
    expect(trapsOf(coreFeatures('cortex-a76'), v82)).toEqual([]);
    expect(trapsOf(coreFeatures('cortex-a72'), v82)).toEqual(v82.map(() => EC.UNKNOWN));
  });
  it('crypto instructions run on A72/A57 with the extension, are UNDEFINED on BCM2711; CRC32 runs on both', () => {
    expect(trapsOf(coreFeatures('cortex-a57'), [...crypto, 'crc32cx w1, w2, x3'])).toEqual([]);
    expect(trapsOf(coreFeatures('cortex-a72', { crypto: false }), [...crypto, 'crc32cx w1, w2, x3'])).toEqual([...crypto.map(() => EC.UNKNOWN)]);
  });
  it('two cores with different features on one memory keep their own decodes of a shared code page', () => {
    const mem = new FlatMemory(1 << 20);
    const [ldadd] = assemble(['ldadd x1, x3, [x2]']);
    mem.ram.setUint32(0x1000, ldadd!, true);
    mem.ram.setBigUint64(0x8000, 5n, true);
    const traps: string[] = [];
    for (const core of ['cortex-a76', 'cortex-a72', 'cortex-a76', 'cortex-a72']) {
      const cpu = new Cpu(mem, decoderFor(coreFeatures(core)));
      cpu.exceptionHook = (c, ec) => {
        traps.push(`${core} EC ${ec}`);
        c.exitRequest = 1;
      };
      cpu.setX(1, 1n);
      cpu.setX(2, 0x8000n);
      cpu.pc = 0x1000;
      cpu.run(1);
    }
    expect(traps).toEqual([`cortex-a72 EC ${EC.UNKNOWN}`, `cortex-a72 EC ${EC.UNKNOWN}`]);
    expect(mem.ram.getBigUint64(0x8000, true)).toBe(7n);
  });
  it('DC CVAP is allowed at EL0 on A76 (no trap with SCTLR_EL1.UCI as Linux sets it)', () => {
    expect(trapsOf(coreFeatures('cortex-a76'), ['dc cvap, x2'], (cpu) => {
      cpu.sys.sctlr |= SCTLR.UCI;
      cpu.el = 0;
      cpu.setTlbContext(0);
    })).toEqual([]);
  });
});
