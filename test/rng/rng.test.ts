// The deterministic generator behind --seed, checked against the reference C implementations
// (splitmix64.c, xoshiro256starstar.c by Blackman & Vigna; outputs printed by gcc -O2 builds).
import { describe, expect, it } from 'vitest';
import { DEFAULT_SEED, Rng, splitmix64 } from '../../emulator/rng.ts';

describe('Rng (xoshiro256** seeded by splitmix64)', () => {
  it('splitmix64 matches the reference from state 0', () => {
    let x = 0n;
    const out: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const [v, next] = splitmix64(x);
      out.push(v);
      x = next;
    }
    expect(out).toEqual([0xe220a8397b1dcdafn, 0x6e789e6aa1b965f4n, 0x06c45d188009454fn]);
  });

  it('xoshiro256** matches the reference from state {1, 2, 3, 4}', () => {
    const r = Rng.fromState([1n, 2n, 3n, 4n]);
    expect(Array.from({ length: 5 }, () => r.nextU64())).toEqual([
      0x0000000000002d00n, 0x0000000000000000n, 0x000000005a007080n, 0x10e0000000009d80n, 0x10e0b61ce1009d80n,
    ]);
  });

  it('new Rng(seed) is xoshiro256** with its state filled by splitmix64(seed), as the authors recommend', () => {
    const r0 = new Rng(0n);
    expect(Array.from({ length: 5 }, () => r0.nextU64())).toEqual([
      0x99ec5f36cb75f2b4n, 0xbf6e1f784956452an, 0x1a5f849d4933e6e0n, 0x6aa594f1262d2d2cn, 0xbba5ad4a1f842e59n,
    ]);
    const r42 = new Rng(42n);
    expect(Array.from({ length: 5 }, () => r42.nextU64())).toEqual([
      0x15780b2e0c2ec716n, 0x6104d9866d113a7en, 0xae17533239e499a1n, 0xecb8ad4703b360a1n, 0xfde6dc7fe2ec5e64n,
    ]);
    expect(DEFAULT_SEED).toBe(0n);
  });

  it('bytes are the outputs little-endian; named streams are reproducible and independent', () => {
    const a = new Rng(7n, 'chosen');
    const first = a.nextU64();
    const bytes = new Rng(7n, 'chosen').bytes(12);
    expect(Buffer.from(bytes.subarray(0, 8)).readBigUInt64LE()).toBe(first);
    expect(bytes.subarray(8)).toEqual(new Rng(7n, 'chosen').bytes(16).subarray(8, 12));
    expect(new Rng(7n, 'chosen').bytes(32)).toEqual(new Rng(7n, 'chosen').bytes(32));
    expect(new Rng(7n, 'chosen').bytes(32)).not.toEqual(new Rng(8n, 'chosen').bytes(32));
    expect(new Rng(7n, 'chosen').bytes(32)).not.toEqual(new Rng(7n, 'virtio-rng').bytes(32));
    expect(new Rng(-1n).nextU64()).toBe(new Rng(0xffffffffffffffffn).nextU64());
  });
});
