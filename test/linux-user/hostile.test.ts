// run-elf against hostile and careless programs (issue 14): every failure is the errno Linux
// gives, a signal's exit status with one line naming PC and instruction word, or exit 2 with one
// line for an ELF that cannot be loaded. Never a stack trace, never the exit-3 safety net.
// Programs: test/programs/hostile.c (one binary, the first argument picks the behaviour) and
// hand-patched copies of a minimal static ELF.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectNoCrash, expectOneLine, pool, runCli, sh } from '../cli/run-cli.ts';
import { BUSYBOX, describeOracle } from '../oracles.ts';

const BUILD = 'test/programs/build';
mkdirSync(BUILD, { recursive: true });

function buildHostile(): string {
  const src = 'test/programs/hostile.c';
  const out = `${BUILD}/hostile`;
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) execFileSync('aarch64-linux-gnu-gcc', ['-static', '-O1', '-o', out, src]);
  return out;
}

/** A minimal static program: writes "ok\n", exits 0. One PT_LOAD (its first program header). */
function buildTiny(): Uint8Array {
  const dir = `${BUILD}/tiny`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    `${dir}/t.s`,
    '.global _start\n_start:\n mov x0, #1\n adr x1, msg\n mov x2, #3\n mov x8, #64\n svc #0\n mov x0, #0\n mov x8, #93\n svc #0\nmsg: .ascii "ok\\n"\n',
  );
  execFileSync('aarch64-linux-gnu-gcc', ['-static', '-nostdlib', '-Wl,--build-id=none', '-o', `${dir}/t`, `${dir}/t.s`]);
  return new Uint8Array(readFileSync(`${dir}/t`));
}

const hostile = buildHostile();
const run = (mode: string, opts: { input?: string } = {}) => runCli(['run-elf', hostile, mode], { ...opts, timeoutMs: 120_000 });

describe('run-elf: guest descriptors are a table of their own', { timeout: 180_000 }, () => {
  it('close(dup(1)), perror, a failed fork, close(1) + dup: the host streams stay open', async () => {
    const r = await run('closedup');
    expectNoCrash(r, 'closedup');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('through a dup\n');
    expect(r.stderr).toContain('perror: No such file or directory\n');
    expect(r.stderr).toContain('fork: ');
    expect(r.stderr).toContain('fd 1\nstderr still open\n');
  });
  it('absurd descriptors and pointers: EBADF, EINVAL, EFAULT, EMFILE as Linux answers', async () => {
    const r = await run('fds');
    expectNoCrash(r, 'fds');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'close(-1) = -EBADF',
        'close(1<<30) = -EBADF',
        'dup3(1,1,0) = -EINVAL',
        'dup3(1,1<<30,0) = -EBADF',
        'dup3(1,5,0x1234) = -EINVAL',
        'fcntl(1,F_DUPFD,1<<30) = -EINVAL',
        'fcntl(1,F_DUPFD,10) = 10',
        'fcntl(10,F_GETFD) = 0',
        'fcntl(1,0x7777) = -EINVAL',
        'write(-5) = -EBADF',
        'write(2^40+77 as fd) = -EBADF',
        'write(1,NULL,10) = -EFAULT',
        'read(0,NULL,10) = -EFAULT',
        'read(1<<20) = -EBADF',
        'writev(1,NULL,-1) = -EINVAL',
        'writev(1,NULL,1<<20) = -EINVAL',
        'openat(bad dirfd, relative) = -EBADF',
        'openat(NULL path) = -EFAULT',
        // 0, 1, 2 and the dup at 10 are open: 1020 more fit under RLIMIT_NOFILE = 1024.
        'opened 1020 more, then EMFILE',
        '',
      ].join('\n'),
    );
  });
});

describe('run-elf: memory and lengths', { timeout: 180_000 }, () => {
  it('huge or absurd mmap/munmap/mprotect/mremap/brk: Linux errnos at once, no page-by-page loops', async () => {
    const t = performance.now();
    const r = await run('memory');
    expectNoCrash(r, 'memory');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'mmap 1 TiB = -1 ENOMEM',
        'mmap len -4096 = -ENOMEM',
        'mmap len 0 = -EINVAL',
        'mmap fixed at 2^48 = -ENOMEM',
        'mmap fixed unaligned = -EINVAL',
        'mmap no type = -EINVAL',
        'mmap bad prot = -EINVAL',
        'mmap bad fd = -EBADF',
        'mmap a directory = -ENODEV',
        'munmap 2^45 bytes = 0',
        'munmap len -1 = -EINVAL',
        'munmap unaligned = -EINVAL',
        'mprotect 1 TiB = -ENOMEM',
        'mprotect len -4096 = -ENOMEM',
        'mremap to 2^46 = -ENOMEM',
        'mremap len -4096 = -EINVAL',
        'mremap unmapped = -EFAULT',
        'mremap grow keeps data: 1',
        'sbrk(1 TiB) = -1 ENOMEM',
        'brk(2^63) = 0',
        'sbrk still works = 0',
        '',
      ].join('\n'),
    );
    // 2^33 pages unmapped, 2^28 protected: a per-page loop would take minutes.
    expect(performance.now() - t).toBeLessThan(60_000);
  });
  it('malloc until memory runs out: NULL with ENOMEM, the program carries on', async () => {
    const r = await run('malloc');
    expectNoCrash(r, 'malloc');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('malloc gave out after hundreds of MiB: ENOMEM\n');
  });
  it('absurd lengths (write/getrandom of 2^40 bytes, affinity masks, signal numbers): what Linux answers', async () => {
    const r = await run('lengths');
    expectNoCrash(r, 'lengths');
    expect(r.code).toBe(0);
    // Linux copies what is readable (the page before the hole) and returns that count; qemu
    // refuses the whole buffer with EFAULT instead.
    expect(r.stdout.slice(0, 4096)).toBe('x'.repeat(4096));
    expect(r.stdout.slice(4096)).toBe(
      [
        'x'.repeat(4096) + 'write(1, page, 2^40) = 4096',
        'write(1, page, -1) = 4096',
        '',
        'getrandom(page, 2^40) = 4096',
        'getrandom(page, 16, bad flags) = -EINVAL',
        'getrandom(NULL, 16) = -EFAULT',
        'sched_getaffinity(0, 0) = -EINVAL',
        'sched_getaffinity(0, 3) = -EINVAL',
        'sched_getaffinity(0, 2^40) = -EINVAL', // the length is an unsigned int: 2^40 is 0
        'sched_getaffinity(0, -8) = 8',
        'sched_getaffinity(12345, 8) = -ESRCH',
        'read(0, page, 2^40) = 0',
        'rt_sigaction(0) = -EINVAL',
        'rt_sigaction(SIGKILL, act) = -EINVAL',
        'rt_sigaction(1, setsize 9) = -EINVAL',
        'kill(99999, SIGTERM) = -ESRCH',
        'kill(self, 1000) = -EINVAL',
        'kill(self, SIGCHLD) = 0',
        'prlimit64(resource 99) = -EINVAL',
        '',
      ].join('\n'),
    );
  });
});

describe('run-elf: output to pipes', { timeout: 180_000 }, () => {
  it('a closed reader (`| head -1`) ends the program quietly with SIGPIPE status 141', async () => {
    const r = await sh(`node bin/shyper-emu.js run-elf ${hostile} yes | head -1; echo "status \${PIPESTATUS[0]}"`);
    expect(r.stdout).toBe('y\nstatus 141\n');
    expect(r.stderr).toBe('');
  });
  it('a program ignoring SIGPIPE gets EPIPE from write', async () => {
    const r = await sh(`node bin/shyper-emu.js run-elf ${hostile} yes-ignoring-sigpipe | head -1; echo "status \${PIPESTATUS[0]}"`);
    expect(r.stdout).toBe('y\nstatus 7\n');
    expect(r.stderr).toBe('write: EPIPE\n');
  });
  it('every byte arrives through a slow reader on a pipe someone made non-blocking (EAGAIN waits)', async () => {
    // perl (always on Debian) sets O_NONBLOCK on the pipe we inherit, then becomes us.
    const nb = `perl -e 'use Fcntl; fcntl(STDOUT, F_SETFL, fcntl(STDOUT, F_GETFL, 0) | O_NONBLOCK) or die; exec @ARGV'`;
    const r = await sh(`${nb} node bin/shyper-emu.js run-elf ${hostile} bigout | (sleep 2; wc -c); echo "status \${PIPESTATUS[0]}"`);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split(/\s+/)).toEqual([String(4 << 20), 'status', '0']);
  });
});

describe('run-elf: fatal signals name the PC and the instruction word', { timeout: 180_000 }, () => {
  const cases: [string, number, RegExp][] = [
    ['segv', 139, /^shyper-emu: SIGSEGV at pc=0x[0-9a-f]+ insn=0x[0-9a-f]{8} address=0x0$/],
    ['jump', 139, /^shyper-emu: SIGSEGV at pc=0xdead0000 insn=unreadable address=0xdead0000$/],
    ['trap', 133, /^shyper-emu: SIGTRAP at pc=0x[0-9a-f]+ insn=0xd4207d00 \(BRK #1000\)$/],
    ['bus', 135, /^shyper-emu: SIGBUS at pc=0x[0-9a-f]+ insn=0xc85f7[0-9a-f]{3} address=0x[0-9a-f]*[1-9a-f]$/],
  ];
  it.each(cases)('%s: exit %d, one line', async (mode, code, line) => {
    expectOneLine(await run(mode), code, line, mode);
  });
  it('abort() and raise(SIGTERM): the status of the signal, quietly', async () => {
    const [a, t] = await pool(['abort', 'term'], 2, (m) => run(m));
    expect([a!.code, a!.stderr]).toEqual([134, '']);
    expect([t!.code, t!.stderr]).toEqual([143, '']);
  });
});

describe('run-elf: ELFs that cannot be loaded are exit 2, one line', { timeout: 180_000 }, () => {
  const tiny = buildTiny();
  const dv = new DataView(tiny.buffer);
  const phoff = Number(dv.getBigUint64(32, true));
  expect(dv.getUint32(phoff, true)).toBe(1); // PT_LOAD first
  const patch = (name: string, fn: (d: DataView, b: Uint8Array) => Uint8Array | void): string => {
    const b = tiny.slice();
    const out = fn(new DataView(b.buffer), b) ?? b;
    const f = `${BUILD}/tiny/${name}`;
    writeFileSync(f, out);
    return f;
  };
  const ph = (field: number) => phoff + field;
  const cases: [string, (d: DataView, b: Uint8Array) => Uint8Array | void, RegExp][] = [
    ['e_phentsize 0', (d) => d.setUint16(54, 0, true), /program header entry size 0/],
    ['e_phentsize 32', (d) => d.setUint16(54, 32, true), /program header entry size 32/],
    ['e_phnum 0', (d) => d.setUint16(56, 0, true), /0 program headers/],
    ['e_phnum 65535', (d) => d.setUint16(56, 65535, true), /65535 program headers/],
    ['e_phoff 2^63', (d) => d.setBigUint64(32, 1n << 63n, true), /truncated program headers/],
    ['segment at the top of the address space', (d) => d.setBigUint64(ph(16), 0xfffffffffffff000n, true), /outside the user address space/],
    ['segment crossing 2^48', (d) => { d.setBigUint64(ph(16), (1n << 48n) - 0x1000n, true); d.setBigUint64(ph(40), 0x2000n, true); }, /outside the user address space/],
    ['p_memsz 1 TB', (d) => d.setBigUint64(ph(40), 1n << 40n, true), /needs? \d+ MiB, more than the \d+ MiB/],
    ['p_memsz 2^64-1', (d) => d.setBigUint64(ph(40), (1n << 64n) - 1n, true), /outside the user address space/],
    ['p_filesz > p_memsz', (d) => d.setBigUint64(ph(32), d.getBigUint64(ph(40), true) + 1n, true), /p_filesz .* > p_memsz/],
    ['p_offset past the end', (d) => d.setBigUint64(ph(8), 1n << 40n, true), /truncated/],
    ['segment over the stack', (d) => d.setBigUint64(ph(16), 0x7ffff00000n, true), /overlaps the stack/],
    ['truncated to 40 bytes', (_d, b) => b.subarray(0, 40), /not an ELF file/],
    ['32-bit class', (_d, b) => void (b[4] = 1), /not 64-bit ELF/],
    ['x86-64 machine', (d) => d.setUint16(18, 62, true), /machine 62 is not AArch64/],
    ['a core file', (d) => d.setUint16(16, 4, true), /not an executable/],
  ];
  it('the unpatched program runs', async () => {
    const r = await runCli(['run-elf', patch('ok', () => {})]);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, 'ok\n', '']);
  });
  it('every malformed header: exit 2, one line naming the problem', async () => {
    const files = cases.map(([name, fn]) => patch(name.replace(/\W+/g, '-'), fn));
    const results = await pool(files, 2, (f) => runCli(['run-elf', f]));
    results.forEach((r, i) => expectOneLine(r, 2, cases[i]![2], cases[i]![0]));
  });
  it('entry point 0: SIGSEGV at pc=0 (a loadable program that crashes is not a loader error)', async () => {
    const r = await runCli(['run-elf', patch('entry0', (d) => d.setBigUint64(24, 0n, true))]);
    expectOneLine(r, 139, /^shyper-emu: SIGSEGV at pc=0x0 insn=unreadable address=0x0$/, 'entry 0');
  });
  it('inputs that never end or are not files: /dev/zero, a directory: exit 2, one line', async () => {
    const [z, d] = await pool(['/dev/zero', '/'], 2, (f) => runCli(['run-elf', f]));
    expectOneLine(z!, 2, /^shyper-emu: run-elf: '\/dev\/zero': is a device, not a file$/, '/dev/zero');
    expectOneLine(d!, 2, /^shyper-emu: run-elf: '\/': is a directory$/, 'directory');
  });
});

// Debian's busybox is an oracle input (scripts/get-busybox.sh): skipped on a bare clone, required
// under .ci/run (test/oracles.ts).
describeOracle('run-elf: busybox to a pipe', ['busybox'], () => {
  it('busybox through `| head -1`: quiet, exit 141', async () => {
    const r = await sh(`node bin/shyper-emu.js run-elf ${BUSYBOX} seq 1 1000000 | head -1; echo "status \${PIPESTATUS[0]}"`);
    expect(r.stdout).toBe('1\nstatus 141\n');
    expect(r.stderr).toBe('');
  }, 180_000);
});
