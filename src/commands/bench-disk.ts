// Disk figures for `npm run bench` (issue #10), two lines from one call, in-process (the
// mediated service's counters are read directly):
//   disk: dd of 16 MiB to and from a raw virtio disk (O_DIRECT, 1 MiB blocks): natively (qemu-virt,
//     1 CPU, --disk), in a 1-vCPU GVM on its own virtio-blk, and in the same GVM on a mediated disk
//     the MVM's daemon serves from the MVM's virtio disk (asynchronous: the seed's default; then
//     synchronous; both after an unmeasured pass that warms the MVM's page cache). Modeled time is the guest's, between two kernel log marks around each dd;
//     wall time is the host's, per dd.
//   mediated: how long the GVM's vCPU was kept out of its guest per mediated request, in modeled
//     cycles of its core: asynchronous (the trap; the work is the I/O core's) vs synchronous (the
//     trap, the hypervisor's work and the wait for the MVM).
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { boards } from '../../boards/index.ts';
import { CORE_MODELS, CORTEX_A76 } from '../../emulator/clock/cycle-model.ts';
import type { Console } from '../../emulator/devices/console.ts';
import { openDiskImage } from '../../emulator/devices/virtio/block-backend.ts';
import { VirtioBlk } from '../../emulator/devices/virtio/blk.ts';
import { Machine } from '../../emulator/machine.ts';
import { parseVmConfig } from '../../hypervisor/config.ts';
import type { MediatedMode, MediatedStats } from '../../hypervisor/devices/mediated-blk.ts';
import { ConsoleMux } from '../console-mux.ts';
import { startHypervisor } from '../hypervisor-run.ts';
import { VmDeviceHub } from '../vm-devices.ts';
import { cpio } from '../cpio.ts';

const GUESTS = fileURLToPath(new URL('../../guests/', import.meta.url));
const MIB = 1 << 20;
const COUNT = 16;

/** The shell of a machine whose console bytes land in `out` and whose keyboard is `keys`. */
class Shell {
  out = '';
  private mark = 0;
  private readonly keys: number[] = [];
  private listener: (() => void) | null = null;
  machine!: Machine;

  readonly console: Console = {
    write: (b) => void (this.out += String.fromCharCode(b)),
    read: () => this.keys.shift() ?? -1,
    hasInput: () => this.keys.length > 0,
    setInputListener: (l) => void (this.listener = l),
  };

  async waitFor(re: RegExp, what: string, ms = 600_000): Promise<RegExpExecArray> {
    const deadline = performance.now() + ms;
    for (;;) {
      const m = re.exec(this.out.slice(this.mark));
      if (m) {
        this.mark += m.index + m[0].length;
        return m;
      }
      if (performance.now() > deadline) throw new Error(`no ${what}: ${this.out.slice(-300).replace(/\s+/g, ' ')}`);
      const state = this.machine.runFor(50);
      if (state === 'idle') this.machine.advanceIdle(Infinity);
      else if (state !== 'running') throw new Error(`no ${what}: the machine stopped (${state})`);
      await new Promise((r) => setImmediate(r));
    }
  }

  type(line: string): void {
    for (const c of line + '\n') this.keys.push(c.charCodeAt(0));
    this.listener?.();
  }

  /**
   * dd in the guest between two kernel log marks: modeled seconds from their printk timestamps
   * (µs; the kit's busybox dd prints no timing), wall seconds from the host's clock.
   */
  async dd(args: string, tag: string): Promise<{ modeled: number; wall: number }> {
    const t = performance.now();
    this.type(`echo ${tag}-start > /dev/kmsg; dd ${args} bs=1M count=${COUNT} 2>/dev/null; echo ${tag}-end > /dev/kmsg`);
    const a = await this.waitFor(new RegExp(`\\[\\s*(\\d+\\.\\d+)\\] ${tag}-start`), `${tag} start mark`);
    const b = await this.waitFor(new RegExp(`\\[\\s*(\\d+\\.\\d+)\\] ${tag}-end`), `dd ${args}`);
    return { modeled: Number(b[1]) - Number(a[1]), wall: (performance.now() - t) / 1000 };
  }
}

interface Pair {
  write: { modeled: number; wall: number };
  read: { modeled: number; wall: number };
}

async function ddPair(sh: Shell, dev: string, tag: string): Promise<Pair> {
  const write = await sh.dd(`if=/dev/zero of=${dev} oflag=direct`, `${tag}-w`);
  const read = await sh.dd(`if=${dev} of=/dev/null iflag=direct`, `${tag}-r`);
  return { write, read };
}

function sparse(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
}

async function native(dir: string): Promise<Pair> {
  const board = boards['qemu-virt']!;
  const img = join(dir, 'native.img');
  sparse(img, 2 * COUNT * MIB);
  const backend = openDiskImage(img, false).backend;
  const sh = new Shell();
  const virtio = [new VirtioBlk({ backend })];
  sh.machine = new Machine({ board, smp: 1, console: sh.console, virtio });
  sh.machine.loadLinux({ kernel: readFileSync(join(GUESTS, 'Image.gz')), initrd: readFileSync(join(GUESTS, 'initramfs.cpio.gz')), cmdline: board.defaultCmdline });
  try {
    await sh.waitFor(/\/ # /, 'native shell');
    return await ddPair(sh, '/dev/vda', 'native');
  } finally {
    backend.close();
  }
}

interface VmFigures {
  direct: Pair;
  mediated: Record<MediatedMode, Pair>;
  stats: Record<MediatedMode, MediatedStats>;
  ghz: number;
}

/** MVM on core 0 (its virtio disk holds the GVM's mediated disk), GVM1 on core 1 with both disks. */
async function underShyper(dir: string): Promise<VmFigures> {
  const board = boards['qemu-virt']!;
  const mvmImg = join(dir, 'mvm.img');
  const gvmImg = join(dir, 'gvm.img');
  sparse(mvmImg, 2 * COUNT * MIB);
  sparse(gvmImg, 2 * COUNT * MIB);
  const overlay = readFileSync(join(GUESTS, 'mvm/mvm-overlay.cpio.gz'));
  const extra = gzipSync(cpio([['etc', null], ['etc/shyper', null], ['etc/shyper/daemon.json', Buffer.from('{"mediated": ["/dev/vda"]}\n')]]));
  const initrd = join(dir, 'mvm-initrd.cpio.gz');
  writeFileSync(initrd, Buffer.concat([readFileSync(join(GUESTS, 'initramfs.cpio.gz')), overlay, extra]));
  const image = (ramdisk: string) => ({
    kernel_filename: join(GUESTS, 'Image.gz'), kernel_load_ipa: '0x40200000', kernel_entry_point: '0x40200000',
    device_tree_load_ipa: '0x40000000', ramdisk_filename: ramdisk, ramdisk_load_ipa: '0x41000000',
  });
  const memory = { region: [{ ipa_start: '0x40000000', length: '0x8000000' }] };
  const svc = { name: 'vm_service', base_ipa: '0', length: '0', irq_id: 64, type: 'EMU_DEVICE_T_SHYPER' };
  const set = [
    {
      name: 'mvm', type: 'VM_T_LINUX', cmdline: 'console=ttyAMA0', image: image(initrd), memory, console: 'pl011',
      cpu: { num: 1, allocate_bitmap: '0b0001', master: 0 },
      emulated_device_list: [{ name: 'vda', base_ipa: '0xa000000', length: '0x1000', irq_id: 48, type: 'EMU_DEVICE_T_VIRTIO_BLK', image: mvmImg }, svc],
      passthrough_device_list: [{ name: 'pl011', base_pa: '0x9000000', base_ipa: '0x9000000', length: '0x1000', irq_list: [33] }],
    },
    {
      name: 'gvm1', type: 'VM_T_LINUX', kind: 'gvm', cmdline: 'console=hvc0', image: image(join(GUESTS, 'initramfs.cpio.gz')), memory, console: 'hvc0',
      cpu: { num: 1, allocate_bitmap: '0b0010', master: 1 },
      emulated_device_list: [
        { name: 'vda', base_ipa: '0xa000000', length: '0x1000', irq_id: 48, type: 'EMU_DEVICE_T_VIRTIO_BLK', image: gvmImg },
        { name: 'vdb', base_ipa: '0xa001000', length: '0x1000', irq_id: 49, type: 'EMU_DEVICE_T_VIRTIO_BLK_MEDIATED', cfg_list: [0, (2 * COUNT * MIB) / 512] },
        { name: 'hvc0', base_ipa: '0xa002000', length: '0x1000', irq_id: 50, type: 'EMU_DEVICE_T_VIRTIO_CONSOLE' },
      ],
    },
  ];
  const vms = parseVmConfig(JSON.stringify(set), board, { label: 'bench-disk.json', imageDir: dir });
  const sh = new Shell();
  const mux = new ConsoleMux(sh.console, { interactive: true, prefix: true });
  sh.machine = new Machine({ board, console: mux.console(0) });
  const devices = new VmDeviceHub(() => {});
  const { hvc } = startHypervisor(sh.machine, { vms, mux, seed: 0n, log: () => {}, onSystemOff: () => {}, devices });
  try {
    await sh.waitFor(/\[vm1\] Enter 'help'/, 'GVM shell');
    await sh.waitFor(/\[vm0\] Enter 'help'[^]*?\[vm0\] \/ # /, 'MVM shell');
    sh.type('insmod /lib/modules/shyper.ko; shyper system daemon /etc/shyper/daemon.json &');
    await sh.waitFor(/shyper daemon: pid \d+ waiting/, 'the MVM daemon');
    mux.select(1);
    await sh.waitFor(/keyboard to vm1/, 'focus on vm1');
    const direct = await ddPair(sh, '/dev/vda', 'direct');
    // A first, unmeasured pass: both modes then find the MVM's page cache over its disk in the
    // same state (the first pass's reads may come from the MVM's virtio disk).
    await ddPair(sh, '/dev/vdb', 'warm');
    const before = structuredClone(hvc.mediated.stats);
    const async = await ddPair(sh, '/dev/vdb', 'async');
    hvc.mediated.mode = 'sync';
    const sync = await ddPair(sh, '/dev/vdb', 'sync');
    const diff = (m: MediatedMode): MediatedStats => {
      const a = hvc.mediated.stats[m];
      const b = before[m];
      return { requests: a.requests - b.requests, notifies: a.notifies - b.notifies, trapCycles: a.trapCycles - b.trapCycles, waitNs: a.waitNs - b.waitNs, latencyNs: a.latencyNs - b.latencyNs };
    };
    const model = CORE_MODELS[board.cpus[1]!.core] ?? CORTEX_A76;
    return { direct, mediated: { async, sync }, stats: { async: diff('async'), sync: diff('sync') }, ghz: model.cyclesForNs(1e6) / 1e6 };
  } finally {
    devices.close();
  }
}

/** The `disk:` and `mediated:` lines. */
export async function diskFigures(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-disk-'));
  try {
    const n = await native(dir);
    const v = await underShyper(dir);
    const rate = (s: number): string => `${((COUNT * MIB) / s / MIB).toFixed(1)}MiB/s`;
    const col = (name: string, p: Pair): string =>
      `${name} write ${rate(p.write.modeled)} read ${rate(p.read.modeled)} (wall ${p.write.wall.toFixed(1)}s/${p.read.wall.toFixed(1)}s)`;
    const out = (m: MediatedMode): string => {
      const s = v.stats[m];
      const cycles = (s.trapCycles + s.waitNs * v.ghz) / Math.max(1, s.requests);
      return `${m} ${Math.round(cycles)} cycles/request (${s.requests} requests, latency ${(s.latencyNs / Math.max(1, s.requests) / 1000).toFixed(0)}us)`;
    };
    return [
      `disk: dd 16 MiB O_DIRECT 1 MiB blocks, modeled throughput: ${col('native', n)}; ${col('gvm-direct', v.direct)}; ${col('gvm-mediated', v.mediated.async)}; ${col('gvm-mediated-sync', v.mediated.sync)} (qemu-virt, 1 CPU/vCPU)`,
      `mediated: GVM vCPU out of its guest per request (modeled cycles, dd above): ${out('async')} vs ${out('sync')}`,
    ];
  } catch (e) {
    return [`disk: FAILED (${(e as Error).message})`];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
