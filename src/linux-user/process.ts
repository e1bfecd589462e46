// A user-mode Linux process on the emulated CPU: the initial stack (argc, argv, envp, auxv as
// the kernel's create_elf_tables builds it) and the run loop.
import { Cpu, decoderFor } from '../../emulator/arm64/cpu.ts';
import { coreFeatures, linuxHwcaps } from '../../emulator/arm64/features.ts';
import { SP } from '../../emulator/arm64/regs.ts';
import { MIDR } from '../../boards/types.ts';
import { AddressSpace, PROT_READ, PROT_WRITE } from './address-space.ts';
import { loadElf } from './elf.ts';
import { UsageError } from '../errors.ts';
import { Syscalls } from './syscalls.ts';

const AT = { NULL: 0, PHDR: 3, PHENT: 4, PHNUM: 5, PAGESZ: 6, BASE: 7, FLAGS: 8, ENTRY: 9, UID: 11, EUID: 12, GID: 13, EGID: 14, PLATFORM: 15, HWCAP: 16, CLKTCK: 17, SECURE: 23, RANDOM: 25, HWCAP2: 26, EXECFN: 31 };

/** The cores `run-elf --cpu` can model; each decodes its own architecture (features.ts). */
export const USER_CPUS = ['cortex-a76', 'cortex-a55', 'cortex-a72', 'cortex-a57'] as const;
export type UserCpuName = (typeof USER_CPUS)[number];

const STACK_TOP = 0x7ffffff000;
const STACK_SIZE = 8 << 20;

export class Process {
  readonly as: AddressSpace;
  readonly cpu: Cpu;
  readonly sys: Syscalls;

  /** `core`: the CPU modeled (instructions, AT_HWCAP, ID registers); `memBytes`: the physical memory behind the address space (default 1 GiB). */
  constructor(image: Uint8Array, path: string, argv: string[], env: string[], core: UserCpuName = 'cortex-a76', opts: { memBytes?: number } = {}) {
    const features = coreFeatures(core);
    this.as = new AddressSpace(opts.memBytes);
    this.cpu = new Cpu(this.as.mem, decoderFor(features));
    this.as.cpu = this.cpu;
    this.cpu.translator = this.as;
    this.as.map(STACK_TOP - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE);
    const elf = loadElf(this.as, image, path, { start: STACK_TOP - STACK_SIZE, end: STACK_TOP });
    this.as.brkStart = this.as.brk = elf.brk;
    this.sys = new Syscalls(this.as, path, { midr: MIDR[core], features });
    this.cpu.exceptionHook = (cpu, ec, iss, far) => this.sys.exception(cpu, ec, iss, far);

    // Linux refuses (E2BIG) arguments and environment above a quarter of the stack limit.
    const strBytes = [path, ...argv, ...env].reduce((n, s) => n + Buffer.byteLength(s) + 9, 0);
    if (strBytes > STACK_SIZE / 4) throw new UsageError(`run-elf: argument list too long (${strBytes} bytes, at most ${STACK_SIZE / 4})`);

    // Strings at the top of the stack, then the vectors below them (16-byte aligned SP).
    let p = STACK_TOP - 16;
    const putStr = (s: string): number => {
      const b = Buffer.from(s + '\0');
      p -= b.length;
      this.as.poke(p, b);
      return p;
    };
    const execfn = putStr(path);
    const argvPtrs = argv.map(putStr);
    const envPtrs = env.map(putStr);
    const platform = putStr('aarch64');
    p -= 16;
    p -= p % 16;
    const random = p;
    this.as.poke(random, Uint8Array.from({ length: 16 }, (_, i) => (i * 37 + 11) & 0xff));
    const aux: [number, number][] = [
      [AT.PHDR, elf.phdr], [AT.PHENT, elf.phent], [AT.PHNUM, elf.phnum], [AT.PAGESZ, 4096], [AT.BASE, 0],
      [AT.FLAGS, 0], [AT.ENTRY, elf.entry], [AT.UID, 0], [AT.EUID, 0], [AT.GID, 0], [AT.EGID, 0],
      [AT.HWCAP, linuxHwcaps(features)], [AT.HWCAP2, 0], [AT.CLKTCK, 100], [AT.SECURE, 0], [AT.RANDOM, random],
      [AT.PLATFORM, platform], [AT.EXECFN, execfn], [AT.NULL, 0],
    ];
    const words = [argv.length, ...argvPtrs, 0, ...envPtrs, 0, ...aux.flat()];
    p -= words.length * 8;
    p -= p % 16;
    const stack = new Uint8Array(words.length * 8);
    const dv = new DataView(stack.buffer);
    words.forEach((w, i) => dv.setBigUint64(i * 8, BigInt(w), true));
    this.as.poke(p, stack);
    this.cpu.setX(SP, BigInt(p));
    this.cpu.pc = elf.entry;
    this.cpu.el = 0;
    this.cpu.setTlbContext(0);
  }

  /** Run to exit; returns the exit status. */
  run(): number {
    return this.runFor(Infinity) ?? 1;
  }

  /** Run to exit or for about `maxInstructions`; the exit status, or null while still running. */
  runFor(maxInstructions: number): number | null {
    const cpu = this.cpu;
    const end = cpu.instret + maxInstructions;
    while (this.sys.exitCode === null) {
      if (cpu.instret >= end) return null;
      cpu.run(Math.min(1_000_000, Math.max(1, end - cpu.instret)));
      if (cpu.halted && this.sys.exitCode === null) return 1;
    }
    this.sys.flush();
    return this.sys.exitCode;
  }
}
