// Deterministic randomness for everything random a guest is given (DESIGN.md "--seed"): the
// device tree's /chosen/rng-seed and kaslr-seed now, virtio-rng later. One user seed (boot
// option --seed N, default DEFAULT_SEED) names the whole run: same seed, same bytes, same boot.
//
// The generator is xoshiro256** (Blackman & Vigna, https://prng.di.unimi.it/xoshiro256starstar.c)
// with its state filled by splitmix64 (https://prng.di.unimi.it/splitmix64.c), as its authors
// recommend. Consumers take named streams — new Rng(seed, 'chosen'), new Rng(seed,
// 'virtio-rng@a003e00'), new Rng(seed, 'vm1/chosen') — so adding a consumer never changes the
// bytes another one gets. Not cryptographic: a guest's "entropy" is reproducible on purpose.

/** The seed used when the user gives none (`--seed 0`). */
export const DEFAULT_SEED = 0n;

const M64 = (1n << 64n) - 1n;

/** splitmix64: returns [output, next state] for a 64-bit state. */
export function splitmix64(state: bigint): [bigint, bigint] {
  const next = (state + 0x9e3779b97f4a7c15n) & M64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return [z ^ (z >> 31n), next];
}

/** FNV-1a, 64 bits, over the UTF-8 bytes of a stream name. */
function fnv1a64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(text)) h = ((h ^ BigInt(b)) * 0x100000001b3n) & M64;
  return h;
}

const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (64n - k))) & M64;

export class Rng {
  private readonly s = new BigUint64Array(4);

  /**
   * A generator for stream `stream` of user seed `seed` (any 64-bit value). The empty stream
   * name gives plain xoshiro256** seeded by splitmix64(seed).
   */
  constructor(seed: bigint, stream = '') {
    let x = BigInt.asUintN(64, seed) ^ (stream === '' ? 0n : fnv1a64(stream));
    for (let i = 0; i < 4; i++) {
      const [v, next] = splitmix64(x);
      this.s[i] = v;
      x = next;
    }
  }

  /** Use this exact xoshiro256** state (tests against the reference implementation). */
  static fromState(state: readonly [bigint, bigint, bigint, bigint]): Rng {
    const r = new Rng(0n);
    state.forEach((v, i) => (r.s[i] = BigInt.asUintN(64, v)));
    return r;
  }

  /** Next 64-bit output. */
  nextU64(): bigint {
    const s = this.s;
    let s0 = s[0]!, s1 = s[1]!, s2 = s[2]!, s3 = s[3]!;
    const result = (rotl((s1 * 5n) & M64, 7n) * 9n) & M64;
    const t = (s1 << 17n) & M64;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 45n);
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
    return result;
  }

  /** Fill `buf` with outputs, little-endian, 8 bytes per output (the last one truncated). */
  fill(buf: Uint8Array): Uint8Array {
    for (let i = 0; i < buf.length; i += 8) {
      let v = this.nextU64();
      for (let k = i; k < Math.min(i + 8, buf.length); k++, v >>= 8n) buf[k] = Number(v & 0xffn);
    }
    return buf;
  }

  /** `n` fresh bytes. */
  bytes(n: number): Uint8Array {
    return this.fill(new Uint8Array(n));
  }
}
