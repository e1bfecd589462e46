// CONFIG (fid 0x11, Rust-Shyper src/config/config.rs vm_cfg_*): the MVM describes a new VM call by
// call — ADD_VM, memory regions, CPUs, emulated devices, passthrough regions/IRQs/stream ids, dtb
// devices, a device tree — then uploads its kernel; the first kernel chunk builds the VM
// (vmm_init_gvm), HVC_VMM_BOOT_VM starts it.
//
// The calls amount to one entry of a config file (hypervisor/config-schema.json), and it is checked
// by the same rules (checkRuntimeVm) after every call that changes it, beside the VMs that exist:
// a call that breaks a rule changes nothing and returns the error, so the MVM's CLI knows which
// step failed and deletes the draft (DELETE_VM), leaving no half VM. Until CPU is given the cores
// are a placeholder and the across-VM rules wait; until the IRQs are given a passed-through board
// UART is assumed to list its own. The full check with the kernel's real size runs when the VM is
// built; building it (Shyper.createVm) allocates its memory and may still fail (pool exhausted).
//
// Completed where Rust-Shyper is not: stream-id and dtb-device IRQ lists hold as many entries as
// passed (Rust-Shyper's vec![0, n] holds two); memory colour/budget (event 10) is accepted and
// recorded (not modelled); the kernel bytes are kept, so a forced reboot reloads them.
import { checkRuntimeVm, ConfigError, EMU_DEVICE_TYPES, type ImageSource, type VmConfig, type VmOsType } from '../config.ts';
import { CONFIG, fail, num, readCString, readGuest, readU64s, VM_TYPE } from './abi.ts';
import type { Call, Handler, Hypercalls, VmEntry } from './index.ts';

const KERNEL = '(uploaded kernel)';
const DTB = '(uploaded device tree)';
const RAMDISK = '(built-in ramdisk)';
/** Largest kernel (or device tree) the MVM may upload (an arm64 Linux Image is tens of MiB). */
const MAX_KERNEL = 128 << 20;
const MAX_DTB = 2 << 20;
/** Largest list (IRQs, stream ids, colours) one call may pass. */
const MAX_LIST = 1024;
/** Rust-Shyper's CFG_MAX_NUM: HVC_CONFIG_EMULATED_DEVICE always reads 16 words. */
const CFG_MAX_NUM = 16;
const OS_TYPES: VmOsType[] = ['linux', 'bma', 'freertos'];
const TYPE_NAMES = ['VM_T_LINUX', 'VM_T_BARE_MATEL_APP', 'VM_T_FREERTOS'];
const DTB_TYPES = ['DTB_DEVICE_T_CONSOLE', 'DTB_DEVICE_T_GICD', 'DTB_DEVICE_T_GICC', 'DTB_DEVICE_T_GICR', 'DTB_DEVICE_T_PLIC', 'DTB_DEVICE_T_APLIC'];

/** Bytes uploaded in chunks, with the ranges received. */
interface Upload {
  size: number;
  data: Uint8Array;
  got: [number, number][];
}

/** A VM the MVM is describing (VmEntry.draft); kept after the VM is built for kernel re-uploads. */
export interface Draft {
  cmdline: string;
  kernelIpa: number;
  dtbIpa: number;
  ramdiskIpa: number;
  memory: { ipa_start: number; length: number }[];
  colors?: number[];
  budget?: number;
  cpu?: { num: number; allocate_bitmap: number; master: number };
  emulated: { name: string; base_ipa: number; length: number; irq_id: number; cfg_list: string[]; type: string }[];
  regions: { ipa: number; pa: number; length: number }[];
  /** undefined until PASSTHROUGH_DEVICE_IRQS (then a UART region lists its own SPI by default). */
  irqs?: number[];
  streamIds: number[];
  dtbDevices: { name: string; type: string; irq_list: number[]; addr_region_ipa: number; addr_region_length: number }[];
  dtb?: Upload;
  kernel?: Upload & { textOffset?: number; imageSize?: number };
}

function addRange(u: Upload, start: number, end: number): void {
  u.got.push([start, end]);
  u.got.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const r of u.got) {
    const last = merged[merged.length - 1];
    if (last !== undefined && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  u.got = merged;
}

const missingBytes = (u: Upload): number => u.size - u.got.reduce((n, [a, b]) => n + b - a, 0);

/** null when the whole kernel has been uploaded, else what is missing. */
export function kernelComplete(d: Draft): string | null {
  if (d.kernel === undefined) return 'its kernel has not been uploaded';
  const miss = missingBytes(d.kernel);
  return miss === 0 ? null : `${miss} of its kernel's ${d.kernel.size} bytes have not been uploaded`;
}

/** The config-file entry the calls so far amount to. */
function entryOf(e: VmEntry, d: Draft, board: Hypercalls['host']['board']): Record<string, unknown> {
  const irqs = d.irqs ?? [];
  // A board UART passed through interrupts on its own SPI: assumed listed until the IRQs come.
  const uartOf = (r: Draft['regions'][number]) => board.uarts.find((u) => u.base >= r.pa && u.base + u.size <= r.pa + r.length);
  const holder = d.regions.findIndex((r) => uartOf(r) !== undefined);
  const owner = holder >= 0 ? holder : 0;
  const image: Record<string, unknown> = {
    kernel_filename: KERNEL,
    kernel_load_ipa: d.kernelIpa,
    kernel_entry_point: d.kernelIpa,
    device_tree_load_ipa: d.dtbIpa,
  };
  if (d.dtb) image.device_tree_filename = DTB;
  if (d.ramdiskIpa !== 0) image.ramdisk_filename = RAMDISK;
  image.ramdisk_load_ipa = d.ramdiskIpa;
  // An EMU_DEVICE_T_GPPT (Rust-Shyper's partial passthrough of the GIC) is how its VM configs ask
  // for an RTVM with the GIC passed through: our file keys kind and gic_passthrough.
  const gppt = d.emulated.some((x) => x.type === 'EMU_DEVICE_T_GPPT');
  return {
    ...(gppt ? { kind: 'rtvm', gic_passthrough: true } : {}),
    name: e.name,
    type: TYPE_NAMES[OS_TYPES.indexOf(e.osType)],
    cmdline: d.cmdline,
    image,
    memory: { region: d.memory },
    cpu: d.cpu ?? { num: 1, allocate_bitmap: 1 },
    emulated_device_list: d.emulated,
    passthrough_device_list: d.regions.map((r, i) => {
      const uart = uartOf(r);
      const list = d.irqs === undefined ? (uart ? [32 + uart.spi] : []) : i === owner ? irqs : [];
      return { name: `passthrough${i}`, base_pa: r.pa, base_ipa: r.ipa, length: r.length, irq_list: list };
    }),
    dtb_device_list: d.dtbDevices,
  };
}

/** Check the draft by the config rules; returns the VmConfig, or null while it has no memory yet. */
function check(hvc: Hypercalls, e: VmEntry, d: Draft, final: boolean): VmConfig | null {
  if (d.memory.length === 0) {
    if (final) fail(`vm ${e.id} "${e.name}" has no memory region`);
    // The file rules need memory; a CPU call made before it is still held to the cores.
    if (d.cpu !== undefined) checkCores(hvc, e, d.cpu.allocate_bitmap);
    return null;
  }
  if (final && d.cpu === undefined) fail(`vm ${e.id} "${e.name}" has no CPU configuration`);
  const ramdisk = d.ramdiskIpa !== 0 ? hvc.host.builtinRamdisk?.() : undefined;
  const images: ImageSource = {
    probe(name) {
      if (name === KERNEL) {
        const k = d.kernel;
        return { path: KERNEL, size: k ? Math.max(k.size, k.imageSize ?? 0) : 1, textOffset: k?.textOffset };
      }
      if (name === DTB) return { path: DTB, size: d.dtb!.size };
      if (name === RAMDISK) return ramdisk ? { path: RAMDISK, size: ramdisk.length } : 'the hypervisor has no built-in ramdisk to load at ramdisk_load_ipa';
      return `${name}: no such image`;
    },
  };
  const others = hvc.entries.filter((o) => o !== e && o.vm !== undefined && o.config !== undefined).map((o) => o.config!);
  try {
    return checkRuntimeVm(entryOf(e, d, hvc.host.board), e.id, others, hvc.host.board, {
      label: 'HVC_CONFIG',
      images,
      gicVersion: hvc.host.gicVersion,
      ramSize: hvc.hv.machine.ramSize,
      cpus: hvc.hv.machine.cpus.length,
      acrossVms: d.cpu !== undefined,
      onWarning: final ? (w) => hvc.log(`shyper: ${w}`) : undefined,
    });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

/** Cores of a CPU call: on this machine, and no other VM's (a VM the MVM adds shares none). */
function checkCores(hvc: Hypercalls, e: VmEntry, bitmap: number): void {
  const n = hvc.hv.machine.cpus.length;
  if (bitmap === 0) fail(`HVC_CONFIG: vm ${e.id} "${e.name}": cpu.allocate_bitmap: names no core`);
  for (let c = 0; c < 53 && 2 ** c <= bitmap; c++) {
    if (Math.floor(bitmap / 2 ** c) % 2 === 0) continue;
    if (c >= n) fail(`HVC_CONFIG: vm ${e.id} "${e.name}": cpu.allocate_bitmap: names core ${c} but the machine has ${n} cores`);
    const other = hvc.entries.find((o) => o !== e && o.config?.cpu.pcpus.includes(c));
    if (other !== undefined) fail(`HVC_CONFIG: vm ${e.id} "${e.name}": cpu.allocate_bitmap: core ${c} is also vm ${other.id} "${other.name}"'s`);
  }
}

/** The draft `vmid` names, still being described (not built yet). */
function draftOf(hvc: Hypercalls, vmid: bigint): [VmEntry, Draft] {
  const id = num(vmid, 'vm id');
  const e = hvc.entry(id);
  if (e === undefined || e.draft === undefined) fail(`there is no vm ${id} being configured (HVC_CONFIG_ADD_VM first)`);
  if (e.vm !== undefined) fail(`vm ${id} "${e.name}" is built: its configuration is fixed`);
  return [e, e.draft];
}

/** Apply a change to the draft, check it, and undo it if a rule rejects it. */
function change(c: Call, vmid: bigint, apply: (d: Draft) => () => void): bigint {
  const [e, d] = draftOf(c.hvc, vmid);
  const undo = apply(d);
  try {
    check(c.hvc, e, d, false);
  } catch (err) {
    undo();
    throw err;
  }
  return 0n;
}

const push = <T>(list: T[], ...items: T[]): (() => void) => {
  list.push(...items);
  return () => void list.splice(list.length - items.length, items.length);
};

/** An INTID or count argument: kept as given when small, so the schema's rule reports it. */
const small = (v: bigint, what: string): number => num(v, what);

/** An upload chunk: (vmid, size, cache_ipa, offset, len) → the bytes, checked against `max`. */
function chunk(c: Call, max: number, what: string): { size: number; offset: number; bytes: Uint8Array } {
  const size = num(c.x[1]!, `${what} size`);
  const offset = num(c.x[3]!, `${what} offset`);
  const len = num(c.x[4]!, `${what} chunk length`);
  if (size === 0 || size > max) fail(`${what} size ${size} is not between 1 and ${max}`);
  if (offset + len > size) fail(`${what} chunk ${offset}+${len} runs past its size ${size}`);
  return { size, offset, bytes: readGuest(c.vm, c.x[2]!, len, `${what} chunk`) };
}

/**
 * The first kernel chunk builds the VM (Rust-Shyper vm_cfg_finish_configuration / vmm_init_gvm):
 * checked with the kernel's declared size before its buffer is allocated and `fill`ed.
 */
function build(hvc: Hypercalls, e: VmEntry, d: Draft, fill: (kernel: Uint8Array) => void): void {
  if (d.dtb !== undefined && missingBytes(d.dtb) > 0) fail(`vm ${e.id}: ${missingBytes(d.dtb)} bytes of its device tree have not been uploaded`);
  const cfg = check(hvc, e, d, true)!;
  d.kernel!.data = new Uint8Array(d.kernel!.size);
  fill(d.kernel!.data);
  const initrd = d.ramdiskIpa !== 0 ? hvc.host.builtinRamdisk?.() : undefined;
  let vm;
  try {
    vm = hvc.hv.createVm(hvc.host.setupOf(cfg, { kernel: d.kernel!.data, dtb: d.dtb?.data, initrd }));
  } catch (err) {
    fail(`vm ${e.id} "${e.name}" cannot be built: ${(err as Error).message}`);
  }
  e.vm = vm;
  e.config = cfg;
  hvc.log(`shyper: vm${e.id} (${e.name}) built from the MVM's configuration: ${cfg.cpu.num} vCPU(s) on core(s) ${cfg.cpu.pcpus.join(', ')}`);
}

function uploadKernel(c: Call): bigint {
  const id = num(c.x[0]!, 'vm id');
  const e = c.hvc.entry(id);
  if (e === undefined || e.draft === undefined) fail(`there is no vm ${id} configured by the MVM`);
  const d = e.draft;
  const { size, offset, bytes } = chunk(c, MAX_KERNEL, 'kernel');
  if (e.vm === undefined) {
    const k: NonNullable<Draft['kernel']> = { size, data: new Uint8Array(0), got: [] };
    if (offset === 0 && bytes.length >= 64) {
      const dv = new DataView(bytes.buffer, bytes.byteOffset, 64);
      if (dv.getUint32(0x38, true) === 0x644d5241 && e.osType === 'linux') {
        // arm64 Image header (booting.rst): text_offset at 8, image_size (with BSS) at 16.
        k.textOffset = Number(dv.getBigUint64(8, true) & 0xffffffffn);
        k.imageSize = Number(dv.getBigUint64(16, true) & 0xffffffffn);
      }
    }
    d.kernel = k;
    try {
      build(c.hvc, e, d, (data) => data.set(bytes, offset));
    } catch (err) {
      d.kernel = undefined;
      throw err;
    }
    addRange(k, offset, offset + bytes.length);
    return 0n;
  }
  const vm = e.vm;
  if (d.kernel === undefined || size !== d.kernel.size) fail(`vm ${id}: the kernel was uploaded with size ${d.kernel?.size}, not ${size}`);
  if (vm.state === 'pending' || vm.state === 'active') fail(`vm ${id} "${e.name}" is running: its kernel cannot be replaced`);
  d.kernel.data.set(bytes, offset);
  if (!vm.writeGuest(d.kernelIpa + offset, bytes)) fail(`vm ${id}: kernel chunk ${offset}+${bytes.length} is outside its memory`);
  addRange(d.kernel, offset, offset + bytes.length);
  return 0n;
}

/**
 * The words of HVC_CONFIG_EMULATED_DEVICE's cfg list that mean something for the device type: the
 * call always passes CFG_MAX_NUM, zero-padded, and Rust-Shyper's devices read their own prefix (a
 * console's peer [vm, ipa], a MAC). All zero is no configuration; a peer is VM 0 at an IPA.
 */
function cfgWords(type: string, cfg: bigint[]): bigint[] {
  const used = type === 'EMU_DEVICE_T_VIRTIO_CONSOLE' ? 2 : type === 'EMU_DEVICE_T_VIRTIO_NET' ? 6 : cfg.length;
  const words = cfg.slice(0, used);
  return used === cfg.length || words.some((w) => w !== 0n) ? words : [];
}

export const configHandlers: Record<number, Handler> = {
  [CONFIG.ADD_VM]: {
    name: 'HVC_CONFIG_ADD_VM',
    mvmOnly: true,
    run: (c) => {
      const [nameIpa, , type, cmdlineIpa, , kernelIpa, dtbIpa, ramdiskIpa] = readU64s(c.vm, c.x[0]!, 8n, 8, 'VM config (u64[8])');
      const name = readCString(c.vm, nameIpa!, 255, 'VM name');
      const cmdline = readCString(c.vm, cmdlineIpa!, 4095, 'cmdline');
      if (type! > BigInt(VM_TYPE.FREERTOS)) fail(`VM type ${type} is not 0 (Linux), 1 (bare-metal app) or 2 (FreeRTOS)`);
      if (name.length === 0 || new TextEncoder().encode(name).length > 31) fail(`VM name "${name}" must be 1-31 bytes`);
      if (new TextEncoder().encode(cmdline).length > 2047) fail('cmdline is longer than 2047 bytes');
      const id = c.hvc.freeId();
      if (id < 0) fail('8 VMs exist already (VM_NUM_MAX)');
      const draft: Draft = {
        cmdline,
        kernelIpa: num(kernelIpa!, 'kernel_load_ipa'),
        dtbIpa: num(dtbIpa!, 'device_tree_load_ipa'),
        ramdiskIpa: num(ramdiskIpa!, 'ramdisk_load_ipa'),
        memory: [],
        emulated: [],
        regions: [],
        streamIds: [],
        dtbDevices: [],
      };
      c.hvc.entries.push({ id, name, osType: OS_TYPES[Number(type)]!, draft, runtime: true });
      c.hvc.log(`shyper: vm${id} (${name}) added by the MVM`);
      return BigInt(id);
    },
  },
  [CONFIG.DELETE_VM]: {
    name: 'HVC_CONFIG_DELETE_VM',
    mvmOnly: true,
    run: (c) => {
      const id = num(c.x[0]!, 'vm id');
      const e = c.hvc.entry(id);
      if (e === undefined) fail(`there is no vm ${id}`);
      if (id === 0) fail('vm 0, the MVM, cannot be deleted');
      if (e.vm !== undefined && (e.vm.state === 'pending' || e.vm.state === 'active')) fail(`vm ${id} "${e.name}" is running (HVC_VMM_VM_REMOVE removes it)`);
      if (e.vm !== undefined) {
        c.hvc.vmStopped(e.vm);
        c.hvc.hv.removeVm(e.vm);
      }
      c.hvc.entries.splice(c.hvc.entries.indexOf(e), 1);
      return 0n;
    },
  },
  [CONFIG.CPU]: {
    name: 'HVC_CONFIG_CPU',
    mvmOnly: true,
    run: (c) => {
      const master = BigInt.asIntN(64, c.x[3]!);
      const cpu = { num: small(c.x[1]!, 'cpu num'), allocate_bitmap: num(c.x[2]!, 'cpu bitmap'), master: master < -1n ? -2 : master > 1023n ? 1023 : Number(master) };
      return change(c, c.x[0]!, (d) => {
        const before = d.cpu;
        d.cpu = cpu;
        return () => void (d.cpu = before);
      });
    },
  },
  [CONFIG.MEMORY_REGION]: {
    name: 'HVC_CONFIG_MEMORY_REGION',
    mvmOnly: true,
    run: (c) => {
      const region = { ipa_start: num(c.x[1]!, 'region ipa'), length: num(c.x[2]!, 'region length') };
      return change(c, c.x[0]!, (d) => push(d.memory, region));
    },
  },
  [CONFIG.EMULATED_DEVICE]: {
    name: 'HVC_CONFIG_EMULATED_DEVICE',
    mvmOnly: true,
    run: (c) => {
      draftOf(c.hvc, c.x[0]!);
      const name = readCString(c.vm, c.x[1]!, 255, 'device name');
      const cfg = readU64s(c.vm, c.x[5]!, BigInt(CFG_MAX_NUM), CFG_MAX_NUM, 'device cfg list');
      const typeValue = c.x[6]!;
      const type = Object.keys(EMU_DEVICE_TYPES).find((k) => BigInt(EMU_DEVICE_TYPES[k]!.value) === typeValue);
      if (type === undefined) fail(`emulated device type ${typeValue} is not an EmuDeviceType`);
      const dev = { name, base_ipa: num(c.x[2]!, 'device base'), length: num(c.x[3]!, 'device length'), irq_id: small(c.x[4]!, 'device irq'), cfg_list: cfgWords(type, cfg).map(String), type };
      return change(c, c.x[0]!, (d) => push(d.emulated, dev));
    },
  },
  [CONFIG.PASSTHROUGH_DEVICE_REGION]: {
    name: 'HVC_CONFIG_PASSTHROUGH_DEVICE_REGION',
    mvmOnly: true,
    run: (c) => {
      const region = { ipa: num(c.x[1]!, 'passthrough ipa'), pa: num(c.x[2]!, 'passthrough pa'), length: num(c.x[3]!, 'passthrough length') };
      return change(c, c.x[0]!, (d) => push(d.regions, region));
    },
  },
  [CONFIG.PASSTHROUGH_DEVICE_IRQS]: {
    name: 'HVC_CONFIG_PASSTHROUGH_DEVICE_IRQS',
    mvmOnly: true,
    run: (c) => {
      draftOf(c.hvc, c.x[0]!);
      const irqs = readU64s(c.vm, c.x[1]!, c.x[2]!, MAX_LIST, 'irq list').map((v) => small(v, 'irq'));
      return change(c, c.x[0]!, (d) => {
        if (d.regions.length === 0 && irqs.length > 0) fail('passthrough IRQs need a passthrough region (HVC_CONFIG_PASSTHROUGH_DEVICE_REGION first)');
        const before = d.irqs;
        d.irqs = [...(before ?? []), ...irqs];
        return () => void (d.irqs = before);
      });
    },
  },
  [CONFIG.PASSTHROUGH_DEVICE_STREAMS_IDS]: {
    name: 'HVC_CONFIG_PASSTHROUGH_DEVICE_STREAMS_IDS',
    mvmOnly: true,
    run: (c) => {
      const [, d] = draftOf(c.hvc, c.x[0]!);
      // No SMMU is modelled: the ids are recorded, every one of them.
      d.streamIds.push(...readU64s(c.vm, c.x[1]!, c.x[2]!, MAX_LIST, 'stream id list').map((v) => num(v, 'stream id')));
      return 0n;
    },
  },
  [CONFIG.DTB_DEVICE]: {
    name: 'HVC_CONFIG_DTB_DEVICE',
    mvmOnly: true,
    run: (c) => {
      draftOf(c.hvc, c.x[0]!);
      const name = readCString(c.vm, c.x[1]!, 255, 'dtb device name');
      const type = DTB_TYPES[num(c.x[2]!, 'dtb device type')];
      if (type === undefined) fail(`dtb device type ${c.x[2]} is not a DtbDevType`);
      const irqs = readU64s(c.vm, c.x[3]!, c.x[4]!, MAX_LIST, 'dtb device irq list').map((v) => small(v, 'irq'));
      const dev = { name, type, irq_list: irqs, addr_region_ipa: num(c.x[5]!, 'dtb device ipa'), addr_region_length: num(c.x[6]!, 'dtb device length') };
      return change(c, c.x[0]!, (d) => push(d.dtbDevices, dev));
    },
  },
  [CONFIG.UPLOAD_KERNEL_IMAGE]: {
    name: 'HVC_CONFIG_UPLOAD_KERNEL_IMAGE',
    mvmOnly: true,
    run: uploadKernel,
  },
  [CONFIG.MEMORY_COLOR_BUDGET]: {
    name: 'HVC_CONFIG_MEMORY_COLOR_BUDGET',
    mvmOnly: true,
    run: (c) => {
      const [e, d] = draftOf(c.hvc, c.x[0]!);
      const colors = c.x[1] === 0n ? [] : readU64s(c.vm, c.x[2]!, c.x[1]!, MAX_LIST, 'colour list').map((v) => num(v, 'colour'));
      d.colors = colors;
      d.budget = Number(c.x[3]! & 0xffffffffn);
      c.hvc.log(`shyper: vm${e.id}: memory colours [${colors.join(',')}] budget ${d.budget} recorded (cache colouring is not modelled)`);
      return 0n;
    },
  },
  [CONFIG.UPLOAD_DEVICE_TREE]: {
    name: 'HVC_CONFIG_UPLOAD_DEVICE_TREE',
    mvmOnly: true,
    run: (c) => {
      draftOf(c.hvc, c.x[0]!);
      const { size, offset, bytes } = chunk(c, MAX_DTB, 'device tree');
      return change(c, c.x[0]!, (d) => {
        const before = d.dtb;
        if (d.dtb === undefined || d.dtb.size !== size) d.dtb = { size, data: new Uint8Array(size), got: [] };
        d.dtb.data.set(bytes, offset);
        addRange(d.dtb, offset, offset + bytes.length);
        return () => void (d.dtb = before);
      });
    },
  },
};
