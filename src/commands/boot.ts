// `shyper-emu [--board B] [--native] ...`: boot a board (DESIGN.md "Command line").
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.ts';
import { INPUT_LIMITS, inputSize, openInputImage, readInput } from '../input.ts';
import { checkMachineShape, getBoard, parseSeed, parseSize } from '../options.ts';

import type { VirtioDevice } from '../../emulator/devices/virtio/device.ts';
import { VirtioBlk } from '../../emulator/devices/virtio/blk.ts';
import { VirtioRng } from '../../emulator/devices/virtio/rng.ts';
import { type BlockBackend, DiskImageError, openDiskImage } from '../../emulator/devices/virtio/block-backend.ts';
import { type ClockMode, Machine } from '../../emulator/machine.ts';
import { IdlePacer } from '../../emulator/clock/pacing.ts';
import { ImageError } from '../../emulator/boot/linux-image.ts';
import { unpackKernel } from '../kernel-prefetch.ts';
import { FdtError } from '../../emulator/fdt/fdt.ts';
import { Terminal } from '../terminal.ts';
import { ConsoleMux } from '../console-mux.ts';
import { DEFAULT_SEED, Rng } from '../../emulator/rng.ts';
import { startHypervisor } from '../hypervisor-run.ts';
import { VmDeviceHub } from '../vm-devices.ts';
import { VirtioNet } from '../../emulator/devices/virtio/net.ts';
import { Gateway } from '../../emulator/net/gateway.ts';
import type { HostForwarder, HostfwdRule } from '../../emulator/net/hostfwd.ts';
import { hostfwdOption, NATIVE_NIC_MAC, openHostForwards } from '../net-user.ts';
import { loadVmConfig, mvmVmSet, type VmConfig } from '../../hypervisor/config.ts';
import { jitSettings, jitStatsLine } from '../../emulator/arm64/jit/settings.ts';
import { takeWasmInterpreter } from '../../emulator/arm64/jit/runtime.ts';

export const HELP = `usage: shyper-emu [options]                      boot a board: the hypervisor and its VMs, or --native
       shyper-emu run-elf [--stats] [--interpreter] [--no-jit-cache] [--cpu CORE] PROG [ARGS...]
                                                     run a static AArch64 Linux program at EL0
                                                     (CORE: cortex-a76 (default), cortex-a55,
                                                     cortex-a72, cortex-a57)
       shyper-emu dtb --board B [--smp N] [--mem SIZE] [--gic 2|3] [--seed N] -o FILE
       shyper-emu bench [N|jit|vm|idle|net|disk]     figures beside QEMU (all; translator;
                                                     hypervisor; idle; network; disk)

Boot options:
  --board NAME       rk3588 (default), qemu-virt, pi4, tx2
  (without --native the hypervisor boots VM 0, the MVM, alone, as Rust-Shyper does; its init
  loads shyper.ko and runs \`shyper vm config\` + \`shyper vm boot\` for the GVMs in its
  /etc/shyper/BOARD/ (docs/mvm.md); at its shell \`shyper vm list | reboot ID [-f] | remove ID\`
  manage them. Each console line carries its [vmN] prefix; interactively Ctrl-A n / Ctrl-A 0-7
  move the keyboard between VMs. --append shyper.test=1: the MVM lists the VMs, force-reboots
  VM 1 and waits for it, removes VM 2, lists again, prints "shyper-mvm: test done", powers off)
  --native           boot one Linux directly on the board, no hypervisor (the baseline)
  --config FILE      the VMs to boot under the hypervisor (JSON list, Rust-Shyper's keys; see
                     docs/vm-config.md); default: boards/vms/BOARD-mvm.json (the MVM alone);
                     boards/vms/BOARD.json boots every VM directly, without the MVM's CLI
  --kernel FILE      arm64 Linux Image (.gz accepted); default: the images shipped in guests/
                     (under the hypervisor: replaces the default set's kernels)
  --initrd FILE      initramfs (cpio, .gz accepted)
  --dtb FILE         --native: use this device tree instead of the generated one
  --append STR       add to the board's default kernel command line (hypervisor: VM0's)
  --cmdline STR      --native: replace the kernel command line
  --smp N            number of CPUs (default: all of the board's)
  --mem SIZE         RAM size, e.g. 512M, 2G (default: the board's)
  --gic 2|3          GIC version where the board offers both (qemu-virt)
  --disk FILE[,ro]   a virtio-blk disk backed by a raw image, written through to the file;
                     repeatable (vda, vdb, ... in order); ',ro' makes it read-only; a gzip image
                     is decompressed into memory and attached read-only
  --net user         a network outside the guests: a gateway at 10.0.2.2 that answers ARP and
                     ping. Natively a virtio-net (eth0, MAC 52:54:00:12:34:56) on it; under the
                     hypervisor the gateway joins the switch between the VMs' virtio-nets
  --hostfwd tcp:HOSTPORT-VM:GUESTPORT
                     with --net user: listen on 127.0.0.1:HOSTPORT; each connection there
                     reaches port GUESTPORT of the VM's first virtio-net (VM: its id, vmN or
                     its name) as a TCP connection from 10.0.2.2; --native boots leave the VM
                     out (tcp:HOSTPORT-:GUESTPORT: the guest's eth0). The guest's address is
                     learned from its traffic: it needs a route to 10.0.2.2 (ping it once).
                     Repeatable; HOSTPORT 0 picks a free port and prints it
  --clock MODE       how guest time relates to host time:
                       cycles (default) modeled time: time advances by the modeled cost of
                         each instruction, so runs are reproducible (same output, same printk
                         timestamps, same cycle counts); only when every CPU idles does time
                         pass at the host's pace (the host sleeps instead of spinning). Guest
                         time runs slower than wall time while the guest computes.
                       host     guest time follows the host clock, as QEMU's default: sleep 1
                         lasts a second, date and timeouts match the wall clock even under load;
                         not reproducible. Use it for interactive sessions; use cycles for
                         tests, benchmarks, traces and anything compared across runs.
  --seed N           seeds everything random the guests are given: each device tree's
                     /chosen/rng-seed (32 bytes) and kaslr-seed, and virtio-rng (default 0;
                     decimal or 0x hex)
  --timeout SEC      give up after SEC seconds of wall time (exit 1)
  --expect REGEX     succeed (exit 0) once a console line has matched every REGEX given (in
                     any order; lines of several VMs carry their [vmN] prefix)
  --stats            print "stats: instructions=N seconds=S mips=M startup_ms=T ..." on stderr at the end
                     (and "jit: pages=N translate-ms=T ...": the translator's work)
  --interpreter      run guest code on the interpreter alone, without translating hot code to
                     WebAssembly (also SHYPER_JIT=0; SHYPER_JIT_THRESHOLD=N translates a page
                     after N block entries into it (200000), 0 = at the first; SHYPER_JIT_WARMUP=N
                     translates nothing before the CPUs have run N instructions (100 M: a short run
                     such as the kit boot stays on the WebAssembly interpreter); SHYPER_JIT_OPTIMIZE_AFTER=N
                     compiles a translated page again, optimized, after it ran N instructions (5 M);
                     SHYPER_JIT_DEFER=N: a page with no inner loop stays on the WebAssembly
                     interpreter until N times hotter, then is translated optimized (8; 0 = never);
                     SHYPER_JIT_BACKGROUND=0 translates on the guest's thread instead of a worker
                     thread; SHYPER_WINTERP=0 runs code not translated on the JavaScript
                     interpreter instead of the WebAssembly one; output is identical either way)
  --no-jit-cache     do not use the translation cache: by default pages translated in a run
                     are kept on disk (node_modules/.cache/shyper-emu/jit-cache-*.bin, valid for
                     this build; SHYPER_JIT_CACHE=FILE picks another file, 0 none) and a later
                     run that meets the same code starts with it translated (a repeated boot
                     runs faster); output is identical either way. Likewise a --native
                     boot's gzip kernel is kept decompressed (kernel-*.img there, the newest 3)
                     for later boots of it to read in place (SHYPER_KERNEL_CACHE=0: not kept),
                     and the WebAssembly interpreter's memo of decoded words (winterp-*-memo-*.bin;
                     SHYPER_WINTERP_MEMO=PREFIX keeps it at PREFIX-memo-*.bin, 0 not at all)
  -h, --help         this text

Exit status: 0 guest powered off (or every --expect matched), 1 timeout / guest panic / failed
expectation, 2 usage, config or image error. Ctrl-A x quits an interactive session.`;

export interface BootOptions {
  board: string;
  native: boolean;
  config?: string;
  kernel?: string;
  initrd?: string;
  dtb?: string;
  append: string[];
  cmdline?: string;
  smp?: number;
  mem?: number;
  gic?: 2 | 3;
  seed?: bigint;
  timeoutSec?: number;
  expect: RegExp[];
  stats: boolean;
  disks: { path: string; readOnly: boolean }[];
  net?: 'user';
  hostfwd: HostfwdRule[];
  clock: ClockMode;
}

export function parseBootArgs(argv: string[]): BootOptions | 'help' {
  const o: BootOptions = { board: 'rk3588', native: false, append: [], expect: [], stats: false, disks: [], hostfwd: [], clock: 'cycles' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    const noValue = (): void => {
      if (inline !== undefined) throw new UsageError(`${flag} takes no value (got '${a}')`);
    };
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-h':
      case '--help':
        noValue();
        return 'help';
      case '--board':
        o.board = value();
        break;
      case '--native':
        noValue();
        o.native = true;
        break;
      case '--kernel':
        o.kernel = value();
        break;
      case '--initrd':
        o.initrd = value();
        break;
      case '--dtb':
        o.dtb = value();
        break;
      case '--append':
        o.append.push(value());
        break;
      case '--cmdline':
        o.cmdline = value();
        break;
      case '--smp': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--smp: '${v}' is not a CPU count`);
        o.smp = Number(v);
        break;
      }
      case '--mem':
        o.mem = parseSize(value(), '--mem');
        break;
      case '--gic': {
        const v = value();
        if (v !== '2' && v !== '3') throw new UsageError(`--gic: '${v}' is not 2 or 3`);
        o.gic = Number(v) as 2 | 3;
        break;
      }
      case '--seed':
        o.seed = parseSeed(value());
        break;
      case '--timeout': {
        const v = value();
        if (!/^\d+(\.\d+)?$/.test(v)) throw new UsageError(`--timeout: '${v}' is not a number of seconds`);
        o.timeoutSec = Number(v);
        break;
      }
      case '--expect': {
        const v = value();
        try {
          o.expect.push(new RegExp(v));
        } catch {
          throw new UsageError(`--expect: '${v}' is not a valid regular expression`);
        }
        break;
      }
      case '--stats':
        noValue();
        o.stats = true;
        break;
      case '--interpreter':
        noValue();
        jitSettings.enabled = false;
        break;
      case '--no-jit-cache':
        noValue();
        jitSettings.cacheFile = null;
        break;
      case '--disk': {
        const v = value();
        const m = /^(.*),(ro|rw)$/.exec(v);
        const path = m ? m[1]! : v;
        if (path === '') throw new UsageError(`--disk: '${v}' names no file`);
        o.disks.push({ path, readOnly: m?.[2] === 'ro' });
        break;
      }
      case '--clock': {
        const v = value();
        if (v !== 'cycles' && v !== 'host') throw new UsageError(`--clock: '${v}' is not cycles or host`);
        o.clock = v;
        break;
      }
      case '--config':
        o.config = value();
        break;
      case '--net': {
        const v = value();
        if (v !== 'user') throw new UsageError(`--net: '${v}' is not a network kind (user)`);
        o.net = 'user';
        break;
      }
      case '--hostfwd':
        o.hostfwd.push(hostfwdOption(value()));
        break;
      case '--trace':
      case '--gdb':
        throw new UsageError(`${flag} is not available yet in this version`);
      default:
        throw new UsageError(`unknown option '${a}' (try --help)`);
    }
  }
  return o;
}

const GUESTS = fileURLToPath(new URL('../../guests/', import.meta.url));

/** An input file, refused (exit 2) past its size limit before it is read whole (src/input.ts). */
function readImage(path: string, what: 'kernel' | 'initrd' | 'dtb'): Uint8Array {
  return readInput(path, what, INPUT_LIMITS[what]);
}

export async function main(argv: string[]): Promise<number> {
  const opts = parseBootArgs(argv);
  if (opts === 'help') {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  // The wasm interpreter, compiling since the launcher started (bin/prefetch.js): taken here,
  // awaited before the guest runs.
  const winterpCompiled = takeWasmInterpreter();
  const board = getBoard(opts.board);
  checkMachineShape(board, { smp: opts.smp, mem: opts.mem, gic: opts.gic });
  const kernelPath = opts.kernel ?? `${GUESTS}Image.gz`;
  const initrdPath = opts.initrd ?? (opts.kernel === undefined ? `${GUESTS}initramfs.cpio.gz` : undefined);
  // (Checked first, as the other inputs are: a missing or oversized kernel is a one-line error.)
  const kernelSize = inputSize(kernelPath, 'kernel', INPUT_LIMITS.kernel);
  // A native boot's kernel decompresses on zlib's threads while the rest is set up (~50 ms for the
  // kit's; started by the launcher before the bundle loaded, kernel-prefetch.ts); awaited at
  // loadLinux. (Marked handled now: an error before that must not be unhandled.) Under the
  // hypervisor the VMs' configs name the images they load.
  const unpacked = opts.native ? unpackKernel(kernelPath, kernelSize, () => readImage(kernelPath, 'kernel'), () => openInputImage(kernelPath, 'kernel', INPUT_LIMITS.kernel)) : null;
  unpacked?.catch(() => {});
  // Checked here (one-line errors) and read straight into guest RAM by a native boot (a FIFO: read
  // whole now); the hypervisor's VMs read theirs themselves.
  const initrd = initrdPath !== undefined ? (openInputImage(initrdPath, 'initrd', INPUT_LIMITS.initrd) ?? readImage(initrdPath, 'initrd')) : undefined;
  const dtb = opts.dtb !== undefined ? readImage(opts.dtb, 'dtb') : undefined;
  let vms: VmConfig[] = [];
  if (!opts.native) {
    const cfgOpts = { ramSize: opts.mem, gicVersion: opts.gic, cpus: opts.smp };
    vms = opts.config !== undefined ? loadVmConfig(opts.config, board, cfgOpts) : mvmVmSet(board, cfgOpts);
    if (opts.config === undefined && opts.kernel !== undefined) {
      // --kernel/--initrd replace the images of the board's default set.
      for (const vm of vms) {
        vm.image.kernelFile = kernelPath;
        if (initrdPath !== undefined) vm.image.ramdiskFile = initrdPath;
      }
    }
  }

  // Board virtio slots: the disks from slot 0 on (Linux probes the device tree in address order,
  // so the first --disk is vda), a virtio-rng in the last slot.
  // Under the hypervisor each VM's disks, command line and device tree come from its config.
  if (!opts.native && opts.disks.length > 0) throw new UsageError('--disk attaches disks to a --native boot; under the hypervisor a VM\'s disks come from its config');
  if (!opts.native && opts.cmdline !== undefined) throw new UsageError('--cmdline replaces a --native boot\'s command line; under the hypervisor use --append (VM0) or the VM config\'s cmdline');
  if (!opts.native && opts.dtb !== undefined) throw new UsageError('--dtb gives a --native boot its device tree; under the hypervisor each VM\'s tree is generated (or set by device_tree_filename in its config)');
  const slots = board.virtio.count;
  if (opts.disks.length > slots - 1) throw new UsageError(`--disk: board ${board.name} has room for ${slots - 1} disks`);
  const backends: BlockBackend[] = [];
  const virtio: VirtioDevice[] = [];
  const closeDisks = (): void => {
    for (const b of backends) {
      try {
        b.close();
      } catch (e) {
        process.stderr.write(`shyper-emu: closing a disk: ${(e as Error).message}\n`);
      }
    }
  };
  try {
    for (const d of opts.disks) {
      const { backend, note } = openDiskImage(d.path, d.readOnly);
      backends.push(backend);
      if (note) process.stderr.write(`shyper-emu: ${note}\n`);
      virtio.push(new VirtioBlk({ backend, serial: basename(d.path) }));
    }
  } catch (e) {
    closeDisks();
    if (e instanceof DiskImageError) throw new UsageError(e.message);
    throw e;
  }
  if (opts.hostfwd.length > 0 && opts.net !== 'user') throw new UsageError('--hostfwd forwards into the user network: add --net user');
  // The user network's gateway: on the native NIC, or a station on the switch between the VMs.
  const gateway = opts.net === 'user' ? new Gateway() : null;
  if (opts.native && gateway !== null) {
    if (opts.disks.length > slots - 2) throw new UsageError(`--net user: board ${board.name} has no virtio slot left after the disks`);
    // The NIC takes the slot after the disks: eth0 on the user network's gateway.
    const nic = new VirtioNet({ mac: NATIVE_NIC_MAC, backend: { transmit: (f) => void gateway.receive(f) } });
    gateway.send = (f) => void nic.receive(f);
    virtio.push(nic);
  }
  // --hostfwd: the listeners open before the machine runs; host traffic wakes an idle machine.
  let netActivity = (): void => {};
  let hostfwd: HostForwarder | null = null;
  if (gateway !== null && opts.hostfwd.length > 0) {
    try {
      hostfwd = await openHostForwards(gateway, opts.hostfwd, { native: opts.native, vms, log: (line) => process.stderr.write(line + '\n'), onActivity: () => netActivity() });
    } catch (e) {
      closeDisks();
      throw e;
    }
  }
  // virtio-rng: entropy beyond the boot seed, from the run's --seed (deterministic).
  virtio[slots - 1] = new VirtioRng({ source: new Rng(opts.seed ?? DEFAULT_SEED, 'virtio-rng') });

  let outputText = '';
  let matched = 0;
  const seen = opts.expect.map(() => false);
  const firstUnmatched = (): string => opts.expect[seen.indexOf(false)]?.source ?? '';
  let finish: ((code: number, why: string) => void) | null = null;
  // While every CPU idles the run loop sleeps; keyboard input ends the sleep early.
  let wakeEarly: (() => void) | null = null;
  netActivity = () => wakeEarly?.();
  const term = new Terminal({
    onQuit: () => finish?.(0, 'quit'),
    // Ctrl-A n / Ctrl-A 0-7: move the keyboard between VMs.
    onCommand: (key) => {
      if (key === 0x6e) mux?.cycle();
      else if (key >= 0x30 && key <= 0x37) mux?.select(key - 0x30);
    },
    onInput: () => wakeEarly?.(),
    // The reader of our output went away (`| head -1`): end quietly, as after Ctrl-A x.
    onOutputClosed: () => finish?.(matched < opts.expect.length ? 1 : 0, matched < opts.expect.length ? `output closed before it matched /${opts.expect[matched]!.source}/` : 'quit'),
    input: true,
    onOutput: (b) => {
      if (opts.expect.length === 0 && b !== 0x0a) {
        outputText += String.fromCharCode(b);
        if (outputText.length > 4096) outputText = outputText.slice(-2048);
        return;
      }
      outputText += String.fromCharCode(b);
      if (b === 0x0a || outputText.length > 8192) {
        // A guest kernel panic ends the run (exit 1) when it is the only guest or VM 0's; a GVM
        // that panics stops alone.
        const line = outputText.slice(outputText.lastIndexOf('\n', outputText.length - 2) + 1);
        if (/Kernel panic - not syncing/.test(line) && (vms.length === 0 || /^\[vm0\] /.test(line) || !line.startsWith('[vm'))) finish?.(1, 'guest kernel panic');
        // Every --expect must match somewhere in the output, in any order (several VMs boot at once).
        for (let i = 0; i < opts.expect.length; i++) {
          if (!seen[i] && opts.expect[i]!.test(line)) {
            seen[i] = true;
            matched++;
          }
        }
        if (opts.expect.length > 0 && matched === opts.expect.length) finish?.(0, 'expectations met');
        if (outputText.length > 8192) outputText = outputText.slice(-4096);
      }
    },
  });

  let machine: Machine;
  let mux: ConsoleMux | null = null;
  // The VMs' disks, network switch and console peers; the disks are closed at the end.
  const vmDeviceHub = new VmDeviceHub((line) => process.stderr.write(line + '\n'));
  if (!opts.native && gateway !== null) vmDeviceHub.attachGateway(gateway);
  try {
    if (opts.native) {
      machine = new Machine({ board, smp: opts.smp, memBytes: opts.mem, gicVersion: opts.gic, seed: opts.seed, console: term.console, virtio, clock: opts.clock });
      machine.loadLinux({
        kernel: await unpacked!,
        initrd,
        dtb,
        cmdline: opts.cmdline ?? [board.defaultCmdline, ...opts.append].filter((s) => s.length > 0).join(' '),
      });
    } else {
      // Prefixes when VMs are several: in the default run the MVM creates the GVMs at run time.
      // (A one-VM --config stays unprefixed, as before, even if its MVM adds VMs later.)
      const manyVms = vms.length > 1 || opts.config === undefined;
      // Unfinished lines (prompts) go out by guest time, so the output does not depend on the host.
      mux = new ConsoleMux(term.console, { interactive: process.stdin.isTTY === true, prefix: manyVms, now: () => machine.virtualNs() });
      const m = new Machine({ board, smp: opts.smp, memBytes: opts.mem, gicVersion: opts.gic, seed: opts.seed, console: mux.console(0), clock: opts.clock });
      machine = m;
      startHypervisor(m, {
        vms,
        mux,
        append: opts.append.join(' '),
        seed: opts.seed ?? DEFAULT_SEED,
        log: (line) => process.stderr.write(line + '\n'),
        onSystemOff: () => m.end('poweroff'),
        devices: vmDeviceHub,
      });
    }
  } catch (e) {
    term.close();
    closeDisks();
    vmDeviceHub.close();
    hostfwd?.close();
    if (e instanceof ImageError) throw new UsageError(e.message);
    if (e instanceof FdtError) throw new UsageError(`dtb '${opts.dtb}': ${e.message}`);
    throw e;
  }

  // Our stdout and stdin (terminal.ts attach), then the wasm interpreter, compiling since the
  // launcher started (bin/prefetch.js): awaited before the guest runs (the machine made meanwhile
  // gets it then: runtime.ts takeWasmInterpreter). The compile shares the second core with the
  // kernel's decompression and often ends after this thread is ready: the streams are made first.
  term.attach();
  await winterpCompiled;
  // (performance.now() counts from the process's start: this is the start-up, the launcher's
  // bundle, the machine's set-up and the images' loading, before the first guest instruction.)
  const started = performance.now();
  const pacer = new IdlePacer();
  const result = await new Promise<{ code: number; why: string }>((resolve) => {
    let sleeper: ReturnType<typeof setTimeout> | null = null;
    finish = (code, why) => {
      finish = null;
      if (sleeper !== null) clearTimeout(sleeper);
      sleeper = null;
      wakeEarly = null;
      machine.stop();
      resolve({ code, why });
    };
    const deadline = opts.timeoutSec !== undefined ? started + opts.timeoutSec * 1000 : Infinity;
    // Every CPU idles: the host sleeps (at most until the next event; keyboard input or the
    // --timeout deadline end it sooner), then virtual time moves on by as much — exactly to the
    // event when the sleep ran its course, so output does not depend on host timing.
    const idle = (): void => {
      const idleNs = machine.idleNs;
      const ms = opts.clock === 'host' ? idleNs / 1e6 : pacer.sleepMs(idleNs);
      if (ms <= 0) {
        pacer.record(idleNs, 0);
        machine.advanceIdle(Infinity);
        setImmediate(step);
        return;
      }
      const since = performance.now();
      const wake = (early: boolean): void => {
        if (sleeper === null) return;
        clearTimeout(sleeper);
        sleeper = null;
        wakeEarly = null;
        const slept = performance.now() - since;
        const ns = early ? Math.min(idleNs, Math.floor(slept * 1e6)) : idleNs;
        pacer.record(ns, slept);
        machine.advanceIdle(early ? ns : Infinity);
        setImmediate(step);
      };
      // A sleep cut short by the --timeout deadline counts as an early wake (time stops short).
      const byDeadline = deadline - since < ms;
      sleeper = setTimeout(() => wake(byDeadline), byDeadline ? Math.max(1, deadline - since) : ms);
      wakeEarly = () => wake(true);
    };
    const step = (): void => {
      if (finish === null) return;
      const state = machine.runFor(25);
      mux?.flushStale();
      term.flush();
      if (finish === null) return;
      if (state === 'poweroff') return finish(opts.expect.length > 0 && matched < opts.expect.length ? 1 : 0, opts.expect.length > 0 && matched < opts.expect.length ? `guest powered off before output matched /${firstUnmatched()}/` : 'poweroff');
      if (state === 'reset') return finish(0, 'guest reset');
      if (state === 'hang') return finish(1, 'all CPUs idle with nothing left to wake them');
      if (performance.now() > deadline) {
        return finish(1, opts.expect.length > matched ? `timeout after ${opts.timeoutSec} s waiting for /${firstUnmatched()}/` : `timeout after ${opts.timeoutSec} s`);
      }
      if (state === 'idle') return idle();
      setImmediate(step);
    };
    setImmediate(step);
  });
  mux?.flushAll();
  term.close();
  closeDisks();
  vmDeviceHub.close();
  hostfwd?.close();
  const seconds = (performance.now() - started) / 1000;
  if (result.code !== 0 || (result.why !== 'poweroff' && result.why !== 'expectations met' && result.why !== 'quit')) {
    process.stderr.write(`shyper-emu: ${result.why}\n`);
  }
  if (opts.stats) {
    const n = machine.instructions();
    process.stderr.write(`stats: instructions=${n} seconds=${seconds.toFixed(3)} mips=${(n / seconds / 1e6).toFixed(1)} startup_ms=${started.toFixed(0)} virtual_ms=${(machine.virtualNs() / 1e6).toFixed(3)} rss_mb=${Math.round(process.resourceUsage().maxRSS / 1024)}\n`);
    process.stderr.write(jitStatsLine() + '\n');
  }
  return result.code;
}
