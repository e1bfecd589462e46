// Hypervisor figures for `npm run bench` (issue "The Shyper hypervisor at EL2"), each one line:
//   vm-overhead: the same CPU-bound and syscall-heavy workloads in the kit's Linux, natively and
//     as VM0 under the hypervisor (the board's default set: two more VMs run on other cores);
//     modeled time between two kernel log marks (printk timestamps, µs) and wall time.
//   vm-boot: the default three-VM set to every VM's `boot ok`: wall time and peak host RSS beside
//     the guest RAM the VMs have.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * `node` arguments that run the emulator as a user's `npx shyper-emu` does: with the options on the
 * launcher's first line (bin/shyper-emu.js: V8's background work on one thread, a small young
 * generation).
 */
export const EMULATOR = ['--v8-pool-size=1', '--max-semi-space-size=2', `${ROOT}bin/shyper-emu.js`];
/**
 * The environment of those runs, as the launcher's first line leaves it: without
 * NODE_EXTRA_CA_CERTS, a file node parses at every start (~36 ms on the 2-core machine), and
 * with glibc's malloc on transparent huge pages (fewer first-touch faults).
 */
export function emulatorEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GLIBC_TUNABLES: LAUNCHER_TUNABLES, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}
/** What the launcher's first line sets GLIBC_TUNABLES to (bin/shyper-emu.js). */
export const LAUNCHER_TUNABLES = 'glibc.malloc.hugetlb=1';

/** Shell lines typed at the guest prompt: each workload between two /dev/kmsg marks. */
const WORKLOAD = [
  'echo bench-cpu-start > /dev/kmsg; i=0; while [ $i -lt 4000 ]; do i=$((i+1)); done; echo bench-cpu-end > /dev/kmsg',
  'echo bench-sys-start > /dev/kmsg; dd if=/dev/zero of=/dev/null bs=1 count=8000 2>/dev/null; echo bench-sys-end > /dev/kmsg',
  'poweroff -f',
];

interface Marks {
  cpuUs: number;
  sysUs: number;
  wallS: number;
}

function runWorkload(args: string[]): Promise<Marks | string> {
  return new Promise((resolve) => {
    const started = performance.now();
    const p = spawn('node', [...EMULATOR, ...args, '--timeout', '900'], { stdio: ['pipe', 'pipe', 'pipe'], env: emulatorEnv() });
    let out = '';
    let step = 0;
    // One line at a time, each once the previous has finished (the UART's receive FIFO is small):
    // the first at VM0's shell prompt, the next after each end mark.
    const ready = [/(?:^|\n)(?:\[vm0\] )?\/ # /, /\] bench-cpu-end/, /\] bench-sys-end/];
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      while (step < WORKLOAD.length && ready[step]!.test(out)) p.stdin.write(WORKLOAD[step++] + '\n');
    });
    p.on('close', () => {
      const t = (name: string): number => {
        const m = new RegExp(`\\[\\s*(\\d+\\.\\d+)\\] ${name}`).exec(out);
        return m ? Number(m[1]) * 1e6 : NaN;
      };
      const cpuUs = t('bench-cpu-end') - t('bench-cpu-start');
      const sysUs = t('bench-sys-end') - t('bench-sys-start');
      if (!Number.isFinite(cpuUs) || !Number.isFinite(sysUs)) return resolve(`no marks in the output (${out.slice(-160).replace(/\s+/g, ' ')})`);
      resolve({ cpuUs, sysUs, wallS: (performance.now() - started) / 1000 });
    });
  });
}

const pct = (vm: number, native: number): string => `${vm >= native ? '+' : ''}${((100 * (vm - native)) / native).toFixed(1)}%`;

export async function vmOverheadFigure(): Promise<string> {
  const native = await runWorkload(['--board', 'qemu-virt', '--native', '--smp', '1']);
  const vm = await runWorkload(['--board', 'qemu-virt']);
  if (typeof native === 'string') return `vm-overhead: skipped (native: ${native})`;
  if (typeof vm === 'string') return `vm-overhead: skipped (vm: ${vm})`;
  return (
    `vm-overhead: cpu native=${native.cpuUs.toFixed(0)}us vm=${vm.cpuUs.toFixed(0)}us (${pct(vm.cpuUs, native.cpuUs)})` +
    ` syscall native=${native.sysUs.toFixed(0)}us vm=${vm.sysUs.toFixed(0)}us (${pct(vm.sysUs, native.sysUs)})` +
    ` wall native=${native.wallS.toFixed(1)}s vm=${vm.wallS.toFixed(1)}s (qemu-virt, modeled time between kernel log marks)`
  );
}

export function vmBootFigure(board = 'rk3588'): Promise<string> {
  return new Promise((resolve) => {
    const expect = [0, 1, 2].flatMap((n) => ['--expect', `^\\[vm${n}\\] shyper-guest: boot ok`]);
    const started = performance.now();
    const p = spawn('node', [...EMULATOR, '--board', board, ...expect, '--stats', '--timeout', '900'], { stdio: ['ignore', 'ignore', 'pipe'], env: emulatorEnv() });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => {
      const wall = (performance.now() - started) / 1000;
      const rss = /rss_mb=(\d+)/.exec(err)?.[1];
      if (code !== 0 || rss === undefined) return resolve(`vm-boot: FAILED (exit ${code}: ${err.trim().split('\n').pop()})`);
      resolve(`vm-boot: ${board} default run (the MVM, then the Linux GVMs its CLI boots; 768 MiB guest RAM) to every boot ok: wall=${wall.toFixed(1)}s rss=${rss}MB (goal: under 768+200 MB)`);
    });
  });
}
