// Runs A64 instructions on a bare CPU over flat RAM (VA = PA): the shared fixture of the CPU tests.
import { Cpu } from '../../emulator/arm64/cpu.ts';
import type { Decoder } from '../../emulator/arm64/decode/pattern.ts';
import { FlatMemory } from '../../emulator/arm64/flat-memory.ts';

export interface Trap {
  ec: number;
  iss: number;
  far: number;
  pc: number;
}

export class TestCpu {
  readonly mem = new FlatMemory(1 << 20);
  readonly cpu: Cpu;
  readonly traps: Trap[] = [];
  static readonly CODE = 0x1000;

  /** `decoder`: a core's (cpu.ts decoderFor); default the one with every feature. */
  constructor(decoder?: Decoder) {
    this.cpu = new Cpu(this.mem, decoder);
    this.cpu.exceptionHook = (cpu, ec, iss, far) => {
      this.traps.push({ ec, iss, far, pc: cpu.pc });
      cpu.exitRequest = 1;
    };
    this.cpu.el = 0;
  }

  /** Place instruction words at CODE and run them (plus any branches they take), `steps` instructions. */
  exec(words: number[], steps = words.length): Cpu {
    for (let i = 0; i < words.length; i++) this.mem.ram.setUint32(TestCpu.CODE + 4 * i, words[i]! >>> 0, true);
    this.cpu.invalidateCodeRam(TestCpu.CODE, words.length * 4);
    this.cpu.pc = TestCpu.CODE;
    this.cpu.run(steps);
    return this.cpu;
  }

  x(n: number): bigint {
    return this.cpu.getX(n);
  }
  setX(n: number, v: bigint | number): void {
    this.cpu.setX(n, BigInt(v));
  }
}
