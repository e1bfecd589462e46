// Unallocated and absent-feature encodings of the load/store group are UNDEFINED: qemu-aarch64
// raises SIGILL for each (cortex-a57: ARMv8.0, no FEAT_LSE/LOR/LRCPC2/PAuth/MTE; cortex-a76 for
// the LDAPR row, which it implements), and TestCpu with the same core's decoder takes an exception
// with ESR.EC = 0.
import { expect, it } from 'vitest';
import { describeOracle } from '../oracles.ts';
import { TestCpu } from './harness.ts';
import { decoderFor } from '../../emulator/arm64/cpu.ts';
import { coreFeatures } from '../../emulator/arm64/features.ts';
import { assemble, BUF, BUFSZ, type Case, loadCase, qemuSignal, randomState, Rng, SLOT } from './ls-oracle.ts';

const rng = new Rng(1);
const pristine = rng.bytes(BUFSZ);

const ASM: string[] = [
  // FEAT_LSE
  'cas x1, x2, [x3]', 'casal w1, w2, [x3]', 'casb w1, w2, [x3]', 'casp x0, x1, x2, x3, [x4]', 'caspl w0, w1, w2, w3, [x4]',
  'ldadd x1, x2, [x3]', 'ldaddal w1, w2, [x3]', 'stadd w1, [x3]', 'swp x1, x2, [x3]', 'swpb w1, w2, [x3]',
  'ldsmax x1, x2, [x3]', 'ldumin w1, w2, [x3]', 'ldclr x1, x2, [x3]', 'ldeor w1, w2, [x3]', 'ldset x1, x2, [x3]',
  // FEAT_LOR
  'ldlar x1, [x3]', 'stllr w1, [x3]', 'ldlarb w1, [x3]',
  // FEAT_LRCPC2, FEAT_PAuth, FEAT_MTE
  '.arch armv8.4-a', 'ldapur w1, [x3, #4]', 'stlur x1, [x3, #-8]',
  '.arch armv8.5-a+memtag', 'ldraa x1, [x3]', 'stgp x1, x2, [x3]', 'ldg x1, [x3]',
];

/** Encodings with no instruction at all (ARM ARM C4.1.66 "unallocated" rows), as raw words. */
const RAW: [string, number][] = [
  ['LDR (uimm) size=10 opc=11', 0xb9c00020],
  ['LDR (uimm) size=11 opc=11', 0xf9c00020],
  ['STR (uimm) SIMD&FP size=01 opc=10', 0x7d800020],
  ['STR (uimm) SIMD&FP size=11 opc=11', 0xfdc00020],
  ['PRFM pre-index', 0xf8800c20],
  ['PRFM post-index', 0xf8800420],
  ['LDTR SIMD&FP', 0x3c400820],
  ['LDR (register) option=001', 0xf8622820],
  ['LDR (register) option=000', 0xf8620820],
  ['LDP opc=11', 0xe9400440],
  ['LDNP opc=01 (no LDPSW no-allocate)', 0x68400440],
  ['LDP SIMD&FP opc=11', 0xed400440],
  ['LDR (literal) SIMD&FP opc=11', 0xdc000000],
  ['LD4 multiple opcode=0001', 0x4c401020],
  ['LD2 multiple .1D', 0x0c408c20],
  ['LD4 multiple .1D', 0x0c400c20],
  ['ST1 multiple, bits 20:16 not zero', 0x0c017020],
  ['LD1 single H, size<0>=1', 0x0d404420],
  ['LD1 single S, size=10', 0x0d408820],
  ['LD1 single D, S=1', 0x0d409420],
  ['ST1R (replicate store)', 0x0d00c020],
  ['LD1R S=1', 0x0d40d020],
  ['LDAXR... with o2=1 o0=0 (LDLAR) at size 11', 0xc8df7c20],
];

describeOracle('UNDEFINED load/store encodings', ['qemu-aarch64', 'cross-gcc', 'cross-as'], () => {
  const lines = ASM.filter((l) => !l.startsWith('.'));
  const words = assemble(ASM);
  const named: [string, number, string][] = [
    ...lines.map((l, i) => [l, words[i]!, 'cortex-a57'] as [string, number, string]),
    ...RAW.map(([n, w]) => [n, w, 'cortex-a57'] as [string, number, string]),
    ['LDAPR with Rs != 11111', 0xb8a0c020, 'cortex-a76'],
  ];

  it.each(named)('%s', (_name, word, model) => {
    const st = randomState(rng);
    for (let k = 0; k < 31; k++) st.x[k] = BigInt(BUF + 0x400);
    const c: Case = { ...st, words: [word] };
    expect(qemuSignal(c, pristine, model)).toBe('SIGILL');
    const t = new TestCpu(decoderFor(coreFeatures(model)));
    loadCase(t, c, pristine);
    t.cpu.run(1);
    expect(t.traps).toEqual([{ ec: 0, iss: 0, far: 0, pc: SLOT }]);
    expect(t.mem.ramBytes.slice(BUF, BUF + BUFSZ)).toEqual(pristine);
  });

  it('the assembled list has one word per instruction', () => {
    expect(words.length).toBe(lines.length);
  });
});
