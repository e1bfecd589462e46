// The devices the program gives each VM from its config (the emulated_device_list entries the
// hypervisor does not model itself): the emulated console UART, virtio-blk backed by a host
// image, virtio-net on the switch between VMs, virtio-console on the VM's terminal line or joined
// to another VM's console. One VmDeviceHub per run holds what VMs share: the network switch, the
// console peers, the open disk images (closed at the end of the run).
import type { UartSpec } from '../boards/types.ts';
import type { Console } from '../emulator/devices/console.ts';
import { DwApbUart } from '../emulator/devices/dw-apb-uart.ts';
import { Pl011 } from '../emulator/devices/pl011.ts';
import type { MmioDevice } from '../emulator/bus/device.ts';
import { type BlockBackend, DiskImageError, openDiskImage, WindowBackend } from '../emulator/devices/virtio/block-backend.ts';
import { SECTOR, VirtioBlk } from '../emulator/devices/virtio/blk.ts';
import { VirtioConsole } from '../emulator/devices/virtio/console.ts';
import { VirtioNet } from '../emulator/devices/virtio/net.ts';
import { VirtioMmio } from '../emulator/devices/virtio/mmio.ts';
import type { VirtioDevice } from '../emulator/devices/virtio/device.ts';
import { ConfigError, type EmulatedDevice, type VmConfig } from '../hypervisor/config.ts';
import { ConsolePeers } from '../hypervisor/devices/console-peer.ts';
import { NetSwitch } from '../hypervisor/devices/net-switch.ts';
import { VmGuestMemory } from '../hypervisor/guest-memory.ts';
import type { MmioHandler } from '../hypervisor/mmio.ts';
import type { EmulatedDeviceSpec, IrqSink } from '../hypervisor/vm.ts';
import { basename } from 'node:path';
import { Gateway } from '../emulator/net/gateway.ts';
import type { MediatedBlk } from '../hypervisor/devices/mediated-blk.ts';
import { VirtioBlkMediated } from './virtio-blk-mediated.ts';

export class VmDeviceHub {
  readonly netSwitch = new NetSwitch();
  readonly consoles = new ConsolePeers();
  /** Every virtio transport built, by name ("vm1.virtio-blk@a000000"): tests, the debugger. */
  readonly transports = new Map<string, VirtioMmio>();
  /** virtio-net models by name. */
  readonly nics = new Map<string, VirtioNet>();
  private readonly images = new Map<string, BlockBackend>();
  private readonly noted = new Set<string>();

  /** The hypervisor's mediated disk service (the hypercall module's), once the run has one. */
  mediated: MediatedBlk | undefined;
  /** Mediated disk index of each mediated virtio-blk ("vmId:name"), in the order they were built. */
  private readonly mediatedIndexes = new Map<string, number>();

  /** The user network's gateway on the switch (--net user), once attached. */
  gateway: Gateway | null = null;

  constructor(readonly log: (line: string) => void = (line) => process.stderr.write(line + '\n')) {}

  /** --net user: the gateway at 10.0.2.2 (a new one, or `gw`) becomes a station on the switch between the VMs. */
  attachGateway(gw = new Gateway()): Gateway {
    if (this.gateway === null) {
      gw.send = this.netSwitch.attach(gw.mac, gw);
      this.gateway = gw;
    }
    return this.gateway;
  }

  /** The disk of a virtio-blk device: its image opened once per run and mode, the window of it the VM sees. */
  disk(vm: VmConfig, d: EmulatedDevice): BlockBackend {
    const k = d.disk!;
    const key = `${k.readOnly ? 'ro' : 'rw'}:${k.image}`;
    let base = this.images.get(key);
    if (base === undefined) {
      try {
        const { backend, note } = openDiskImage(k.image, k.readOnly);
        base = backend;
        if (note !== undefined && !this.noted.has(k.image)) {
          this.noted.add(k.image);
          this.log(`shyper-emu: ${note}`);
        }
      } catch (e) {
        if (e instanceof DiskImageError) throw new ConfigError(`vm ${vm.id} "${vm.name}": emulated device "${d.name}": ${e.message}`);
        throw e;
      }
      this.images.set(key, base);
    }
    const start = k.startSector * SECTOR;
    const size = k.sectors === undefined ? Math.floor((base.size - start) / SECTOR) * SECTOR : k.sectors * SECTOR;
    if (start + size > base.size) throw new ConfigError(`vm ${vm.id} "${vm.name}": emulated device "${d.name}": the window runs past the end of ${k.image}`);
    return new WindowBackend(base, start, size, k.readOnly);
  }

  /** Rust-Shyper gives each mediated virtio-blk a free mediated disk index: the next one, kept for the run. */
  mediatedIndex(vmId: number, name: string): number {
    const key = `${vmId}:${name}`;
    let i = this.mediatedIndexes.get(key);
    if (i === undefined) this.mediatedIndexes.set(key, (i = this.mediatedIndexes.size));
    return i;
  }

  /** Closes the disk images (flushing what was written); call once at the end of the run. */
  close(): void {
    for (const b of this.images.values()) {
      try {
        b.close();
      } catch (e) {
        this.log(`shyper-emu: closing a disk: ${(e as Error).message}`);
      }
    }
    this.images.clear();
  }
}

export interface VmDeviceOptions {
  hub: VmDeviceHub;
  /** The VM's terminal line (the console multiplexer's console for the VM). */
  console: Console;
}

/** The emulated devices the program provides for one VM (the vGIC and vm_service are the hypervisor's). */
export function vmDevices(cfg: VmConfig, uarts: readonly UartSpec[], o: VmDeviceOptions): EmulatedDeviceSpec[] {
  const { hub } = o;
  const con = cfg.console;
  const specs: EmulatedDeviceSpec[] = [];
  const at = (d: EmulatedDevice): string => `vm${cfg.id}.${d.name}@${d.baseIpa.toString(16)}`;
  for (const d of cfg.emulatedDevices) {
    const isConsole = con !== undefined && con.kind !== 'passthrough' && con.device === d.name;
    switch (d.type) {
      case 'console': {
        // An emulated UART of the board's model. The VM's console has the keyboard; another one
        // (an earlycon beside hvc0) shows its output on the VM's line and reads nothing.
        const uart = uarts.find((u) => u.base === d.baseIpa) ?? uarts[0]!;
        const line = isConsole ? o.console : outputOnly(o.console);
        specs.push({
          name: `${d.name} (emulated ${uart.kind})`,
          base: d.baseIpa,
          size: Math.max(uart.size, uart.kind === 'pl011' ? 0x1000 : 0x100),
          irq: d.irq,
          create: (irq) => mmioHandler(emulatedUart(uart, line, irq, `vm${cfg.id}.${d.name}`)),
        });
        break;
      }
      case 'virtio-console': {
        // The VM's console (hvc0) is its terminal line, and in peer mode joined to the peer as
        // well; another virtio-console is joined to its peer, or shows its output on the line.
        const endpoint = hub.consoles.endpoint({
          vm: cfg.id,
          ipa: d.baseIpa,
          terminal: isConsole || d.peer === undefined ? o.console : undefined,
          keyboard: isConsole,
          peer: d.peer,
        });
        specs.push(virtio(hub, at(d), d, new VirtioConsole({ console: endpoint })));
        break;
      }
      case 'virtio-blk':
        specs.push(virtio(hub, at(d), d, new VirtioBlk({ backend: hub.disk(cfg, d), serial: basename(d.disk!.image) })));
        break;
      case 'virtio-net': {
        const nic = new VirtioNet({ mac: Uint8Array.from(d.mac!) });
        const name = `vm${cfg.id}.${d.name}`;
        try {
          const transmit = hub.netSwitch.attach(nic.mac, { name, receive: (frame) => nic.receive(frame) });
          nic.backend = { transmit };
        } catch (e) {
          throw new ConfigError(`vm ${cfg.id} "${cfg.name}": emulated device "${d.name}": ${(e as Error).message}`);
        }
        hub.nics.set(name, nic);
        specs.push(virtio(hub, at(d), d, nic));
        break;
      }
      case 'virtio-blk-mediated': {
        // Served by the MVM's daemon through the hypervisor (hypervisor/devices/mediated-blk.ts).
        const dev = new VirtioBlkMediated({
          index: hub.mediatedIndex(cfg.id, d.name),
          startSector: d.cfg[0]!,
          sectors: d.cfg[1]!,
          name: at(d),
          service: () => hub.mediated,
        });
        const spec = virtio(hub, at(d), d, dev);
        specs.push({
          ...spec,
          create: (irq, vm) => {
            dev.bind(vm);
            const h = spec.create(irq, vm);
            // The device needs to know which vCPU notified (a synchronous request keeps it waiting).
            return { ...h, write: (off, size, v, vcpu) => ((dev.vcpu = vcpu), h.write(off, size, v, vcpu)) };
          },
        });
        break;
      }
      default:
        break; // gicd, gicr, gppt, shyper: the hypervisor's own
    }
  }
  return specs;
}

/** VendorID Rust-Shyper's virtio-mmio transport reports. */
export const SHYPER_VIRTIO_VENDOR = 0x8888;

export interface VirtioSpecOptions {
  /** Name in the VM's region list and in log lines, e.g. "vm1.vda@a000000". */
  name: string;
  base: number;
  size: number;
  /** INTID (an SPI) the VM sees. */
  irq: number;
  device: VirtioDevice;
  /** Where a device error goes (one line: the transport names the device). */
  log: (line: string) => void;
  /** The transport, once the VM is built (tests, the debugger). */
  onCreate?: (t: VirtioMmio) => void;
}

/**
 * A virtio-mmio device in a VM (Rust-Shyper src/device/virtio/mmio.rs): the transport of
 * emulator/devices/virtio over the VM's guest-physical memory (VmGuestMemory: the VM's own RAM
 * only), its register window trapped as emulated MMIO, its interrupt a level line into the VM's
 * vGIC. Rust-Shyper injects it into vCPU 0; here the vGIC delivers the SPI where the guest routed
 * it (GICD_IROUTER / ITARGETSR), which is vCPU 0 unless the guest moved it.
 */
export function virtioSpec(o: VirtioSpecOptions): EmulatedDeviceSpec {
  return {
    name: o.name,
    base: o.base,
    size: o.size,
    irq: o.irq,
    create: (irq, vm) => {
      const t = new VirtioMmio({
        device: o.device,
        memory: new VmGuestMemory(vm),
        irq: { set: (level) => irq?.set(level) },
        name: o.name,
        vendorId: SHYPER_VIRTIO_VENDOR,
        log: o.log,
      });
      o.onCreate?.(t);
      return mmioHandler(t);
    },
  };
}

function virtio(hub: VmDeviceHub, name: string, d: EmulatedDevice, device: VirtioDevice): EmulatedDeviceSpec {
  return virtioSpec({ name, base: d.baseIpa, size: d.length, irq: d.irq, device, log: hub.log, onCreate: (t) => hub.transports.set(name, t) });
}

/** An emulator MMIO device (a UART model, a virtio-mmio transport) as a VM's emulated region; 8-byte accesses as two words. */
export function mmioHandler(d: MmioDevice & { reset?(): void }): MmioHandler {
  return {
    read: (off, size) => {
      if (size === 8) return BigInt(d.read(off, 4) >>> 0) | (BigInt(d.read(off + 4, 4) >>> 0) << 32n);
      return BigInt(d.read(off, size as 1 | 2 | 4) >>> 0);
    },
    write: (off, size, v) => {
      if (size === 8) {
        d.write(off, 4, Number(v & 0xffffffffn));
        d.write(off + 4, 4, Number(v >> 32n));
      } else d.write(off, size as 1 | 2 | 4, Number(v & 0xffffffffn));
    },
    reset: d.reset ? () => d.reset!() : undefined,
  };
}

/** A view of a console that shows output and never has input. */
function outputOnly(c: Console): Console {
  return {
    write: (b) => c.write(b),
    read: () => -1,
    hasInput: () => false,
    setInputListener: () => {},
  };
}

/** A UART of the board's model, emulated for one VM (the hypervisor traps its register window). */
function emulatedUart(u: UartSpec, console: Console, irq: IrqSink | null, name: string): MmioDevice & { reset(): void } {
  const line = { set: (level: boolean) => irq?.set(level) };
  if (u.kind === 'pl011') return new Pl011({ console, irq: line, name });
  return new DwApbUart({ console, irq: line, regShift: u.regShift as 0 | 2, fifoDepth: u.kind === 'dw-apb-uart' ? 64 : 16, designware: u.kind === 'dw-apb-uart', name });
}
