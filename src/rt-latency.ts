// Interrupt latency of the real-time test guest (guests/rtvm) in the scenarios the seed talk
// compares, run in-process on the rk3588 board: natively (no hypervisor), as a VM with the
// emulated vGIC, as an RTVM with the GIC passed through, and that RTVM again while the default
// set's GVMs run a CPU- and I/O-heavy load. Everything is virtual time: two runs give the same
// numbers (DESIGN.md "Determinism"). `npm run bench` prints the table (commands/bench-latency.ts);
// test/hypervisor/rt-latency.test.ts checks the seed's shape, the interference bound and
// determinism.
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { boards } from '../boards/index.ts';
import { HostConsole } from '../emulator/devices/console.ts';
import { Machine } from '../emulator/machine.ts';
import { defaultVmSet, loadVmConfig, type VmConfig } from '../hypervisor/config.ts';
import { startHypervisor } from './hypervisor-run.ts';

const GUESTS = fileURLToPath(new URL('../guests/', import.meta.url));
const RTVM = `${GUESTS}rtvm/`;

/** One `rtvm: report N: ...` line: cycles from the compare value to handler entry. */
export interface LatencyReport {
  n: number;
  min: number;
  avg: number;
  max: number;
}

export interface LatencyRun {
  reports: LatencyReport[];
  /** The guest's console lines. */
  lines: string[];
}

const REPORT = /rtvm: report (\d+): n=\d+ min=(\d+) avg=([\d.]+) max=(\d+) cycles/;

export function parseReport(line: string): LatencyReport | null {
  const m = REPORT.exec(line);
  return m ? { n: Number(m[1]), min: Number(m[2]), avg: Number(m[3]), max: Number(m[4]) } : null;
}

/** Collects one console's output as lines. */
class LineConsole extends HostConsole {
  readonly lines: string[] = [];
  private cur = '';
  constructor(onLine: (line: string) => void = () => {}) {
    super((b) => {
      if (b === 0x0a) {
        this.lines.push(this.cur);
        onLine(this.cur);
        this.cur = '';
      } else if (b !== 0x0d) this.cur += String.fromCharCode(b);
    });
  }
}

/** Slices (20 µs of virtual time each) a scenario may take before it is called stuck. */
const MAX_SLICES = 200_000;

/**
 * Runs slices until `done`. Async: it gives the host's event loop a turn every ~100 ms of wall
 * time, so a caller's I/O (a test runner's worker RPC, a bench's output) is never starved for the
 * minute a loaded scenario takes.
 */
async function runUntil(m: Machine, done: () => boolean, what: string): Promise<void> {
  let turn = performance.now() + 100;
  for (let i = 0; i < MAX_SLICES; i++) {
    if (done()) return;
    m.runSlice();
    if ((i & 63) === 0 && performance.now() > turn) {
      await new Promise((r) => setImmediate(r));
      turn = performance.now() + 100;
    }
  }
  throw new Error(`latency ${what}: no result after ${MAX_SLICES} slices`);
}

/** The guest on bare rk3588 (it moves itself from the A55 boot core to A76 core 7). */
export async function runNative(reports = 3): Promise<LatencyRun> {
  const con = new LineConsole();
  const m = new Machine({ board: boards.rk3588!, console: con });
  m.loadLinux({ kernel: new Uint8Array(readFileSync(`${RTVM}rtvm-rk3588.bin`)), cmdline: '' });
  const got = (): LatencyReport[] => con.lines.map(parseReport).filter((r) => r !== null);
  await runUntil(m, () => got().length >= reports, 'native');
  return { reports: got().slice(0, reports), lines: con.lines };
}

/** Boot a VM set under Shyper and run it until `done`; every VM's console lines. */
async function runVms(vms: VmConfig[], done: (consoles: Map<number, LineConsole>, m: Machine) => boolean, what: string, onStep?: (consoles: Map<number, LineConsole>) => void): Promise<Map<number, LineConsole>> {
  const consoles = new Map<number, LineConsole>();
  const consoleOf = (id: number): LineConsole => {
    let c = consoles.get(id);
    if (c === undefined) consoles.set(id, (c = new LineConsole()));
    return c;
  };
  const m = new Machine({ board: boards.rk3588!, console: consoleOf(0) });
  startHypervisor(m, { vms, consoleOf, seed: 0n, log: () => {}, onSystemOff: () => m.end('poweroff') });
  await runUntil(
    m,
    () => {
      onStep?.(consoles);
      return done(consoles, m);
    },
    what,
  );
  return consoles;
}

function reportsOf(c: LineConsole | undefined): LatencyReport[] {
  return (c?.lines ?? []).map(parseReport).filter((r) => r !== null);
}

/** VM 1 of guests/rtvm/<set>-rk3588.json (VM 0 idles): the emulated vGIC or GIC passthrough. */
export async function runVm(set: 'vgic' | 'passthrough', reports = 3): Promise<LatencyRun> {
  const vms = loadVmConfig(`${RTVM}${set}-rk3588.json`, boards.rk3588!);
  const consoles = await runVms(vms, (c) => reportsOf(c.get(1)).length >= reports, set);
  return { reports: reportsOf(consoles.get(1)).slice(0, reports), lines: consoles.get(1)!.lines };
}

/**
 * The CPU- and I/O-heavy load typed into each GVM's shell: a busy loop on every vCPU but one, and
 * a shell loop writing lines to its console (an emulated UART: a trap per register access, an
 * interrupt per FIFO drain) on the last.
 */
export function gvmLoad(vcpus: number): string {
  const hogs = Array.from({ length: vcpus - 1 }, () => '(while :; do :; done) & ').join('');
  return `${hogs}while :; do echo "load $((n=n+1)) $(cat /proc/uptime) abcdefghijklmnopqrstuvwxyz0123456789"; done\n`;
}

/**
 * The rk3588 default set (MVM, GVMs 1-2 booting the kit's Linux, VM3 the RTVM with the GIC passed
 * through): once both GVMs reach their shell, each gets gvmLoad(); the RTVM's next `reports`
 * reports after both loads are running are the loaded figures.
 */
export async function runLoaded(reports = 2): Promise<LatencyRun & { idleReports: LatencyReport[] }> {
  const vms = defaultVmSet(boards.rk3588!);
  const gvms = vms.filter((v) => v.kind === 'gvm');
  const typed = new Set<number>();
  let loadedFrom = -1; // index into VM3's report list where the load was running everywhere
  const consoles = await runVms(
    vms,
    (c) => loadedFrom >= 0 && reportsOf(c.get(3)).length >= loadedFrom + reports,
    'loaded',
    (c) => {
      for (const g of gvms) {
        const con = c.get(g.id);
        if (con === undefined || typed.has(g.id) || !con.lines.some((l) => l.includes('shyper-guest: boot ok'))) continue;
        con.pushInput(gvmLoad(g.cpu.num));
        typed.add(g.id);
      }
      if (loadedFrom < 0 && gvms.every((g) => c.get(g.id)?.lines.some((l) => /^load \d+ /.test(l)))) loadedFrom = reportsOf(c.get(3)).length;
    },
  );
  const all = reportsOf(consoles.get(3));
  return { reports: all.slice(loadedFrom, loadedFrom + reports), idleReports: all.slice(0, loadedFrom), lines: consoles.get(3)!.lines };
}

export interface LatencyTable {
  native: LatencyRun;
  vgic: LatencyRun;
  passthrough: LatencyRun;
  loaded?: LatencyRun;
}

const avg = (r: LatencyRun): number => r.reports.reduce((s, x) => s + x.avg, 0) / r.reports.length;
const worst = (r: LatencyRun): number => Math.max(...r.reports.map((x) => x.max));

export function latencyFigures(t: LatencyTable): { avg: Record<string, number>; worst: Record<string, number> } {
  return {
    avg: { native: avg(t.native), vgic: avg(t.vgic), passthrough: avg(t.passthrough) },
    worst: { native: worst(t.native), vgic: worst(t.vgic), passthrough: worst(t.passthrough), ...(t.loaded ? { loaded: worst(t.loaded) } : {}) },
  };
}

/** `latency: native=A vgic=B passthrough=C` (average cycles), then the worst cases. */
export function formatLatency(t: LatencyTable): string[] {
  const f = latencyFigures(t);
  const n = (x: number): string => x.toFixed(1);
  return [
    `latency: native=${n(f.avg.native!)} vgic=${n(f.avg.vgic!)} passthrough=${n(f.avg.passthrough!)}`,
    `latency-worst: native=${f.worst.native} vgic=${f.worst.vgic} passthrough=${f.worst.passthrough}${f.worst.loaded !== undefined ? ` loaded=${f.worst.loaded}` : ''}`,
  ];
}
