// Whole programs: our C suite (built with aarch64-linux-gnu-gcc -static at several -O levels)
// and busybox applets must print byte-for-byte what qemu-aarch64 prints, with the same status.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUSYBOX, describeOracle } from '../oracles.ts';

const SRC = 'test/programs';
const BUILD = 'test/programs/build';
mkdirSync(BUILD, { recursive: true });

function build(name: string, opt: string, flags: string[] = []): string {
  const out = `${BUILD}/${name}${opt}`;
  const src = `${SRC}/${name}.c`;
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) {
    // Built under a name of this process, then renamed: programs-jit.test.ts runs these suites in
    // another worker at the same time, and must never execute a half-written binary.
    const tmp = `${out}.${process.pid}`;
    execFileSync('aarch64-linux-gnu-gcc', ['-static', opt, ...flags, '-o', tmp, src, '-lm']);
    renameSync(tmp, out);
  }
  return out;
}

/** The same program under qemu-aarch64 and run-elf; `cpu` names the core for both. */
function both(prog: string, args: string[], input?: Buffer, cpu?: string) {
  const q = spawnSync('qemu-aarch64', ['-r', '6.1.0', ...(cpu ? ['-cpu', cpu] : []), prog, ...args], { input, encoding: 'buffer', maxBuffer: 1 << 26 });
  const o = spawnSync('node', ['bin/shyper-emu.js', 'run-elf', ...(cpu ? ['--cpu', cpu] : []), prog, ...args], { input, encoding: 'buffer', maxBuffer: 1 << 26 });
  return { q, o };
}

describeOracle('run-elf vs qemu-aarch64, our C programs', ['cross-gcc', 'qemu-aarch64'], { timeout: 120_000 }, () => {
  for (const name of ['integer', 'floating', 'vector', 'rounding']) {
    for (const opt of ['-O0', '-O2', '-O3']) {
      it(`${name} ${opt}`, () => {
        const prog = build(name, opt);
        const { q, o } = both(prog, []);
        expect(o.stderr.toString()).toBe('');
        expect(o.stdout.toString()).toBe(q.stdout.toString());
        expect(o.status).toBe(q.status);
      });
    }
  }
});

// The Armv8.2-A suite (LSE atomics, AES, SHA-1/SHA-256, PMULL, CRC32, dot product, RDM, FP16,
// RCpc) on the core that has them, and on one that does not.
const ARMV82 = ['-march=armv8.2-a+crypto+dotprod+fp16+rcpc'];
describeOracle('run-elf --cpu cortex-a76 vs qemu-aarch64 -cpu cortex-a76, Armv8.2-A extensions', ['cross-gcc', 'qemu-aarch64'], { timeout: 120_000 }, () => {
  for (const opt of ['-O0', '-O2', '-O3']) {
    it(`armv82 ${opt}`, () => {
      const prog = build('armv82', opt, ARMV82);
      const { q, o } = both(prog, [], undefined, 'cortex-a76');
      expect(o.stderr.toString()).toBe('');
      expect(o.stdout.toString()).toBe(q.stdout.toString());
      expect(o.status).toBe(q.status);
      expect(o.stdout.toString()).toContain('hwcaps: fp asimd aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\n');
    });
  }
  it('on Cortex-A72 (Armv8.0) the first LSE instruction is SIGILL, as under qemu-aarch64 -cpu cortex-a72', () => {
    const { q, o } = both(build('armv82', '-O2', ARMV82), [], undefined, 'cortex-a72');
    expect(q.signal).toBe('SIGILL');
    expect(o.status).toBe(128 + 4);
    expect(o.stdout.toString()).toBe(q.stdout.toString());
    expect(o.stderr.toString()).toMatch(/^shyper-emu: SIGILL at pc=0x[0-9a-f]+ insn=0x[0-9a-f]{8}\n$/);
  });
});

describeOracle('run-elf vs qemu-aarch64, busybox applets', ['busybox', 'qemu-aarch64'], { timeout: 120_000 }, () => {
  const bb = BUSYBOX;
  const data = `${BUILD}/sample.txt`;
  writeFileSync(data, Array.from({ length: 200 }, (_, i) => `line ${(i * 7919) % 211} ${'x'.repeat(i % 13)}`).join('\n') + '\n');
  const cases: [string, string[]][] = [
    ['echo', ['hello', 'world']],
    ['seq', ['1', '100']],
    ['sort', [data]],
    ['wc', [data]],
    ['md5sum', [data]],
    ['sha256sum', [data]],
    ['expr', ['12345', '*', '6789']],
    ['printf', ['%d %s %x\\n', '42', 'abc', '255']],
    ['awk', ['{ s += $2 } END { print s, NR }', data]],
    ['sed', ['-n', 's/line \\([0-9]*\\).*/\\1/p', data]],
    ['head', ['-n', '3', data]],
    ['tr', ['a-z', 'A-Z']],
  ];
  for (const [applet, args] of cases) {
    it(`busybox ${applet}`, () => {
      const { q, o } = both(bb, [applet, ...args], applet === 'tr' ? Buffer.from('some input text\n') : undefined);
      expect(o.stderr.toString()).toBe(q.stderr.toString());
      expect(o.stdout.toString()).toBe(q.stdout.toString());
      expect(o.status).toBe(q.status);
    });
  }
});

describe('run-elf errors', () => {
  it('a missing file or a non-ELF: one clear line, exit 2', () => {
    const m = spawnSync('node', ['bin/shyper-emu.js', 'run-elf', '/nonexistent'], { encoding: 'utf8' });
    expect(m.status).toBe(2);
    expect(m.stderr.trim()).toBe("shyper-emu: run-elf: '/nonexistent': no such file");
    const n = spawnSync('node', ['bin/shyper-emu.js', 'run-elf', 'package.json'], { encoding: 'utf8' });
    expect(n.status).toBe(2);
    expect(n.stderr.trim()).toBe("shyper-emu: 'package.json' is not a static AArch64 Linux program: not an ELF file");
  });
  it('--cpu names one of the modelled cores, else a usage error (exit 2)', () => {
    const r = spawnSync('node', ['bin/shyper-emu.js', 'run-elf', '--cpu', 'cortex-x1', 'package.json'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('shyper-emu: run-elf: --cpu: one of cortex-a76, cortex-a55, cortex-a72, cortex-a57');
  });
});

describeOracle('run-elf errors, on a program built here', ['cross-gcc'], () => {
  it('an undefined instruction is SIGILL: a line with PC and word, exit 132, no stack trace', () => {
    const dir = `${BUILD}/undef-${process.pid}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/u.s`, '.global _start\n_start: nop\n.inst 0x00000000\n');
    execFileSync('aarch64-linux-gnu-gcc', ['-static', '-nostdlib', '-o', `${dir}/u`, `${dir}/u.s`]);
    const r = spawnSync('node', ['bin/shyper-emu.js', 'run-elf', `${dir}/u`], { encoding: 'utf8' });
    expect(r.status).toBe(132);
    expect(r.stderr.trim()).toMatch(/^shyper-emu: SIGILL at pc=0x[0-9a-f]+ insn=0x00000000$/);
  });
});
