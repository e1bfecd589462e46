// From VM configs (hypervisor/config.ts) to what the hypervisor builds VMs from (VmSetup): images
// read from their files (.gz decompressed), each Linux VM's device tree generated for it, and the
// devices the program provides (src/vm-devices.ts: console UARTs, virtio-blk/net/console), whose
// console bytes reach the user's terminal through the console multiplexer.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BoardDescription } from '../boards/types.ts';
import type { Console } from '../emulator/devices/console.ts';
import { ImageError, isGzip, maybeGunzip, parseImageHeader } from '../emulator/boot/linux-image.ts';
import { Rng } from '../emulator/rng.ts';
import { ConfigError, type VmConfig } from '../hypervisor/config.ts';
import { BOOT_SEED_BYTES, vmDeviceTree } from '../hypervisor/fdt.ts';
import type { VmSetup } from '../hypervisor/vm.ts';
import type { RuntimeImages } from '../hypervisor/hvc/index.ts';
import { SHARED_MEM_SIZE } from '../hypervisor/hvc/ivc.ts';
import { VmDeviceHub, vmDevices } from './vm-devices.ts';

/** Largest image file read whole (a kernel, an initramfs): bigger is a user error, not a hang. */
const MAX_IMAGE_BYTES = 1 << 30;

export interface VmSetupOptions {
  board: BoardDescription;
  gicVersion: 2 | 3;
  /** The console each VM's UART talks to. */
  consoleOf(vmId: number): Console;
  /** Added to VM 0's command line (--append). */
  append?: string;
  /** --seed: each VM's boot entropy derives from it. */
  seed: bigint;
  /** Host PA of the IVC shared memory (hypervisor/hvc/ivc.ts), mapped at a shyper device's window. */
  sharedMemoryPa?: () => number;
  /** What the VMs' devices share (switch, console peers, disk images); default: one for this VM alone. */
  devices?: VmDeviceHub;
}

/**
 * The setup of one VM. Its images are read from the config's files, unless given (a VM the MVM
 * configured with hypercalls: the bytes it uploaded, the built-in ramdisk).
 */
export function vmSetup(cfg: VmConfig, o: VmSetupOptions, images?: RuntimeImages): VmSetup {
  const img = cfg.image;
  const linux = cfg.osType === 'linux';
  let kernel: Uint8Array;
  try {
    kernel = images ? images.kernel : readKernel(img.kernelFile, cfg);
    // A Linux VM's kernel file must be an arm64 Image (booting.rst header) that fits the VM's
    // memory, as --native checks (it may have replaced the config's kernel: --kernel).
    if (linux && !images) {
      const hdr = parseImageHeader(kernel);
      const end = Math.max(...cfg.memory.map((r) => r.ipa + r.length));
      if (img.kernelLoadIpa + hdr.textOffset + hdr.imageSize > end) {
        const mib = Math.floor(cfg.memory.reduce((n, r) => n + r.length, 0) / 2 ** 20);
        throw new ImageError(`${hdr.imageSize} bytes at text_offset ${hdr.textOffset} do not fit in ${mib} MiB of RAM`);
      }
    }
  } catch (e) {
    if (e instanceof ImageError) throw new ConfigError(`vm ${cfg.id} "${cfg.name}": kernel '${img.kernelFile}': ${e.message}`);
    throw e;
  }
  const initrd = images ? images.initrd : img.ramdiskFile !== undefined ? readImage(img.ramdiskFile, cfg, 'ramdisk') : undefined;
  let dtb: Uint8Array | undefined;
  if (images?.dtb !== undefined) dtb = images.dtb;
  else if (img.dtbFile !== undefined && !images) dtb = readImage(img.dtbFile, cfg, 'device tree');
  else if (linux) {
    const cmdline = cfg.id === 0 && o.append ? `${cfg.cmdline} ${o.append}` : cfg.cmdline;
    const initrdRange = initrd !== undefined && img.ramdiskLoadIpa !== undefined ? { start: img.ramdiskLoadIpa, end: img.ramdiskLoadIpa + initrd.length } : undefined;
    dtb = vmDeviceTree({ ...cfg, cmdline }, o.board, o.gicVersion, { initrd: initrdRange, seed: bootSeed(o.seed, cfg.id) }).encode();
  }
  const devices = vmDevices(cfg, o.board.uarts, { hub: o.devices ?? new VmDeviceHub(), console: o.consoleOf(cfg.id) });
  const passthrough: VmSetup['passthrough'] = cfg.passthroughDevices.map((p) => ({ ipa: p.baseIpa, pa: p.basePa, size: Math.ceil(p.length / 4096) * 4096 }));
  const irqs = cfg.passthroughDevices.flatMap((p) => p.irqs);
  // The shyper (vm_service) device: HVC_IRQ, and the IVC shared memory at its window if it has one.
  const virqs: number[] = [];
  for (const d of cfg.emulatedDevices) {
    if (d.type !== 'shyper') continue;
    if (d.irq) virqs.push(d.irq);
    if (d.baseIpa && d.length && o.sharedMemoryPa) {
      passthrough.push({ ipa: d.baseIpa, pa: o.sharedMemoryPa(), size: Math.min(SHARED_MEM_SIZE, Math.ceil(d.length / 4096) * 4096), normal: true });
    }
  }
  return {
    id: cfg.id,
    name: cfg.name,
    kind: cfg.kind,
    bareMetal: !linux,
    pcpus: cfg.cpu.pcpus,
    memory: cfg.memory.map((r) => ({ ipa: r.ipa, size: r.length })),
    kernel: { data: kernel, ipa: img.kernelLoadIpa },
    entry: img.entryPoint,
    dtb: dtb !== undefined ? { data: dtb, ipa: img.dtbLoadIpa } : undefined,
    initrd: initrd !== undefined && img.ramdiskLoadIpa !== undefined ? { data: initrd, ipa: img.ramdiskLoadIpa } : undefined,
    passthrough,
    irqs,
    devices,
    virqs,
    gicPassthrough: cfg.gicPassthrough,
  };
}

/** Per-VM boot entropy (rng-seed, then kaslr-seed): the --seed generator's stream for that VM. */
function bootSeed(seed: bigint, vmId: number): Uint8Array {
  const rng = new Rng(seed, `vm${vmId}.chosen`);
  const out = rng.bytes(BOOT_SEED_BYTES - 8);
  const k = new Uint8Array(BOOT_SEED_BYTES);
  k.set(out);
  new DataView(k.buffer).setBigUint64(BOOT_SEED_BYTES - 8, rng.nextU64());
  return k;
}

/** What the launcher offers (bin/prefetch.js offerKernelCache): its kernel cache. */
interface KernelCache {
  read(path: string): Uint8Array | null;
  keep(path: string, out: Uint8Array): void;
}
const KERNEL_CACHE_KEY = Symbol.for('shyper-emu.kernel-cache');

/**
 * A VM's kernel file, decompressed: a gzip kernel through the launcher's kernel cache when there
 * is one (the decompressed copy an earlier run kept, read as it is; else kept for the next run).
 */
function readKernel(path: string, cfg: VmConfig): Uint8Array {
  const cache = (globalThis as unknown as Record<symbol, KernelCache | undefined>)[KERNEL_CACHE_KEY];
  const copy = cache?.read(resolve(path)) ?? null;
  if (copy !== null) return new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength);
  const bytes = readImage(path, cfg, 'kernel');
  if (!isGzip(bytes)) return bytes;
  const out = maybeGunzip(bytes);
  cache?.keep(resolve(path), out);
  return out;
}

function readImage(path: string, cfg: VmConfig, what: string): Uint8Array {
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new ConfigError(`vm ${cfg.id} "${cfg.name}": ${what} '${path}' is not a regular file`);
    if (st.size > MAX_IMAGE_BYTES) throw new ConfigError(`vm ${cfg.id} "${cfg.name}": ${what} '${path}' is larger than 1 GiB`);
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`vm ${cfg.id} "${cfg.name}": ${what} '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
