// In-process harness for Linux VMs under the hypervisor: a VM set booted on an emulated board,
// each VM's console captured on its own (no multiplexer in between) so a test can wait for a
// VM's output and type into its shell. The machine runs in 25 ms slices between the test's awaits.
import { boards } from '../../boards/index.ts';
import { HostConsole } from '../../emulator/devices/console.ts';
import { Machine } from '../../emulator/machine.ts';
import { loadVmConfig, type VmConfig } from '../../hypervisor/config.ts';
import type { Shyper } from '../../hypervisor/shyper.ts';
import type { ConsoleMux } from '../../src/console-mux.ts';
import { startHypervisor } from '../../src/hypervisor-run.ts';
import { VmDeviceHub } from '../../src/vm-devices.ts';

export interface VmBootOptions {
  board?: string;
  gic?: 2 | 3;
  /** Added to VM 0's command line. */
  append?: string;
  /** Give up (reject waits) after this much wall time in all. */
  timeoutMs?: number;
  /** --net user: the gateway 10.0.2.2 on the switch between the VMs. */
  net?: 'user';
}

export class LinuxVms {
  readonly machine: Machine;
  readonly hv: Shyper;
  readonly hub: VmDeviceHub;
  readonly vms: VmConfig[];
  readonly log: string[] = [];
  private readonly consoles = new Map<number, HostConsole>();
  private readonly outs = new Map<number, string>();
  private state = 'running';
  private stopped = false;
  private marker = 0;
  readonly started = performance.now();

  constructor(configPath: string, private readonly o: VmBootOptions = {}) {
    const board = boards[o.board ?? 'qemu-virt']!;
    this.vms = loadVmConfig(configPath, board, { gicVersion: o.gic });
    this.machine = new Machine({ board, gicVersion: o.gic, console: this.console(0) });
    this.hub = new VmDeviceHub((line) => void this.log.push(line));
    if (o.net === 'user') this.hub.attachGateway();
    const mux = { console: (id: number) => this.console(id) } as unknown as ConsoleMux;
    this.hv = startHypervisor(this.machine, {
      vms: this.vms,
      mux,
      append: o.append,
      seed: 0n,
      log: (line) => void this.log.push(line),
      onSystemOff: () => this.machine.end('poweroff'),
      devices: this.hub,
    }).hv;
    const step = (): void => {
      if (this.stopped) return;
      const s = this.machine.runFor(25);
      // Every CPU waits: skip virtual time to the next event at once (no host sleep in tests).
      if (s === 'idle') this.machine.advanceIdle(Infinity);
      else if (s !== 'running') {
        this.state = s;
        return;
      }
      setImmediate(step);
    };
    setImmediate(step);
  }

  private console(id: number): HostConsole {
    let c = this.consoles.get(id);
    if (c === undefined) {
      c = new HostConsole((b) => this.outs.set(id, (this.outs.get(id) ?? '') + String.fromCharCode(b)));
      this.consoles.set(id, c);
    }
    return c;
  }

  /** Everything VM `id` printed so far. */
  out(id: number): string {
    return this.outs.get(id) ?? '';
  }

  /** Keyboard input for VM `id`. */
  type(id: number, text: string): void {
    this.console(id).pushInput(text);
  }

  /** Resolves with the match once VM `id`'s output from `from` on matches `re`. */
  waitFor(id: number, re: RegExp, from = 0, ms = 120_000): Promise<RegExpExecArray> {
    const limit = Math.min(performance.now() + ms, this.started + (this.o.timeoutMs ?? 600_000));
    return new Promise((resolve, reject) => {
      const poll = (): void => {
        const m = re.exec(this.out(id).slice(from));
        if (m) return resolve(m);
        if (this.state !== 'running' || this.stopped) return reject(new Error(`machine ${this.state} before vm${id} printed ${re}; its output ends:\n${this.out(id).slice(-1500)}`));
        if (performance.now() > limit) return reject(new Error(`timeout waiting for ${re} from vm${id}; its output ends:\n${this.out(id).slice(-1500)}\nlog:\n${this.log.join('\n')}`));
        setTimeout(poll, 20);
      };
      poll();
    });
  }

  /** Waits until VM `id`'s shell shows its prompt after `boot ok`. */
  async shell(id: number): Promise<void> {
    await this.waitFor(id, /shyper-guest: boot ok[^]*# (\x1b\[6n)?$/);
  }

  /**
   * Runs a shell command in VM `id` and resolves with what it printed (the echoed command line
   * excluded) and its exit status.
   */
  async run(id: number, cmd: string, ms = 60_000): Promise<{ out: string; status: number }> {
    const n = ++this.marker;
    const from = this.out(id).length;
    // A command ending in & (a background job) takes the echo without the ';'.
    this.type(id, `${cmd}${/&\s*$/.test(cmd) ? '' : ';'} echo "@@$?@@${n}"\n`);
    const m = await this.waitFor(id, new RegExp(`@@(\\d+)@@${n}\\r?\\n`), from, ms);
    const text = this.out(id).slice(from);
    const body = text.slice(text.indexOf('\n') + 1, m.index);
    return { out: body.replace(/\r/g, ''), status: Number(m[1]) };
  }

  stop(): void {
    this.stopped = true;
    this.machine.stop();
    this.hub.close();
  }
}
