// What a boot loads from Node. Its net module (with the stream classes of process.stdin/stdout
// on a pipe) costs start-up time: a native boot whose output goes to a file and whose stdin is
// /dev/null loads none of it (emulator/net/hostfwd.ts loads it for a --hostfwd, src/terminal.ts
// takes the standard streams once the machine is made).
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'shyper-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Node modules a boot loads', () => {
  it('a native boot with its output in a file loads no node:net', () => {
    const preload = join(dir, 'modules.cjs');
    // (At exit, which builtin modules were ever loaded: Node's own list.)
    // (Written with fs: on a pipe, process.stderr would load net itself.)
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeSync(2, 'NET=' + process.moduleLoadList.includes('NativeModule net') + '\\n'));\n`);
    const out = join(dir, 'out.txt');
    const fd = openSync(out, 'w');
    // The default translator settings (the suite's env turns the warm-up off), without a
    // translation cache: the kit boot then starts no translation worker (whose thread's stdio
    // would load net; test/boot/jit-warmup-boot.test.ts).
    const env: NodeJS.ProcessEnv = { ...process.env, SHYPER_JIT_CACHE: '' };
    delete env.SHYPER_JIT_WARMUP;
    const r = spawnSync(process.execPath, ['-r', preload, 'bin/shyper-emu.js', '--board', 'qemu-virt', '--native', '--smp', '1', '--kernel', 'guests/Image.gz', '--initrd', 'guests/initramfs.cpio.gz', '--append', 'shyper.test=1'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', fd, 'pipe'], // (stderr a pipe: the boot writes nothing there without --stats)
      encoding: 'utf8',
      timeout: 120_000,
    });
    closeSync(fd);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('shyper-guest: test done');
    expect(r.stderr).toContain('NET=false');
  }, 180_000);
});
