// The `net:` line of `npm run bench` (issue 10): ping round trips on the user network, between
// two VMs under the hypervisor (the MVM and GVM1 of test/hypervisor/configs/qemu-net3.json, on
// the switch between VMs), from a VM to the gateway 10.0.2.2, and from a --native guest to the
// gateway, in one run. Modeled time is what the guest's ping reports (its clock is the modeled
// one: --clock cycles), in µs. Wall time is the host's, per round trip: from the echo request
// leaving the sender's virtio-net to the sender's ping printing that reply's line (the reply's
// way through the switch or gateway, the other guest's kernel, and the sender's receive path).
// Idle time is skipped at once, as in the tests (the run never sleeps).
// In-process, so the guests' shells can be driven without a terminal.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { boards } from '../../boards/index.ts';
import { HostConsole } from '../../emulator/devices/console.ts';
import { VirtioNet } from '../../emulator/devices/virtio/net.ts';
import { Machine } from '../../emulator/machine.ts';
import { Gateway } from '../../emulator/net/gateway.ts';
import { loadVmConfig } from '../../hypervisor/config.ts';
import type { ConsoleMux } from '../console-mux.ts';
import { startHypervisor } from '../hypervisor-run.ts';
import { NATIVE_NIC_MAC } from '../net-user.ts';
import { VmDeviceHub } from '../vm-devices.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COUNT = 10;
const TIMEOUT_MS = 600_000;

/** A machine run in 25 ms slices on the event loop, with a shell per console to type into. */
class Driven {
  private readonly outs = new Map<number, string>();
  private readonly consoles = new Map<number, HostConsole>();
  private readonly lines = new Map<number, string>();
  /** Wall time (performance.now()) each console printed its ping reply line for a sequence number. */
  readonly replyAt = new Map<string, number>();
  /** Wall time each echo request (by sender IP and sequence number) left its sender's NIC. */
  readonly requestAt = new Map<string, number>();
  private state = 'running';
  private stopped = false;
  readonly started = performance.now();
  machine!: Machine;

  console(id: number): HostConsole {
    let c = this.consoles.get(id);
    if (c === undefined) {
      c = new HostConsole((b) => {
        const ch = String.fromCharCode(b);
        this.outs.set(id, (this.outs.get(id) ?? '') + ch);
        const line = (this.lines.get(id) ?? '') + ch;
        this.lines.set(id, b === 0x0a ? '' : line);
        const m = b === 0x0a ? /^\d+ bytes from ([\d.]+): seq=(\d+) / .exec(line) : null;
        if (m) this.replyAt.set(`${id} ${m[1]} ${m[2]}`, performance.now());
      });
      this.consoles.set(id, c);
    }
    return c;
  }

  run(machine: Machine): void {
    this.machine = machine;
    const step = (): void => {
      if (this.stopped) return;
      const s = machine.runFor(25);
      if (s === 'idle') machine.advanceIdle(Infinity);
      else if (s !== 'running') return void (this.state = s);
      setImmediate(step);
    };
    setImmediate(step);
  }

  waitFor(id: number, re: RegExp, from = 0): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const poll = (): void => {
        const m = re.exec((this.outs.get(id) ?? '').slice(from));
        if (m) return resolve(m);
        if (this.state !== 'running' || performance.now() - this.started > TIMEOUT_MS) return reject(new Error(`vm${id}: ${this.state}, no ${re}`));
        setTimeout(poll, 10);
      };
      poll();
    });
  }

  /** Types `cmd` at VM `id`'s prompt; resolves with its output and the wall ms it took. */
  async sh(id: number, cmd: string): Promise<{ out: string; ms: number }> {
    const from = (this.outs.get(id) ?? '').length;
    const t = performance.now();
    // The marker as printed differs from the marker as typed (and echoed back).
    this.console(id).pushInput(`${cmd}; echo @@$((6*7))@@\n`);
    const m = await this.waitFor(id, /@@42@@\r?\n/, from);
    return { out: (this.outs.get(id) ?? '').slice(from, from + m.index), ms: performance.now() - t };
  }

  stop(): void {
    this.stopped = true;
    this.machine?.stop();
  }


  /** Notes the time an ICMP echo request in `frame` leaves its sender (IPv4 in Ethernet). */
  tap(frame: Uint8Array): void {
    if (frame.length < 42 || frame[12] !== 0x08 || frame[13] !== 0x00 || frame[23] !== 1) return;
    const icmp = 14 + (frame[14]! & 0x0f) * 4;
    if (frame[icmp] !== 8) return;
    const key = `${frame.subarray(26, 30).join('.')} ${frame.subarray(30, 34).join('.')} ${(frame[icmp + 6]! << 8) | frame[icmp + 7]!}`;
    if (!this.requestAt.has(key)) this.requestAt.set(key, performance.now());
  }
}

interface Rtt {
  /** Average round trip the guest's ping reports (modeled time), µs. */
  us: number;
  /** Host wall time per round trip, ms. */
  wallMs: number;
}

async function ping(d: Driven, id: number, from: string, to: string): Promise<Rtt> {
  d.requestAt.clear();
  const r = await d.sh(id, `ping -c ${COUNT} -i 0.1 -W 5 ${to}`);
  const avg = /round-trip min\/avg\/max = [\d.]+\/([\d.]+)\//.exec(r.out);
  if (!new RegExp(`${COUNT} packets received`).test(r.out) || avg === null) throw new Error(`vm${id} ping ${to}: ${r.out.trim().split('\n').pop()}`);
  let wall = 0;
  for (let seq = 0; seq < COUNT; seq++) {
    const sent = d.requestAt.get(`${from} ${to} ${seq}`);
    const got = d.replyAt.get(`${id} ${to} ${seq}`);
    if (sent === undefined || got === undefined || got < sent) throw new Error(`vm${id} ping ${to}: seq=${seq} not seen leaving and coming back`);
    wall += got - sent;
  }
  return { us: Number(avg[1]) * 1000, wallMs: wall / COUNT };
}

const boot = /shyper-guest: boot ok[^]*# (\x1b\[6n)?$/;

async function vmPings(): Promise<{ vmVm: Rtt; vmGw: Rtt }> {
  const board = boards['qemu-virt']!;
  // The MVM and GVM1 of the three-VM network config (the third VM would only cost boot time).
  const vms = loadVmConfig(`${ROOT}test/hypervisor/configs/qemu-net3.json`, board).slice(0, 2);
  const d = new Driven();
  const hub = new VmDeviceHub(() => {});
  hub.attachGateway();
  const forward = hub.netSwitch.forward.bind(hub.netSwitch);
  hub.netSwitch.forward = (port, frame) => {
    d.tap(frame);
    return forward(port, frame);
  };
  const machine = new Machine({ board, console: d.console(0) });
  startHypervisor(machine, { vms, mux: { console: (id: number) => d.console(id) } as unknown as ConsoleMux, seed: 0n, log: () => {}, onSystemOff: () => machine.end('poweroff'), devices: hub });
  d.run(machine);
  try {
    await Promise.all([d.waitFor(0, boot), d.waitFor(1, boot)]);
    for (const id of [0, 1]) await d.sh(id, `ip addr add 10.0.0.${id + 1}/24 dev eth0 && ip link set eth0 up && ip route add 10.0.2.2 dev eth0`);
    await d.sh(0, 'ping -c 1 -W 5 10.0.0.2'); // ARP resolved before the measured pings
    await d.sh(1, 'ping -c 1 -W 5 10.0.2.2');
    return { vmVm: await ping(d, 0, '10.0.0.1', '10.0.0.2'), vmGw: await ping(d, 1, '10.0.0.2', '10.0.2.2') };
  } finally {
    d.stop();
    hub.close();
  }
}

async function nativePing(): Promise<Rtt> {
  const board = boards['qemu-virt']!;
  const d = new Driven();
  const gateway = new Gateway();
  const nic = new VirtioNet({
    mac: NATIVE_NIC_MAC,
    backend: {
      transmit: (f) => {
        d.tap(f);
        gateway.receive(f);
      },
    },
  });
  gateway.send = (f) => void nic.receive(f);
  const machine = new Machine({ board, smp: 1, console: d.console(0), virtio: [nic] });
  machine.loadLinux({ kernel: readFileSync(`${ROOT}guests/Image.gz`), initrd: readFileSync(`${ROOT}guests/initramfs.cpio.gz`), cmdline: board.defaultCmdline });
  d.run(machine);
  try {
    await d.waitFor(0, boot);
    await d.sh(0, 'ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up && ping -c 1 -W 5 10.0.2.2');
    return await ping(d, 0, '10.0.2.15', '10.0.2.2');
  } finally {
    d.stop();
  }
}

const fmt = (r: Rtt): string => `${r.us.toFixed(0)}us/${r.wallMs.toFixed(2)}ms`;

/** `net: ping round trip (modeled µs / wall ms) vm<->vm=… vm->gw=… native->gw=… (…)`. */
export async function netFigure(): Promise<string> {
  try {
    const native = await nativePing();
    const { vmVm, vmGw } = await vmPings();
    return `net: ping round trip, modeled/wall per ping: vm<->vm=${fmt(vmVm)} vm->gateway=${fmt(vmGw)} native->gateway=${fmt(native)} (qemu-virt, avg of ${COUNT}, MVM 10.0.0.1 -> GVM1 10.0.0.2 on the switch, GVM1 and --native eth0 -> 10.0.2.2)`;
  } catch (e) {
    return `net: FAILED (${(e as Error).message.split('\n')[0]})`;
  }
}
