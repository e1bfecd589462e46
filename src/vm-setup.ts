// From VM configs (hypervisor/config.ts) to what the hypervisor builds VMs from (VmSetup): images
// read from their files (.gz decompressed), each Linux VM's device tree generated for it, and the
// devices the program provides (src/vm-devices.ts: console UARTs, virtio-blk/net/console), whose
// console bytes reach the user's terminal through the console multiplexer.
import { readFileSync, statSync } from 'node:fs';
import type { BoardDescription } from '../boards/types.ts';
import type { Console } from '../emulator/devices/console.ts';
import { maybeGunzip } from '../emulator/boot/linux-image.ts';
import { Rng } from '../emulator/rng.ts';
import { ConfigError, type VmConfig } from '../hypervisor/config.ts';
import { BOOT_SEED_BYTES, vmDeviceTree } from '../hypervisor/fdt.ts';
import type { VmSetup } from '../hypervisor/vm.ts';
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
  /** What the VMs' devices share (switch, console peers, disk images); default: one for this VM alone. */
  devices?: VmDeviceHub;
}

export function vmSetup(cfg: VmConfig, o: VmSetupOptions): VmSetup {
  const img = cfg.image;
  const kernel = maybeGunzip(readImage(img.kernelFile, cfg, 'kernel'));
  const initrd = img.ramdiskFile !== undefined ? readImage(img.ramdiskFile, cfg, 'ramdisk') : undefined;
  const linux = cfg.osType === 'linux';
  let dtb: Uint8Array | undefined;
  if (img.dtbFile !== undefined) dtb = readImage(img.dtbFile, cfg, 'device tree');
  else if (linux) {
    const cmdline = cfg.id === 0 && o.append ? `${cfg.cmdline} ${o.append}` : cfg.cmdline;
    const initrdRange = initrd !== undefined && img.ramdiskLoadIpa !== undefined ? { start: img.ramdiskLoadIpa, end: img.ramdiskLoadIpa + initrd.length } : undefined;
    dtb = vmDeviceTree({ ...cfg, cmdline }, o.board, o.gicVersion, { initrd: initrdRange, seed: bootSeed(o.seed, cfg.id) }).encode();
  }
  const devices = vmDevices(cfg, o.board.uarts, { hub: o.devices ?? new VmDeviceHub(), console: o.consoleOf(cfg.id) });
  const passthrough = cfg.passthroughDevices.map((p) => ({ ipa: p.baseIpa, pa: p.basePa, size: Math.ceil(p.length / 4096) * 4096 }));
  const irqs = cfg.passthroughDevices.flatMap((p) => p.irqs);
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
