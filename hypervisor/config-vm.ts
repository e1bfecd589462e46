// The rules for one VM of a config (buildVm: a schema-valid JSON entry to a checked VmConfig) and
// across VMs (cores, physical windows, SPIs, memory placement). hypervisor/config.ts explains them.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BoardDescription } from '../boards/types.ts';
import {
  ConfigError, DTB_MAX_SIZE, EMU_DEVICE_TYPES, GICR_FRAME_SIZE, HYPERVISOR_RESERVED, IPA_LIMIT, VIRTIO_TYPES, vcpuAffinity,
  type DtbDevice, type EmulatedDevice, type MemoryRegion, type PassthroughDevice, type VmConfig, type VmConsole, type VmCpu,
  type VmImage, type VmKind, type VmOsType,
} from './config-types.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const PAGE = 4 * KiB;
const BLOCK = 2 * MiB;
/** PPIs the hypervisor keeps: the GIC maintenance interrupt and the EL2 physical timer. */
const HYP_PPIS = [25, 26];

/** What the checks need besides the entry: the board as configured, where images come from. */
export interface Env {
  board: BoardDescription;
  label: string;
  images: ImageSource;
  ramBase: number;
  ramSize: number;
  gic: 2 | 3;
  ncpus: number;
  warn: (message: string) => void;
}

/** An image as the checks see it: a path (or a label) and the bytes it occupies once loaded. */
export interface ImageProbe {
  path: string;
  size: number;
  /** An arm64 Linux Image header's text_offset. */
  textOffset?: number;
}

/**
 * Where a VM's images come from: files named in a config file, or bytes the MVM uploaded through
 * HVC_CONFIG calls. `probe` returns the image or why there is none; `as` says how it is loaded:
 * a kernel (a Linux one has an arm64 header), a ramdisk (.gz counted by its ISIZE), a raw DTB.
 */
export interface ImageSource {
  probe(name: string, as: 'linux-kernel' | 'kernel' | 'ramdisk' | 'dtb'): ImageProbe | string;
}

/** Image files relative to `dir`. */
export function fileImages(dir: string): ImageSource {
  return {
    probe(name, as) {
      const p = resolve(dir, name);
      if (!existsSync(p)) return `${name}: no such file (looked in ${dir})`;
      if (!statSync(p).isFile()) return `${name}: not a file`;
      return as === 'dtb' ? { path: p, size: statSync(p).size } : { path: p, ...imageFootprint(p, as === 'linux-kernel') };
    },
  };
}

type U64 = string | number;
export interface RawEmu {
  name: string;
  base_ipa: U64;
  length: U64;
  irq_id: number;
  cfg_list?: U64[];
  type: string;
  image?: string;
  read_only?: boolean;
}
export interface RawPt {
  name: string;
  base_pa: U64;
  base_ipa: U64;
  length: U64;
  smmu_id?: number;
  irq_list?: number[];
}
export interface RawDtb {
  name: string;
  type: string;
  irq_list?: number[];
  addr_region_ipa: U64;
  addr_region_length: U64;
}
export interface RawVm {
  id?: number;
  name: string;
  type: string;
  kind?: VmKind;
  cmdline?: string;
  console?: string;
  gic_passthrough?: boolean;
  image: {
    kernel_filename: string;
    kernel_load_ipa: U64;
    kernel_entry_point: U64;
    device_tree_filename?: string;
    device_tree_load_ipa: U64;
    ramdisk_filename?: string;
    ramdisk_load_ipa?: U64;
  };
  memory: { region: { ipa_start: U64; length: U64 }[]; colors?: string; budget?: number };
  cpu: { num: number; allocate_bitmap: U64; master?: number; shared?: boolean };
  emulated_device?: { emulated_device_list: RawEmu[] };
  emulated_device_list?: RawEmu[];
  passthrough_device?: { passthrough_device_list: RawPt[] };
  passthrough_device_list?: RawPt[];
  dtb_device?: { dtb_device_list: RawDtb[] };
  dtb_device_list?: RawDtb[];
}

const hex = (n: number): string => `0x${n.toString(16)}`;
const macText = (mac: number[]): string => mac.map((b) => b.toString(16).padStart(2, '0')).join(':');
const size = (n: number): string => (n % MiB === 0 ? `${n / MiB} MiB` : n % KiB === 0 ? `${n / KiB} KiB` : `${n} bytes`);
const overlaps = (a: number, alen: number, b: number, blen: number): boolean => a < b + blen && b < a + alen;
const pageDown = (v: number): number => Math.floor(v / PAGE) * PAGE;
const pageUp = (v: number): number => Math.ceil(v / PAGE) * PAGE;

/** A window of a VM's IPA space that is a device, for overlap checks. */
interface Window {
  what: string;
  ipa: number;
  length: number;
  /** Trapped per access (emulated) rather than mapped: windows may share a page with each other. */
  emulated: boolean;
}

export function buildVm(env: Env, raw: RawVm, id: number): VmConfig {
  const where = `${env.label}: vm ${id} "${raw.name}"`;
  const fail = (field: string, msg: string): never => {
    throw new ConfigError(`${where}: ${field}: ${msg}`);
  };
  const num = (v: U64, field: string): number => {
    const b = BigInt(v);
    if (b > BigInt(Number.MAX_SAFE_INTEGER)) fail(field, `${String(v)} is too large (addresses must be below 2^53)`);
    return Number(b);
  };
  const { board } = env;

  // ---- kind, OS, cmdline ----
  const osType: VmOsType = raw.type === 'VM_T_LINUX' ? 'linux' : raw.type === 'VM_T_FREERTOS' ? 'freertos' : 'bma';
  const kind: VmKind = raw.kind ?? (id === 0 ? 'mvm' : 'gvm');
  if (id === 0 && kind !== 'mvm') fail('kind', `VM 0 is the MVM; "${kind}" VMs take ids 1-7`);
  if (id !== 0 && kind === 'mvm') fail('kind', 'only VM 0 is the MVM');
  const gicPassthrough = raw.gic_passthrough ?? false;
  if (gicPassthrough && kind !== 'rtvm') fail('gic_passthrough', `only an RTVM (kind "rtvm") may have the GIC passed through, this is a ${kind}`);
  if (gicPassthrough && env.gic !== 3) fail('gic_passthrough', `needs a GICv3 (this machine's GIC is v${env.gic}): see docs/hypervisor.md "GIC passthrough"`);
  const cmdline = raw.cmdline ?? '';
  if (Buffer.byteLength(cmdline) > 2047) fail('cmdline', 'longer than 2047 bytes (arm64 COMMAND_LINE_SIZE)');
  if (raw.memory.colors !== undefined || raw.memory.budget !== undefined) {
    env.warn(`${where}: memory.colors/budget: memory colouring is not modelled, ignored`);
  }

  // ---- CPUs (Rust-Shyper VmConfigEntry::set_cpu_cfg, then Vm::new's pCPU list) ----
  const bitmapIn = num(raw.cpu.allocate_bitmap, 'cpu.allocate_bitmap');
  if (bitmapIn === 0) fail('cpu.allocate_bitmap', 'names no core');
  if (bitmapIn >= 2 ** env.ncpus) {
    const core = Math.floor(Math.log2(bitmapIn));
    fail('cpu.allocate_bitmap', `names core ${core} but ${board.name} has ${env.ncpus} cores (0-${env.ncpus - 1})`);
  }
  if (raw.cpu.num > env.ncpus) fail('cpu.num', `${raw.cpu.num} vCPUs is more than the ${env.ncpus} cores of ${board.name}`);
  const cores: number[] = [];
  for (let c = 0; c < env.ncpus; c++) if (Math.floor(bitmapIn / 2 ** c) % 2) cores.push(c);
  const vcpus = Math.min(raw.cpu.num, cores.length);
  if (vcpus < raw.cpu.num) {
    env.warn(`${where}: cpu.num: ${raw.cpu.num} lowered to ${vcpus}, the number of cores in allocate_bitmap (as Rust-Shyper does)`);
  }
  const kept = cores.slice(0, vcpus);
  const bitmap = kept.reduce((m, c) => m + 2 ** c, 0);
  let master: number | undefined = raw.cpu.master === undefined || raw.cpu.master < 0 ? undefined : raw.cpu.master;
  if (master !== undefined && !kept.includes(master)) {
    env.warn(`${where}: cpu.master: core ${master} is not among the cores kept (${kept.join(', ')}), dropped (as Rust-Shyper does)`);
    master = undefined;
  }
  const pcpus = master === undefined ? kept : [master, ...kept.filter((c) => c !== master)];
  const shared = raw.cpu.shared ?? false;
  if (shared && kind === 'rtvm') fail('cpu.shared', "an RTVM's cores are its own");
  // A passthrough RTVM's vCPUs carry their cores' physical MPIDRs (hypervisor/rt.ts).
  const affinities = pcpus.map((p, i) => (gicPassthrough ? board.cpus[p]!.mpidr : vcpuAffinity(board, i)));
  const cpu: VmCpu = { num: vcpus, bitmap, master, pcpus, affinities, shared };

  // ---- memory regions ----
  const memory: MemoryRegion[] = raw.memory.region.map((r, i) => {
    const f = `memory.region[${i}]`;
    const ipa = num(r.ipa_start, `${f}.ipa_start`);
    const length = num(r.length, `${f}.length`);
    if (ipa % PAGE) fail(`${f}.ipa_start`, `${hex(ipa)} is not 4 KiB aligned`);
    if (length === 0 || length % PAGE) fail(`${f}.length`, `${hex(length)} is not a non-zero multiple of 4 KiB`);
    if (ipa + length > IPA_LIMIT) fail(f, `${hex(ipa)}+${hex(length)} ends beyond the ${hex(IPA_LIMIT)} IPA space`);
    return { ipa, length, pa: 0 };
  });
  memory.forEach((a, i) =>
    memory.slice(0, i).forEach((b, j) => {
      if (overlaps(a.ipa, a.length, b.ipa, b.length)) fail(`memory.region[${i}]`, `${hex(a.ipa)}+${hex(a.length)} overlaps region[${j}] ${hex(b.ipa)}+${hex(b.length)}`);
    }),
  );

  // virtio-blk: the image (our key) and Rust-Shyper's cfg_list window [start sector, sectors].
  const blkDisk = (e: RawEmu, cfg: number[], f: string): NonNullable<EmulatedDevice['disk']> => {
    if (e.image === undefined) fail(f, 'an EMU_DEVICE_T_VIRTIO_BLK needs "image": the disk image file (or use EMU_DEVICE_T_VIRTIO_BLK_MEDIATED)');
    const probe = env.images.probe(e.image!, 'ramdisk'); // size: a .gz image counts by its ISIZE
    if (typeof probe === 'string') fail(`${f}.image`, probe);
    const { path: image, size: bytes } = probe as ImageProbe;
    if (cfg.length !== 0 && cfg.length !== 2) fail(`${f}.cfg_list`, `a disk window is [start sector, sectors], got ${cfg.length} words`);
    const [startSector, sectors] = cfg.length === 2 ? [cfg[0]!, cfg[1]!] : [0, undefined];
    const total = Math.floor(bytes / 512);
    if (sectors === 0) fail(`${f}.cfg_list`, 'a disk window of 0 sectors');
    if (startSector + (sectors ?? 0) > total || startSector >= total) {
      fail(`${f}.cfg_list`, `sectors ${startSector}+${sectors ?? 0} run past the end of ${e.image} (${total} sectors)`);
    }
    return { image, startSector, sectors, readOnly: e.read_only ?? false };
  };

  // ---- emulated devices ----
  const list = <T>(nested: { [k: string]: T[] } | undefined, flat: T[] | undefined, key: string): [T[], string] => {
    if (nested && flat) fail(key, `given both as "${key}" and inside "${key.replace(/_list$/, '')}"; keep one`);
    return nested ? [nested[key]!, `${key.replace(/_list$/, '')}.${key}`] : [flat ?? [], key];
  };
  const [rawEmus, emuKey] = list(raw.emulated_device, raw.emulated_device_list, 'emulated_device_list');
  const gicd = { ipa: board.gic.distBase, length: board.gic.distSize };
  const gicr = { ipa: board.gic.redistBase ?? 0, length: vcpus * GICR_FRAME_SIZE };
  const spiEnd = 32 + board.gic.spis;
  const emuField = new Map<EmulatedDevice, string>();
  const emulatedDevices: EmulatedDevice[] = rawEmus.map((e, i) => {
    const f = `${emuKey}[${i}]`;
    const t = EMU_DEVICE_TYPES[e.type]!;
    if ('unsupported' in t) return fail(`${f}.type`, `${e.type} is not supported: ${t.unsupported}`);
    const d: EmulatedDevice = { name: e.name, type: t.type, baseIpa: num(e.base_ipa, `${f}.base_ipa`), length: num(e.length, `${f}.length`), irq: e.irq_id, cfg: (e.cfg_list ?? []).map((c, k) => num(c, `${f}.cfg_list[${k}]`)) };
    const needsIrq = VIRTIO_TYPES.includes(d.type) || d.type === 'console' || d.type === 'shyper';
    if (d.irq !== 0 && (d.irq < 32 || d.irq >= spiEnd)) fail(`${f}.irq_id`, `${d.irq} is not an SPI of ${board.name}'s GIC (INTID 32-${spiEnd - 1})`);
    if (needsIrq && d.irq === 0) fail(`${f}.irq_id`, `a ${e.type} needs an interrupt (an SPI INTID, 32-${spiEnd - 1})`);
    if (d.type !== 'shyper' && d.length === 0) fail(`${f}.length`, 'must not be 0');
    if (d.baseIpa + d.length > IPA_LIMIT) fail(f, `${hex(d.baseIpa)}+${hex(d.length)} ends beyond the IPA space`);
    if (VIRTIO_TYPES.includes(d.type) && d.length < 0x200) fail(`${f}.length`, `${hex(d.length)} is less than a virtio-mmio register window (0x200)`);
    if (d.type === 'gppt' && !gicPassthrough) fail(`${f}.type`, 'EMU_DEVICE_T_GPPT is the GIC of an RTVM with "gic_passthrough": true');
    if (d.type === 'gicr' && env.gic !== 3) fail(`${f}.type`, `EMU_DEVICE_T_GICR on a GICv${env.gic} machine`);
    if (d.type === 'gicd' && (d.baseIpa !== gicd.ipa || d.length > gicd.length)) {
      fail(f, `the vGICD sits at ${board.name}'s distributor ${hex(gicd.ipa)}+${hex(gicd.length)}, not ${hex(d.baseIpa)}+${hex(d.length)}`);
    }
    if (d.type === 'gicr' && (d.baseIpa !== gicr.ipa || d.length < gicr.length || d.length > (board.gic.redistSize ?? 0))) {
      fail(f, `the vGICR sits at ${hex(gicr.ipa)} and spans ${hex(gicr.length)}-${hex(board.gic.redistSize ?? 0)} bytes (0x20000 per vCPU), not ${hex(d.baseIpa)}+${hex(d.length)}`);
    }
    if ((e.image !== undefined || e.read_only !== undefined) && d.type !== 'virtio-blk') fail(`${f}.${e.image !== undefined ? 'image' : 'read_only'}`, `only an EMU_DEVICE_T_VIRTIO_BLK has a disk image`);
    if (d.type === 'virtio-blk') d.disk = blkDisk(e, d.cfg, f);
    // The GVM's capacity comes from its config, before any MVM daemon is up (Rust-Shyper: cfg[1]).
    if (d.type === 'virtio-blk-mediated' && (d.cfg.length !== 2 || d.cfg[1] === 0 || d.cfg[0]! + d.cfg[1]! > Number.MAX_SAFE_INTEGER / 512)) {
      fail(`${f}.cfg_list`, `a mediated disk is [start sector, sectors] in the MVM's image (sectors > 0), got [${d.cfg.map(hex).join(', ')}]`);
    }
    if (d.type === 'virtio-net') {
      if (d.cfg.length === 0) d.mac = [0x02, 0x53, 0x48, 0x59, id, rawEmus.slice(0, i).filter((x) => x.type === 'EMU_DEVICE_T_VIRTIO_NET').length];
      else if (d.cfg.length !== 6 || d.cfg.some((b) => b > 255)) fail(`${f}.cfg_list`, `a MAC address: 6 words of one byte each, got [${d.cfg.map(hex).join(', ')}]`);
      else d.mac = [...d.cfg];
      if (d.mac!.every((b) => b === 0) || (d.mac![0]! & 1) !== 0) fail(`${f}.cfg_list`, `${macText(d.mac!)} is not a unicast MAC address`);
    }
    if (d.type === 'virtio-console' && d.cfg.length > 0) {
      if (d.cfg.length !== 2) fail(`${f}.cfg_list`, `a console's peer is [vm id, console IPA], got ${d.cfg.length} words`);
      d.peer = { vm: d.cfg[0]!, ipa: d.cfg[1]! };
      if (d.peer.vm === id && d.peer.ipa === d.baseIpa) fail(`${f}.cfg_list`, 'a console cannot be its own peer');
    }
    emuField.set(d, `${f} "${d.name}"`);
    return d;
  });
  for (const t of ['gicd', 'gicr'] as const) {
    if (emulatedDevices.filter((d) => d.type === t).length > 1) fail(emuKey, `more than one EMU_DEVICE_T_${t.toUpperCase()}`);
  }
  if (!gicPassthrough) {
    if (!emulatedDevices.some((d) => d.type === 'gicd')) emulatedDevices.unshift({ name: 'vgicd', type: 'gicd', baseIpa: gicd.ipa, length: gicd.length, irq: 0, cfg: [], implicit: true });
    if (env.gic === 3 && !emulatedDevices.some((d) => d.type === 'gicr')) {
      emulatedDevices.splice(emulatedDevices.findIndex((d) => d.type === 'gicd') + 1, 0, { name: 'vgicr', type: 'gicr', baseIpa: gicr.ipa, length: gicr.length, irq: 0, cfg: [], implicit: true });
    }
  }

  // ---- passthrough devices ----
  const [rawPts, ptKey] = list(raw.passthrough_device, raw.passthrough_device_list, 'passthrough_device_list');
  const physGic = physicalGicWindows(board, env.gic);
  const passthroughDevices: PassthroughDevice[] = rawPts.map((p, i) => {
    const f = `${ptKey}[${i}]`;
    const d: PassthroughDevice = { name: p.name, basePa: num(p.base_pa, `${f}.base_pa`), baseIpa: num(p.base_ipa, `${f}.base_ipa`), length: num(p.length, `${f}.length`), irqs: p.irq_list ?? [] };
    if (p.smmu_id !== undefined) d.smmuId = p.smmu_id;
    if (d.basePa % PAGE) fail(`${f}.base_pa`, `${hex(d.basePa)} is not 4 KiB aligned`);
    if (d.baseIpa % PAGE) fail(`${f}.base_ipa`, `${hex(d.baseIpa)} is not 4 KiB aligned`);
    if (d.length === 0 || d.length % PAGE) fail(`${f}.length`, `${hex(d.length)} is not a non-zero multiple of 4 KiB`);
    if (d.baseIpa + d.length > IPA_LIMIT) fail(f, `${hex(d.baseIpa)}+${hex(d.length)} ends beyond the IPA space`);
    if (overlaps(d.basePa, d.length, env.ramBase, env.ramSize)) {
      fail(`${f}.base_pa`, `${hex(d.basePa)}+${hex(d.length)} is RAM (${hex(env.ramBase)}+${hex(env.ramSize)}): passing it through would expose other VMs' memory`);
    }
    if (!gicPassthrough) {
      for (const w of physGic) {
        if (overlaps(d.basePa, d.length, w.pa, w.length)) fail(`${f}.base_pa`, `${hex(d.basePa)}+${hex(d.length)} overlaps the physical ${w.what} (${hex(w.pa)}); the hypervisor owns the GIC`);
      }
    }
    d.irqs.forEach((irq, k) => {
      if (irq < 16 || irq >= spiEnd) fail(`${f}.irq_list[${k}]`, `${irq} is not a PPI or SPI of ${board.name}'s GIC (INTID 16-${spiEnd - 1})`);
      if (HYP_PPIS.includes(irq)) fail(`${f}.irq_list[${k}]`, `PPI ${irq} is the hypervisor's (${irq === 25 ? 'GIC maintenance' : 'EL2 timer'})`);
    });
    const uart = board.uarts.find((u) => u.base >= d.basePa && u.base + u.size <= d.basePa + d.length);
    if (uart) {
      if (!d.irqs.includes(32 + uart.spi)) fail(`${f}.irq_list`, `${board.name}'s UART at ${hex(uart.base)} interrupts on INTID ${32 + uart.spi}; list it`);
      d.uart = uart;
    }
    return d;
  });

  // ---- dtb devices ----
  const [rawDtbs, dtbKey] = list(raw.dtb_device, raw.dtb_device_list, 'dtb_device_list');
  const dtbDevices: DtbDevice[] = rawDtbs.map((t, i) => {
    const f = `${dtbKey}[${i}]`;
    const types: Record<string, DtbDevice['type'] | undefined> = { DTB_DEVICE_T_CONSOLE: 'serial', DTB_DEVICE_T_SERIAL: 'serial', DTB_DEVICE_T_GICD: 'gicd', DTB_DEVICE_T_GICC: 'gicc', DTB_DEVICE_T_GICR: 'gicr' };
    const type = types[t.type];
    if (!type) return fail(`${f}.type`, `${t.type} is RISC-V only`);
    const d: DtbDevice = { name: t.name, type, irqs: t.irq_list ?? [], ipa: num(t.addr_region_ipa, `${f}.addr_region_ipa`), length: num(t.addr_region_length, `${f}.addr_region_length`) };
    const view = type === 'gicd' ? gicd : type === 'gicr' && env.gic === 3 ? { ipa: gicr.ipa, length: board.gic.redistSize! } : type === 'gicc' && env.gic === 2 ? { ipa: board.gic.cpuBase!, length: board.gic.cpuSize! } : undefined;
    if (type !== 'serial' && !view) fail(`${f}.type`, `${t.type} on a GICv${env.gic} machine`);
    if (view && (d.ipa !== view.ipa || d.length > view.length)) fail(f, `the VM's ${type.toUpperCase()} is at ${hex(view.ipa)} (${board.name}), not ${hex(d.ipa)}+${hex(d.length)}`);
    if (type === 'serial' && d.irqs.length === 0) fail(`${f}.irq_list`, 'a serial port needs its interrupt');
    return d;
  });

  // ---- the VM's device windows: no overlap with memory or (unless both emulated) each other ----
  const windows: Window[] = [];
  if (!gicPassthrough && env.gic === 2) windows.push({ what: 'the GICC (GICV mapped there)', ipa: board.gic.cpuBase!, length: board.gic.cpuSize!, emulated: false });
  for (const d of emulatedDevices) {
    if (d.length) windows.push({ what: emuField.get(d) ?? `the implicit ${d.name}`, ipa: d.baseIpa, length: d.length, emulated: true });
  }
  passthroughDevices.forEach((d, i) => windows.push({ what: `${ptKey}[${i}] "${d.name}"`, ipa: d.baseIpa, length: d.length, emulated: false }));
  const windowField = (w: Window): string => (w.what.startsWith('the ') ? 'memory' : w.what.split(' ')[0]!);
  windows.forEach((a, i) =>
    windows.slice(0, i).forEach((b) => {
      const [x, y] = a.emulated && b.emulated ? [a, b] : [{ ...a, ipa: pageDown(a.ipa), length: pageUp(a.ipa + a.length) - pageDown(a.ipa) }, { ...b, ipa: pageDown(b.ipa), length: pageUp(b.ipa + b.length) - pageDown(b.ipa) }];
      if (overlaps(x.ipa, x.length, y.ipa, y.length)) fail(windowField(a), `${hex(a.ipa)}+${hex(a.length)} overlaps ${b.what} at ${hex(b.ipa)}+${hex(b.length)}${a.emulated && b.emulated ? '' : ' (in the same 4 KiB page)'}`);
    }),
  );
  memory.forEach((m, i) => {
    for (const w of windows) {
      if (overlaps(m.ipa, m.length, pageDown(w.ipa), pageUp(w.ipa + w.length) - pageDown(w.ipa))) fail(`memory.region[${i}]`, `${hex(m.ipa)}+${hex(m.length)} overlaps ${w.what} at ${hex(w.ipa)}+${hex(w.length)}`);
    }
  });
  dtbDevices.forEach((d, i) => {
    memory.forEach((m, j) => {
      if (overlaps(d.ipa, d.length, m.ipa, m.length)) fail(`${dtbKey}[${i}]`, `${hex(d.ipa)}+${hex(d.length)} overlaps memory.region[${j}]`);
    });
  });

  // ---- interrupts the VM sees: one source each ----
  const irqOwner = new Map<number, string>();
  const claim = (irq: number, field: string): void => {
    const prev = irqOwner.get(irq);
    if (prev) fail(field, `INTID ${irq} is also ${prev}'s`);
    irqOwner.set(irq, field);
  };
  for (const d of emulatedDevices) if (d.irq) claim(d.irq, emuField.get(d)!);
  passthroughDevices.forEach((d, i) => d.irqs.forEach((irq, k) => claim(irq, `${ptKey}[${i}].irq_list[${k}]`)));

  // ---- images ----
  const img = raw.image;
  const inMemory = (addr: number, len: number): MemoryRegion | undefined => memory.find((m) => addr >= m.ipa && addr + len <= m.ipa + m.length);
  const probe = (name: string, field: string, as: Parameters<ImageSource['probe']>[1]): ImageProbe => {
    const r = env.images.probe(name, as);
    return typeof r === 'string' ? fail(field, r) : r;
  };
  const kernel = probe(img.kernel_filename, 'image.kernel_filename', osType === 'linux' ? 'linux-kernel' : 'kernel');
  const image: VmImage = {
    kernelFile: kernel.path,
    kernelLoadIpa: num(img.kernel_load_ipa, 'image.kernel_load_ipa'),
    entryPoint: num(img.kernel_entry_point, 'image.kernel_entry_point'),
    dtbLoadIpa: num(img.device_tree_load_ipa, 'image.device_tree_load_ipa'),
  };
  let dtb: ImageProbe | undefined;
  if (img.device_tree_filename !== undefined && img.device_tree_filename !== '-' && img.device_tree_filename !== '') {
    dtb = probe(img.device_tree_filename, 'image.device_tree_filename', 'dtb');
    image.dtbFile = dtb.path;
  }
  const ramdiskIpa = img.ramdisk_load_ipa === undefined ? 0 : num(img.ramdisk_load_ipa, 'image.ramdisk_load_ipa');
  let ramdisk: ImageProbe | undefined;
  if (img.ramdisk_filename !== undefined && img.ramdisk_filename !== '-' && img.ramdisk_filename !== '') {
    ramdisk = probe(img.ramdisk_filename, 'image.ramdisk_filename', 'ramdisk');
    image.ramdiskFile = ramdisk.path;
    if (img.ramdisk_load_ipa === undefined) fail('image', `missing key "ramdisk_load_ipa" (ramdisk_filename is given)`);
    image.ramdiskLoadIpa = ramdiskIpa;
  } else if (ramdiskIpa !== 0) {
    fail('image.ramdisk_load_ipa', `${hex(ramdiskIpa)} given without a ramdisk_filename`);
  }

  const placed: { field: string; what: string; at: number; len: number }[] = [
    { field: 'image.kernel_load_ipa', what: 'kernel', at: image.kernelLoadIpa, len: kernel.size },
    { field: 'image.device_tree_load_ipa', what: 'device tree', at: image.dtbLoadIpa, len: dtb ? dtb.size : DTB_MAX_SIZE },
  ];
  if (ramdisk) placed.push({ field: 'image.ramdisk_load_ipa', what: 'ramdisk', at: image.ramdiskLoadIpa!, len: ramdisk.size });
  for (const p of placed) {
    if (!inMemory(p.at, 1)) fail(p.field, `${hex(p.at)} is outside the VM's memory (${memory.map((m) => `${hex(m.ipa)}+${hex(m.length)}`).join(', ')})`);
    if (!inMemory(p.at, p.len)) fail(p.field, `the ${p.what} (${size(p.len)}) at ${hex(p.at)} runs past the end of its memory region`);
  }
  placed.forEach((a, i) =>
    placed.slice(0, i).forEach((b) => {
      if (overlaps(a.at, a.len, b.at, b.len)) fail(a.field, `the ${a.what} at ${hex(a.at)}+${hex(a.len)} overlaps the ${b.what} at ${hex(b.at)}+${hex(b.len)}`);
    }),
  );
  if (image.dtbLoadIpa % 8) fail('image.device_tree_load_ipa', `${hex(image.dtbLoadIpa)} is not 8-byte aligned (arm64 booting.rst)`);
  if (kernel.textOffset !== undefined && (image.kernelLoadIpa - kernel.textOffset) % BLOCK) {
    fail('image.kernel_load_ipa', `${hex(image.kernelLoadIpa)}: an arm64 Image goes at a 2 MiB-aligned base + text_offset ${hex(kernel.textOffset)} (booting.rst)`);
  }
  if (image.entryPoint < image.kernelLoadIpa || image.entryPoint >= image.kernelLoadIpa + kernel.size) {
    fail('image.kernel_entry_point', `${hex(image.entryPoint)} is outside the kernel loaded at ${hex(image.kernelLoadIpa)}+${hex(kernel.size)}`);
  }

  // ---- console ----
  // Without a "console" key (a VM the MVM configures: the hypercalls carry none), a command line
  // whose last console= is hvcN names the N-th virtio-console, as Linux's /dev/console is.
  const hvc = /(?:^|\s)console=hvc(\d+)(?!.*\sconsole=)/.exec(cmdline)?.[1];
  const byCmdline = hvc === undefined ? undefined : emulatedDevices.filter((d) => d.type === 'virtio-console')[Number(hvc)]?.name;
  const vmConsole = pickConsole(raw.console ?? byCmdline, emulatedDevices, passthroughDevices, board, (msg) => fail('console', msg));

  return { id, name: raw.name, kind, osType, cmdline, image, memory, cpu, emulatedDevices, passthroughDevices, dtbDevices, console: vmConsole, gicPassthrough };
}

function pickConsole(named: string | undefined, emus: EmulatedDevice[], pts: PassthroughDevice[], board: BoardDescription, fail: (msg: string) => never): VmConsole | undefined {
  const fromPt = (d: PassthroughDevice): VmConsole => ({ kind: 'passthrough', device: d.name, ipa: d.baseIpa + (d.uart!.base - d.basePa), irq: 32 + d.uart!.spi, uart: d.uart });
  const fromEmu = (d: EmulatedDevice): VmConsole =>
    d.type === 'virtio-console'
      ? { kind: 'virtio', device: d.name, ipa: d.baseIpa, irq: d.irq }
      : { kind: 'emulated', device: d.name, ipa: d.baseIpa, irq: d.irq, uart: board.uarts.find((u) => u.base === d.baseIpa) ?? board.uarts[0] };
  if (named !== undefined) {
    const pt = pts.find((d) => d.name === named);
    if (pt) {
      if (!pt.uart) fail(`passthrough device "${named}" is not a UART of ${board.name} (${board.uarts.map((u) => hex(u.base)).join(', ')})`);
      return fromPt(pt);
    }
    const emu = emus.find((d) => d.name === named);
    if (emu) {
      if (emu.type !== 'console' && emu.type !== 'virtio-console') fail(`emulated device "${named}" is not an EMU_DEVICE_T_CONSOLE or EMU_DEVICE_T_VIRTIO_CONSOLE`);
      return fromEmu(emu);
    }
    return fail(`no device named "${named}" (give the name of a passthrough UART or an emulated console)`);
  }
  const pt = pts.find((d) => d.uart);
  if (pt) return fromPt(pt);
  const emu = emus.find((d) => d.type === 'console') ?? emus.find((d) => d.type === 'virtio-console');
  return emu ? fromEmu(emu) : undefined;
}

/** A gzip file (by its magic): a disk image that can only be attached read-only. */
function isGzip(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = new Uint8Array(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** Physical GIC windows the hypervisor owns (GICD, GICR, GICC, GICH, GICV). */
function physicalGicWindows(board: BoardDescription, gic: 2 | 3): { what: string; pa: number; length: number }[] {
  const g = board.gic;
  const w = [{ what: 'GICD', pa: g.distBase, length: g.distSize }];
  if (gic === 3) w.push({ what: 'GICR', pa: g.redistBase!, length: g.redistSize! });
  else {
    w.push({ what: 'GICC', pa: g.cpuBase!, length: g.cpuSize! });
    if (g.gichBase !== undefined) w.push({ what: 'GICH', pa: g.gichBase, length: 0x2000 });
    if (g.gicvBase !== undefined) w.push({ what: 'GICV', pa: g.gicvBase, length: g.cpuSize! });
  }
  return w;
}

/**
 * Bytes an image occupies once loaded: a gzip file's ISIZE trailer (RFC 1952 2.3.1), else its
 * size; for an arm64 Linux Image also its header's image_size (covers BSS) and text_offset.
 */
function imageFootprint(path: string, linux: boolean): { size: number; textOffset?: number } {
  const fileSize = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    const head = new Uint8Array(Math.min(fileSize, 64 * KiB));
    readSync(fd, head, 0, head.length, 0);
    const gz = head[0] === 0x1f && head[1] === 0x8b;
    let size = fileSize;
    let start = head;
    if (gz) {
      const tail = new Uint8Array(4);
      readSync(fd, tail, 0, 4, fileSize - 4);
      size = new DataView(tail.buffer).getUint32(0, true);
      try {
        // (node:zlib loaded here, for a gzip kernel: emulator/boot/linux-image.ts zlib.)
        const zlib = process.getBuiltinModule('node:zlib');
        start = new Uint8Array(zlib.gunzipSync(head, { finishFlush: zlib.constants.Z_SYNC_FLUSH }));
      } catch {
        start = new Uint8Array(0);
      }
    }
    if (!linux || start.length < 64) return { size };
    const dv = new DataView(start.buffer, start.byteOffset, start.byteLength);
    if (dv.getUint32(0x38, true) !== 0x644d5241) return { size }; // "ARM\x64": not an arm64 Image
    const textOffset = Number(dv.getBigUint64(8, true));
    const imageSize = Number(dv.getBigUint64(16, true));
    return { size: Math.max(size, imageSize), textOffset };
  } finally {
    closeSync(fd);
  }
}

export function checkAcrossVms(env: Env, vms: VmConfig[]): void {
  const where = (vm: VmConfig): string => `${env.label}: vm ${vm.id} "${vm.name}"`;
  // Cores: exclusive unless both VMs opt in; RTVM cores always exclusive.
  const coreOwner = new Map<number, VmConfig>();
  for (const vm of vms) {
    for (const c of vm.cpu.pcpus) {
      const other = coreOwner.get(c);
      if (other && !(vm.cpu.shared && other.cpu.shared)) {
        const why = vm.kind === 'rtvm' || other.kind === 'rtvm' ? "an RTVM's cores are its own" : 'set "shared": true in both VMs\' cpu to share it round-robin';
        throw new ConfigError(`${where(vm)}: cpu.allocate_bitmap: core ${c} is also vm ${other.id} "${other.name}"'s (${why})`);
      }
      coreOwner.set(c, vm);
    }
  }
  // virtio-net MACs: one NIC each (the switch between VMs forwards by MAC).
  const macOwner = new Map<string, VmConfig>();
  for (const vm of vms) {
    vm.emulatedDevices.forEach((d) => {
      if (d.mac === undefined) return;
      const key = macText(d.mac);
      const other = macOwner.get(key);
      if (other) throw new ConfigError(`${where(vm)}: emulated device "${d.name}": MAC ${key} is also a NIC of vm ${other.id} "${other.name}"`);
      macOwner.set(key, vm);
    });
  }
  // virtio-console peers (Rust-Shyper's cfg [vm, ipa]): the peer must be a virtio-console of a VM in the set.
  for (const vm of vms) {
    for (const d of vm.emulatedDevices) {
      if (d.peer === undefined) continue;
      const pv = vms.find((v) => v.id === d.peer!.vm);
      const pd = pv?.emulatedDevices.find((x) => x.type === 'virtio-console' && x.baseIpa === d.peer!.ipa);
      if (pd === undefined) {
        env.warn(`${where(vm)}: emulated device "${d.name}": cfg_list: ${pv ? `vm ${pv.id} "${pv.name}" has no virtio-console at ${hex(d.peer.ipa)}` : `no vm ${d.peer.vm} in the set`}: what it transmits is discarded`);
      }
    }
  }
  // Disk images: devices may share one when their windows are apart or all of them are read-only
  // (a gzip image always is).
  const disks: { vm: VmConfig; d: EmulatedDevice }[] = [];
  for (const vm of vms) {
    for (const d of vm.emulatedDevices) {
      const k = d.disk;
      if (k === undefined) continue;
      const end = (x: NonNullable<EmulatedDevice['disk']>): number => (x.sectors === undefined ? Infinity : x.startSector + x.sectors);
      for (const o of disks) {
        const ok = o.d.disk!;
        if (ok.image !== k.image || !(k.startSector < end(ok) && ok.startSector < end(k))) continue;
        if ((k.readOnly && ok.readOnly) || isGzip(k.image)) continue;
        throw new ConfigError(
          `${where(vm)}: emulated device "${d.name}": image ${k.image} is also vm ${o.vm.id} "${o.vm.name}"'s disk "${o.d.name}" and their windows overlap: make both read_only, or give them disjoint cfg_list windows`,
        );
      }
      disks.push({ vm, d });
    }
  }
  // Physical devices and SPIs: one owner each.
  const windowOwner: { vm: VmConfig; d: PassthroughDevice }[] = [];
  const spiOwner = new Map<number, VmConfig>();
  for (const vm of vms) {
    vm.passthroughDevices.forEach((d, i) => {
      for (const o of windowOwner) {
        if (overlaps(d.basePa, d.length, o.d.basePa, o.d.length)) {
          throw new ConfigError(`${where(vm)}: passthrough_device_list[${i}].base_pa: ${hex(d.basePa)}+${hex(d.length)} is also passed through to vm ${o.vm.id} "${o.vm.name}" ("${o.d.name}")`);
        }
      }
      windowOwner.push({ vm, d });
      d.irqs.forEach((irq, k) => {
        if (irq < 32) return;
        const other = spiOwner.get(irq);
        if (other && other !== vm) throw new ConfigError(`${where(vm)}: passthrough_device_list[${i}].irq_list[${k}]: SPI ${irq} already belongs to vm ${other.id} "${other.name}"`);
        spiOwner.set(irq, vm);
      });
    });
  }
}

/** First fit, in VM order, above the hypervisor's reserve; pa ≡ ipa (mod 2 MiB). */
export function placeMemory(env: Env, vms: VmConfig[]): void {
  const start = env.ramBase + HYPERVISOR_RESERVED;
  const end = env.ramBase + env.ramSize;
  let cursor = start;
  for (const vm of vms) {
    vm.memory.forEach((m, i) => {
      const pa = Math.ceil((cursor - (m.ipa % BLOCK)) / BLOCK) * BLOCK + (m.ipa % BLOCK);
      if (pa + m.length > end) {
        const avail = Math.max(0, end - start);
        throw new ConfigError(
          `${env.label}: vm ${vm.id} "${vm.name}": memory.region[${i}]: ${size(m.length)} does not fit in RAM: ${size(avail)} above the hypervisor's ${size(HYPERVISOR_RESERVED)}, ${size(cursor - start)} already taken by the VMs before it (--mem raises RAM)`,
        );
      }
      m.pa = pa;
      cursor = pa + m.length;
    });
  }
}
