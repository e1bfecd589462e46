// virtio-rng / entropy device (virtio v1.2 §5.4): one request queue of device-writable buffers
// the device fills with random bytes. The bytes come from an EntropySource the machine passes
// in — a deterministic generator seeded for the run (DESIGN.md "Determinism", `--seed`), so two
// identical runs give the guest identical entropy.
import { VIRTIO_ID_RNG, type VirtioDevice, type VirtioDeviceHost } from './device.ts';

export interface EntropySource {
  /** Fills buf with the next bytes of the stream. */
  fill(buf: Uint8Array): void;
}

/** The seed used when the run names none. */
export const DEFAULT_SEED = 0x5348595045520001n; // "SHYPER" 0 1

/**
 * SplitMix64 (Steele, Lea, Flood 2014; the seeding generator of xoshiro): a 64-bit counter
 * stepped by the golden-ratio constant and mixed. Fast enough for entropy requests, and a fixed
 * seed gives a fixed stream; not cryptographic (nothing here is).
 */
export class SplitMix64 implements EntropySource {
  private state: bigint;
  private readonly word = new DataView(new ArrayBuffer(8));
  private spare = 8;

  constructor(seed: bigint = DEFAULT_SEED) {
    this.state = BigInt.asUintN(64, seed);
  }

  next(): bigint {
    this.state = BigInt.asUintN(64, this.state + 0x9e3779b97f4a7c15n);
    let z = this.state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  }

  fill(buf: Uint8Array): void {
    for (let i = 0; i < buf.length; i++) {
      if (this.spare === 8) {
        this.word.setBigUint64(0, this.next(), true);
        this.spare = 0;
      }
      buf[i] = this.word.getUint8(this.spare++);
    }
  }
}

export interface VirtioRngOptions {
  source?: EntropySource;
  /** Queue size (default 64). */
  queueSize?: number;
}

export class VirtioRng implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_RNG;
  readonly name = 'virtio-rng';
  readonly features = 0n;
  readonly queueSizes: readonly number[];
  readonly source: EntropySource;
  private readonly buf = new Uint8Array(4096);
  private host!: VirtioDeviceHost;

  constructor(o: VirtioRngOptions = {}) {
    this.source = o.source ?? new SplitMix64();
    this.queueSizes = [o.queueSize ?? 64];
  }

  attach(host: VirtioDeviceHost): void {
    this.host = host;
  }

  readConfig(): number {
    return 0; // no configuration space
  }

  writeConfig(): void {}

  reset(): void {}

  notify(i: number): void {
    if (i !== 0) return;
    const q = this.host.queue(0);
    const filled = q.serveAll((chain) => {
      // Linux's virtio-rng posts one small buffer at a time; bound one answer to 4 KiB anyway.
      const bytes = this.buf.subarray(0, Math.min(chain.writableBytes, this.buf.length));
      this.source.fill(bytes);
      return chain.write(0, bytes);
    });
    if (filled) this.host.usedBuffers(q);
  }
}
