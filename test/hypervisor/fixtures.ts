// Shared by the hypervisor core tests: a vGIC stand-in that delivers nothing (the real one is
// covered in test/hypervisor/vgic), and bare-metal guest code from assembly lines.
import type { VirtualGic } from '../../hypervisor/vm.ts';
import { assemble } from '../arm64/ls-oracle.ts';

/** A vGIC that owns and delivers nothing; `overrides` replace single methods (e.g. setLevel). */
export function nullVgic(overrides: Partial<VirtualGic> = {}): VirtualGic {
  return {
    own: () => {}, inject: () => {}, setLevel: () => {}, injectHw: () => false,
    gicdAccess: () => 0n, gicrAccess: () => 0n, sgi1r: () => {},
    flush: () => {}, sync: () => {}, save: () => {}, restore: () => {}, maintenance: () => {}, pending: () => false,
    ...overrides,
  };
}

/** Assembled A64 lines as little-endian bytes (a guest image). */
export function code(lines: string[]): Uint8Array {
  const w = assemble(lines);
  const b = new Uint8Array(w.length * 4);
  const dv = new DataView(b.buffer);
  w.forEach((x, i) => dv.setUint32(i * 4, x >>> 0, true));
  return b;
}
