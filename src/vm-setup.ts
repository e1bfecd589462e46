// From VM configs (hypervisor/config.ts) to what the hypervisor builds VMs from (VmSetup): images
// read from their files (.gz decompressed), each Linux VM's device tree generated for it, and the
// devices the program provides — the emulated console UART of a GVM, whose bytes reach the
// user's terminal through the console multiplexer.
import { readFileSync, statSync } from 'node:fs';
import type { BoardDescription, UartSpec } from '../boards/types.ts';
import type { Console } from '../emulator/devices/console.ts';
import { DwApbUart } from '../emulator/devices/dw-apb-uart.ts';
import { Pl011 } from '../emulator/devices/pl011.ts';
import type { MmioDevice } from '../emulator/bus/device.ts';
import { maybeGunzip } from '../emulator/boot/linux-image.ts';
import { Rng } from '../emulator/rng.ts';
import { ConfigError, type VmConfig } from '../hypervisor/config.ts';
import { BOOT_SEED_BYTES, vmDeviceTree } from '../hypervisor/fdt.ts';
import type { EmulatedDeviceSpec, IrqSink, VmSetup } from '../hypervisor/vm.ts';
import type { MmioHandler } from '../hypervisor/mmio.ts';

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
  const devices: EmulatedDeviceSpec[] = [];
  const con = cfg.console;
  if (con?.kind === 'emulated' && con.uart !== undefined) {
    const uart = con.uart;
    devices.push({
      name: `${con.device} (emulated ${uart.kind})`,
      base: con.ipa,
      size: Math.max(uart.size, uart.kind === 'pl011' ? 0x1000 : 0x100),
      irq: con.irq,
      create: (irq) => mmioHandler(emulatedUart(uart, o.consoleOf(cfg.id), irq, `vm${cfg.id}.${con.device}`)),
    });
  }
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

/** A UART of the board's model, emulated for one VM (the hypervisor traps its register window). */
function emulatedUart(u: UartSpec, console: Console, irq: IrqSink | null, name: string): MmioDevice {
  const line = { set: (level: boolean) => irq?.set(level) };
  if (u.kind === 'pl011') return new Pl011({ console, irq: line, name });
  return new DwApbUart({ console, irq: line, regShift: u.regShift as 0 | 2, fifoDepth: u.kind === 'dw-apb-uart' ? 64 : 16, designware: u.kind === 'dw-apb-uart', name });
}

/** An emulator MMIO device as a hypervisor MMIO handler (8-byte accesses as two words). */
function mmioHandler(d: MmioDevice): MmioHandler {
  return {
    read: (off, size) => {
      if (size === 8) return BigInt(d.read(off, 4) >>> 0) | (BigInt(d.read(off + 4, 4) >>> 0) << 32n);
      return BigInt(d.read(off, size as 1 | 2 | 4) >>> 0);
    },
    write: (off, size, v) => {
      if (size === 8) {
        d.write(off, 4, Number(v & 0xffffffffn));
        d.write(off + 4, 4, Number(v >> 32n));
      } else d.write(off, size as 1 | 2 | 4, Number(v));
    },
  };
}
