// The command line against bad input (issue 14), run as a user runs it: every case is the
// documented exit code with exactly one clear stderr line, never a stack trace, never exit 3.
// (run-elf's hostile programs are in test/linux-user/hostile.test.ts, the fuzzer in fuzz.test.ts.)
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Fdt } from '../../emulator/fdt/fdt.ts';
import { expectOneLine, pool, runCli, sh } from './run-cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'hostile-input-'));
const file = (name: string, data: Uint8Array | string): string => {
  const f = join(tmp, name);
  writeFileSync(f, data);
  return f;
};

/** An arm64 Image header (booting.rst) with the given text_offset and image_size, no code. */
function imageHeader(textOffset: bigint, imageSize: bigint): Uint8Array {
  const b = new Uint8Array(4096);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(8, textOffset, true);
  dv.setBigUint64(16, imageSize, true);
  dv.setUint32(0x38, 0x644d5241, true);
  return b;
}

/** A device tree blob with `depth` nested nodes. */
function deepTree(depth: number): Uint8Array {
  const fdt = new Fdt();
  let n = fdt.root;
  for (let i = 0; i < depth; i++) n = n.ensureChild(`n${i}`);
  return fdt.encode();
}

const goodDtb = (() => {
  const fdt = new Fdt();
  fdt.root.setU32('#address-cells', 2);
  return fdt.encode();
})();
const patchDtb = (fn: (dv: DataView) => void): Uint8Array => {
  const b = goodDtb.slice();
  fn(new DataView(b.buffer));
  return b;
};

const kernel = imageHeader(0n, 1n << 20n);

// [description, arguments, exit code, the one stderr line]
type Case = [string, string[], number, RegExp];
const cases: Case[] = [
  // Boards: only the board table's own keys.
  ['--board __proto__', ['--board', '__proto__'], 2, /^shyper-emu: unknown board '__proto__' \(boards: rk3588, qemu-virt, pi4, tx2\)$/],
  ['--board constructor', ['--board', 'constructor', '--native'], 2, /unknown board 'constructor'/],
  ['--board hasOwnProperty', ['--board', 'hasOwnProperty'], 2, /unknown board 'hasOwnProperty'/],
  ['subcommand __proto__', ['__proto__'], 2, /unknown option '__proto__'/],
  ['subcommand toString', ['toString'], 2, /unknown option 'toString'/],
  // Machine shape.
  ['--board rk3588 --gic 2', ['--board', 'rk3588', '--gic', '2'], 2, /^shyper-emu: --gic 2: board rk3588 has GICv3$/],
  ['--board pi4 --gic 3', ['--board', 'pi4', '--gic', '3', '--native'], 2, /--gic 3: board pi4 has GICv2/],
  ['--gic 4', ['--gic', '4'], 2, /--gic: '4' is not 2 or 3/],
  ['--smp 99', ['--board', 'pi4', '--smp', '99'], 2, /--smp 99: board pi4 has 1 to 4 CPUs/],
  ['--smp 0', ['--smp', '0'], 2, /--smp: '0' is not a CPU count/],
  ['--mem 4K', ['--mem', '4K'], 2, /--mem: board rk3588 takes 16 MiB to/],
  ['--mem 1T', ['--mem', '1T'], 2, /--mem: '1T' is not a size/],
  ['--mem 2^70', ['--mem', '1180591620717411303424'], 2, /is not a usable size/],
  ['--mem 100000001', ['--native', '--mem', '100000001'], 2, /in 4 KiB units/],
  // Options.
  ['--native=no', ['--native=no'], 2, /^shyper-emu: --native takes no value \(got '--native=no'\)$/],
  ['--stats=yes', ['--stats=yes'], 2, /--stats takes no value/],
  ['--help=1', ['--help=1'], 2, /--help takes no value/],
  ['--kernel without a value', ['--kernel'], 2, /--kernel needs a value/],
  ['unknown option', ['--bogus'], 2, /unknown option '--bogus'/],
  ['bad --expect', ['--expect', '('], 2, /--expect: '\(' is not a valid regular expression/],
  ['bad --timeout', ['--timeout', 'soon'], 2, /--timeout: 'soon' is not a number/],
  // Input files: checked before they are read whole.
  ['kernel /dev/zero', ['--kernel', '/dev/zero'], 2, /^shyper-emu: kernel '\/dev\/zero': is a device, not a file$/],
  ['initrd /dev/zero', ['--native', '--kernel', file('k1', kernel), '--initrd', '/dev/zero'], 2, /^shyper-emu: initrd '\/dev\/zero': is a device, not a file$/],
  ['dtb /dev/zero', ['--native', '--kernel', file('k2', kernel), '--dtb', '/dev/zero'], 2, /^shyper-emu: dtb '\/dev\/zero': is a device, not a file$/],
  ['kernel missing', ['--kernel', '/nonexistent/Image'], 2, /kernel '\/nonexistent\/Image': no such file/],
  ['kernel is a directory', ['--kernel', '/'], 2, /kernel '\/': is a directory/],
  ['config /dev/zero', ['--config', '/dev/zero'], 2, /^shyper-emu: \/dev\/zero: is a device, not a file$/],
  ['config larger than 1 MiB', ['--config', file('big.json', ' '.repeat(2 << 20))], 2, /big\.json: \d+ bytes is larger than the 1 MiB a config file may have/],
  ['dtb larger than 2 MiB', ['--native', '--kernel', file('k3', kernel), '--dtb', file('big.dtb', new Uint8Array(3 << 20))], 2, /dtb '.*big\.dtb': 3 MiB is larger than the 2 MiB accepted/],
  // Images: one line (the hypervisor notice must not come first).
  ['--cmdline under the hypervisor', ['--cmdline', 'console=ttyS2'], 2, /^shyper-emu: --cmdline replaces a --native boot's command line; under the hypervisor use --append \(VM0\) or the VM config's cmdline$/],
  ['--dtb under the hypervisor', ['--dtb', 'package.json'], 2, /^shyper-emu: --dtb gives a --native boot its device tree/],
  ['kernel without the arm64 magic', ['--native', '--kernel', 'package.json'], 2, /^shyper-emu: not an arm64 Linux Image/],
  ['kernel without the arm64 magic, under the hypervisor', ['--kernel', 'package.json'], 2, /^shyper-emu: vm 0 "\w+": kernel 'package\.json': not an arm64 Linux Image/],
  ['kernel image_size 2^63', ['--native', '--kernel', file('huge-size', imageHeader(0n, 1n << 63n))], 2, /do not fit in \d+ MiB of RAM/],
  ['kernel image_size 2^63, under the hypervisor', ['--kernel', file('huge-size-hv', imageHeader(0n, 1n << 63n))], 2, /^shyper-emu: vm 0 "\w+": kernel '.*huge-size-hv': \d+ bytes at text_offset 0 do not fit in \d+ MiB of RAM$/],
  ['kernel text_offset 2^63', ['--native', '--kernel', file('huge-offset', imageHeader(1n << 63n, 4096n))], 2, /do not fit in \d+ MiB of RAM/],
  ['kernel larger than its RAM', ['--native', '--board', 'qemu-virt', '--mem', '16M', '--kernel', file('k4', kernel), '--initrd', file('initrd-20M', new Uint8Array(20 << 20))], 2, /do not fit in 16 MiB of RAM/],
  ['corrupt gzip kernel', ['--native', '--kernel', file('bad.gz', Uint8Array.of(0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8))], 2, /^shyper-emu: corrupt gzip data/],
  ['corrupt gzip kernel, under the hypervisor', ['--kernel', file('bad2.gz', Uint8Array.of(0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8))], 2, /^shyper-emu: vm 0 "\w+": kernel '.*bad2\.gz': corrupt gzip data/],
  // Device trees.
  ['dtb of random bytes', ['--native', '--kernel', file('k5', kernel), '--dtb', file('random.dtb', Uint8Array.from({ length: 300 }, (_, i) => (i * 97 + 13) & 0xff))], 2, /^shyper-emu: dtb '.*random\.dtb': not a device tree blob \(bad magic\)$/],
  ['dtb truncated', ['--native', '--kernel', file('k6', kernel), '--dtb', file('trunc.dtb', goodDtb.subarray(0, 50))], 2, /dtb '.*trunc\.dtb': device tree blob truncated/],
  ['dtb offsets outside', ['--native', '--kernel', file('k7', kernel), '--dtb', file('off.dtb', patchDtb((d) => d.setUint32(8, 0xfffffff0)))], 2, /device tree header has offsets outside the blob/],
  ['dtb reservation map unterminated', ['--native', '--kernel', file('k8', kernel), '--dtb', file('rsv.dtb', patchDtb((d) => d.setUint32(16, (d.getUint32(4) - 8) & ~7)))], 2, /memory reservation map runs past the end/],
  ['dtb property name outside', ['--native', '--kernel', file('k9', kernel), '--dtb', file('name.dtb', patchDtb((d) => d.setUint32(d.getUint32(8) + 8 + 8, 0x7fffffff)))], 2, /property name outside the strings block/],
  ['dtb nested 1000 deep', ['--native', '--kernel', file('k10', kernel), '--dtb', file('deep.dtb', deepTree(1000))], 2, /nested deeper than 64/],
  ['dtb version 1', ['--native', '--kernel', file('k11', kernel), '--dtb', file('v1.dtb', patchDtb((d) => d.setUint32(20, 1)))], 2, /device tree version 1 is too old/],
  // Other subcommands.
  ['dtb --mem 4K', ['dtb', '--mem', '4K', '-o', join(tmp, 'x.dtb')], 2, /^shyper-emu: --mem: board rk3588 takes 16 MiB to \d+ MiB of RAM in 4 KiB units$/],
  ['dtb --board __proto__', ['dtb', '--board', '__proto__', '-o', join(tmp, 'x.dtb')], 2, /unknown board '__proto__'/],
  ['dtb -o into a missing directory', ['dtb', '-o', '/nonexistent/dir/x.dtb'], 2, /cannot write '\/nonexistent\/dir\/x\.dtb'/],
  ['dtb --smp 0', ['dtb', '--smp', '0', '-o', join(tmp, 'x.dtb')], 2, /--smp: '0' is not a positive number/],
  ['bench --bogus', ['bench', '--bogus'], 2, /^shyper-emu: bench: expected at most one argument, an iteration count \(got '--bogus'\)$/],
  ['bench 1 2', ['bench', '1', '2'], 2, /bench: expected at most one argument/],
  ['bench vm --bogus', ['bench', 'vm', '--bogus'], 2, /^shyper-emu: bench vm: unexpected argument '--bogus'$/],
  ['run-elf without a program', ['run-elf'], 2, /usage: shyper-emu run-elf/],
  ['run-elf --bogus', ['run-elf', '--bogus', 'x'], 2, /run-elf: unknown option '--bogus'/],
];

describe('command line against bad input: exit 2 and one line', { timeout: 600_000 }, () => {
  it(`${cases.length} cases`, async () => {
    const results = await pool(cases, 2, ([, args]) => runCli(args, { timeoutMs: 120_000 }));
    results.forEach((r, i) => expectOneLine(r, cases[i]![2], cases[i]![3], cases[i]![0]));
  });

  it('a gzip bomb as kernel: refused past 256 MiB decompressed, host memory bounded', async () => {
    const bomb = join(tmp, 'bomb.gz');
    if (!existsSync(bomb)) writeFileSync(bomb, gzipSync(Buffer.alloc(300 << 20), { level: 1 }));
    const r = await runCli(['--native', '--kernel', bomb], { timeoutMs: 120_000 });
    expectOneLine(r, 2, /^shyper-emu: gzip data decompresses to more than 256 MiB$/, 'gzip bomb');
  });
});

describe('boot output into `| head -1`', { timeout: 300_000 }, () => {
  it('ends quietly with exit 0: no stack trace from a closed stdout', async () => {
    const r = await sh('node bin/shyper-emu.js --native --board qemu-virt --smp 1 --timeout 120 </dev/null | head -1; echo "status ${PIPESTATUS[0]}"');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^\[ +0\.000000\] Booting Linux[^\n]*\nstatus 0\n$/);
  });
  it('with an --expect still pending: exit 1 and one line saying why', async () => {
    const r = await sh('node bin/shyper-emu.js --native --board qemu-virt --smp 1 --timeout 120 --expect never-printed </dev/null | head -1 >/dev/null; echo "status ${PIPESTATUS[0]}"');
    expect(r.stdout).toBe('status 1\n');
    expect(r.stderr).toBe('shyper-emu: output closed before it matched /never-printed/\n');
  });
});
