import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { boards } from '../../boards/index.ts';
import { MiB } from '../../boards/types.ts';
import { ConfigError, defaultVmSet, HYPERVISOR_RESERVED, loadVmConfig, vmpidr, type VmConfig, type VmConfigOptions } from '../../hypervisor/config.ts';

const GUESTS = fileURLToPath(new URL('../../guests/', import.meta.url));
const KERNEL = join(GUESTS, 'Image.gz');
const INITRD = join(GUESTS, 'initramfs.cpio.gz');
const DISK = join(GUESTS, 'disk.ext2.gz');
const virt = boards['qemu-virt']!;
const rk3588 = boards.rk3588!;

type Json = Record<string, any>;

/** A two-VM qemu-virt set: MVM with the PL011 on core 0, a GVM on cores 1-2. */
function base(): Json[] {
  const image = (at: number): Json => ({
    kernel_filename: KERNEL,
    kernel_load_ipa: `0x${(at + 0x200000).toString(16)}`,
    kernel_entry_point: `0x${(at + 0x200000).toString(16)}`,
    device_tree_load_ipa: `0x${at.toString(16)}`,
    ramdisk_filename: INITRD,
    ramdisk_load_ipa: `0x${(at + 0x1000000).toString(16)}`,
  });
  return [
    {
      name: 'mvm',
      type: 'VM_T_LINUX',
      cmdline: 'console=ttyAMA0',
      image: image(0x40000000),
      memory: { region: [{ ipa_start: '0x40000000', length: '0x8000000' }] },
      cpu: { num: 1, allocate_bitmap: '0b0001', master: 0 },
      passthrough_device_list: [{ name: 'pl011', base_pa: '0x9000000', base_ipa: '0x9000000', length: '0x1000', irq_list: [33] }],
    },
    {
      name: 'guest1',
      type: 'VM_T_LINUX',
      cmdline: 'console=ttyAMA0',
      image: image(0x40000000),
      memory: { region: [{ ipa_start: '0x40000000', length: '0x8000000' }] },
      cpu: { num: 2, allocate_bitmap: '0b0110', master: 1 },
      emulated_device_list: [
        { name: 'uart', base_ipa: '0x9000000', length: '0x1000', irq_id: 33, type: 'EMU_DEVICE_T_CONSOLE' },
        { name: 'vm_service', base_ipa: '0', length: '0', irq_id: 64, type: 'EMU_DEVICE_T_SHYPER' },
      ],
    },
  ];
}

function write(cfg: unknown, text?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hvconfig-'));
  const path = join(dir, 'vms.json');
  writeFileSync(path, text ?? JSON.stringify(cfg, null, 2));
  return path;
}

function load(cfg: unknown, opts: VmConfigOptions = {}): VmConfig[] {
  return loadVmConfig(write(cfg), virt, { label: 'vms.json', ...opts });
}

function error(cfg: unknown, opts: VmConfigOptions = {}, text?: string): string {
  try {
    loadVmConfig(write(cfg, text), virt, { label: 'vms.json', ...opts });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('no ConfigError');
}

describe('default VM sets (boards/vms)', () => {
  for (const b of Object.values(boards)) {
    for (const gic of b.gic.versions) {
      it(`${b.name} GICv${gic}: three Linux VMs on distinct cores, within RAM - 16 MiB, each with a console`, () => {
        const all = defaultVmSet(b, { gicVersion: gic });
        // rk3588's set also has VM3, the RTVM (its own test below).
        expect(all.map((v) => [v.id, v.kind])).toEqual(b.name === 'rk3588' ? [[0, 'mvm'], [1, 'gvm'], [2, 'gvm'], [3, 'rtvm']] : [[0, 'mvm'], [1, 'gvm'], [2, 'gvm']]);
        const cores = all.flatMap((v) => v.cpu.pcpus);
        expect(new Set(cores).size).toBe(cores.length);
        const total = all.flatMap((v) => v.memory).reduce((s, m) => s + m.length, 0);
        expect(total).toBeLessThanOrEqual(b.memory.defaultSize - HYPERVISOR_RESERVED);
        const vms = all.filter((v) => v.kind !== 'rtvm');
        for (const v of vms) {
          expect(v.memory.every((m) => m.length <= 256 * MiB)).toBe(true);
          expect(v.osType).toBe('linux');
          expect(v.image.kernelFile).toBe(KERNEL);
          expect(v.image.ramdiskFile).toBe(INITRD);
          if (v.kind === 'mvm') {
            // The MVM: the board's UART passed through, the board's command line.
            expect(v.cmdline).toBe(b.defaultCmdline);
            expect(v.console?.kind).toBe('passthrough');
            expect(v.console?.uart).toBe(b.uarts[0]);
            expect(v.console?.ipa).toBe(b.uarts[0]!.base);
            expect(v.console?.irq).toBe(32 + b.uarts[0]!.spi);
          } else {
            // A GVM: hvc0 (virtio-console) is the console; an emulated UART at the board's
            // address, on the board's SPI, takes the earlycon messages before it.
            expect(v.cmdline).toMatch(/^earlycon=\S+ console=hvc0$/);
            expect(v.cmdline).toContain(b.uarts[0]!.base.toString(16));
            expect(v.console).toMatchObject({ kind: 'virtio', device: 'hvc0' });
            expect(v.console?.uart).toBeUndefined();
            const uart = v.emulatedDevices.find((d) => d.type === 'console')!;
            expect([uart.baseIpa, uart.irq]).toEqual([b.uarts[0]!.base, 32 + b.uarts[0]!.spi]);
          }
          expect(v.emulatedDevices.filter((d) => d.type === 'gicr').length).toBe(gic === 3 ? 1 : 0);
          expect(v.emulatedDevices.some((d) => d.type === 'gicd' && d.baseIpa === b.gic.distBase)).toBe(true);
          expect(v.emulatedDevices.some((d) => d.type === 'shyper')).toBe(true);
        }
      });
    }
  }

  it('rk3588: VM3 is the RTVM, the bare-metal latency guest alone on A76 core 7 with the GIC passed through', () => {
    const rt = defaultVmSet(rk3588)[3]!;
    expect([rt.id, rt.name, rt.kind, rt.osType, rt.gicPassthrough]).toEqual([3, 'rtvm', 'rtvm', 'bma', true]);
    expect(rt.cpu.pcpus).toEqual([7]);
    expect(rt.cpu.affinities).toEqual([0x700]); // its core's physical MPIDR (hypervisor/rt.ts)
    expect(rt.image.kernelFile).toMatch(/guests\/rtvm\/rtvm-rk3588\.bin$/);
    expect(rt.emulatedDevices.map((d) => d.type)).toEqual(['console']); // no vGICD/vGICR
    expect(rt.console).toMatchObject({ kind: 'emulated', ipa: 0xfeb50000 });
  });

  it('rk3588: MVM on core 0 with UART2, GVMs on A76 cores 4-5 and 6, MPIDR Aff1 = vCPU', () => {
    const [mvm, g1, g2] = defaultVmSet(rk3588);
    expect(mvm!.cpu).toMatchObject({ num: 1, bitmap: 0b1, pcpus: [0], affinities: [0] });
    expect(mvm!.passthroughDevices).toEqual([{ name: 'uart2', basePa: 0xfeb50000, baseIpa: 0xfeb50000, length: 0x1000, irqs: [365], uart: rk3588.uarts[0] }]);
    expect(g1!.cpu).toMatchObject({ num: 2, bitmap: 0b110000, master: 4, pcpus: [4, 5], affinities: [0x000, 0x100] });
    expect(g2!.cpu).toMatchObject({ num: 1, pcpus: [6] });
    expect(rk3588.cpus[4]!.core).toBe('cortex-a76');
    expect(vmpidr(rk3588, 1)).toBe(0x8100_0100);
    expect(vmpidr(virt, 1)).toBe(0x8000_0001);
    // Host RAM: first fit above the hypervisor's 16 MiB, in VM order.
    expect([mvm, g1, g2].map((v) => v!.memory.map((m) => [m.ipa, m.length, m.pa]))).toEqual([
      [[0x10000000, 256 * MiB, 0x01000000]],
      [[0x10000000, 256 * MiB, 0x11000000]],
      [[0x10000000, 256 * MiB, 0x21000000]],
    ]);
    const gicr = g1!.emulatedDevices.find((d) => d.type === 'gicr')!;
    expect(gicr).toMatchObject({ baseIpa: 0xfe680000, length: 2 * 0x20000, implicit: true });
  });
});

describe('loading and normalisation (Rust-Shyper set_cpu_cfg, Vm::new)', () => {
  it('reads hex strings and numbers alike, resolves images beside the file', () => {
    const cfg = base();
    cfg[0]!.memory.region[0] = { ipa_start: 0x40000000, length: 128 * MiB };
    cfg[0]!.cpu.allocate_bitmap = 1;
    const dir = mkdtempSync(join(tmpdir(), 'hvconfig-'));
    mkdirSync(join(dir, 'img'));
    writeFileSync(join(dir, 'img', 'Image'), new Uint8Array(4096));
    cfg[1]!.type = 'VM_T_BARE_MATEL_APP';
    cfg[1]!.image = { kernel_filename: 'img/Image', kernel_load_ipa: '0x40000000', kernel_entry_point: '0x40000800', device_tree_load_ipa: '0x41000000', ramdisk_load_ipa: '0' };
    writeFileSync(join(dir, 'vms.json'), JSON.stringify(cfg));
    const vms = loadVmConfig(join(dir, 'vms.json'), virt);
    expect(vms[0]!.memory[0]).toEqual({ ipa: 0x40000000, length: 128 * MiB, pa: 0x41000000 });
    expect(vms[0]!.cpu.bitmap).toBe(1);
    expect(vms[1]!.osType).toBe('bma');
    expect(vms[1]!.image).toEqual({ kernelFile: join(dir, 'img', 'Image'), kernelLoadIpa: 0x40000000, entryPoint: 0x40000800, dtbLoadIpa: 0x41000000 });
  });

  it('num is lowered to the bitmap population, with a warning', () => {
    const cfg = base();
    cfg[1]!.cpu = { num: 3, allocate_bitmap: '0b0110' };
    const warnings: string[] = [];
    const vms = load(cfg, { onWarning: (m) => warnings.push(m) });
    expect(vms[1]!.cpu).toMatchObject({ num: 2, bitmap: 0b0110, pcpus: [1, 2] });
    expect(warnings).toEqual(['vms.json: vm 1 "guest1": cpu.num: 3 lowered to 2, the number of cores in allocate_bitmap (as Rust-Shyper does)']);
  });

  it('the bitmap keeps its lowest num set bits; a master whose bit went is dropped', () => {
    const cfg = base();
    cfg[1]!.cpu = { num: 1, allocate_bitmap: '0b0110', master: 2 };
    const warnings: string[] = [];
    const vms = load(cfg, { onWarning: (m) => warnings.push(m) });
    expect(vms[1]!.cpu).toMatchObject({ num: 1, bitmap: 0b0010, master: undefined, pcpus: [1] });
    expect(warnings[0]).toMatch(/cpu\.master: core 2 is not among the cores kept \(1\), dropped/);
  });

  it('pCPU list: master first, then the other cores ascending', () => {
    const cfg = base();
    cfg[1]!.cpu = { num: 3, allocate_bitmap: '0b1110', master: 3 };
    expect(load(cfg)[1]!.cpu.pcpus).toEqual([3, 1, 2]);
    cfg[1]!.cpu = { num: 3, allocate_bitmap: 14, master: -1 };
    expect(load(cfg)[1]!.cpu.pcpus).toEqual([1, 2, 3]);
  });

  it("accepts Rust-Shyper's own nesting and count keys (vm1_config_console.json shape)", () => {
    const cfg = base();
    const g = cfg[1]!;
    g.emulated_device = {
      num: 4, // Rust-Shyper's file says 4 and lists 2: counts are ignored as its CLI ignores them
      emulated_device_list: [
        { name: 'intc@8000000', base_ipa: '0x8000000', length: '0x10000', irq_id: 0, type: 'EMU_DEVICE_T_GICD' },
        { name: 'virtio_net@a001000', base_ipa: '0xa001000', length: '0x1000', irq_id: 49, cfg_num: 6, cfg_list: ['0x74', '0x56', '0xaa', '0x0f', '0x47', '0xd1'], type: 'EMU_DEVICE_T_VIRTIO_NET' },
      ],
    };
    delete g.emulated_device_list;
    g.memory.num = 1;
    g.dtb_device = { num: 3, dtb_device_list: [{ name: 'gicd', type: 'DTB_DEVICE_T_GICD', irq_num: 0, irq_list: [], addr_region_ipa: '0x8000000', addr_region_length: '0x10000' }] };
    g.image.device_tree_filename = '-';
    const vm = load(cfg)[1]!;
    expect(vm.emulatedDevices.map((d) => d.type)).toEqual(['gicd', 'gicr', 'virtio-net']);
    expect(vm.emulatedDevices.find((d) => d.type === 'virtio-net')!.cfg).toEqual([0x74, 0x56, 0xaa, 0x0f, 0x47, 0xd1]);
    expect(vm.dtbDevices).toEqual([{ name: 'gicd', type: 'gicd', irqs: [], ipa: 0x8000000, length: 0x10000 }]);
    expect(vm.image.dtbFile).toBeUndefined();
    expect(vm.console).toBeUndefined();
  });

  it('cores may be shared when both VMs opt in', () => {
    const cfg = base();
    cfg[1]!.cpu = { num: 2, allocate_bitmap: '0b0011', shared: true };
    cfg[0]!.cpu.shared = true;
    expect(load(cfg)[1]!.cpu.pcpus).toEqual([0, 1]);
  });

  it('explicit ids, the rest take the lowest free id', () => {
    const cfg = [...base(), { ...base()[1]!, name: 'guest2', cpu: { num: 1, allocate_bitmap: '0b1000' } }];
    cfg[1]!.id = 5;
    expect(load(cfg).map((v) => v.id)).toEqual([0, 5, 1]);
  });

  it('the console: a named device, virtio-console as hvc0', () => {
    const cfg = base();
    cfg[1]!.emulated_device_list.push({ name: 'hvc', base_ipa: '0xa000000', length: '0x200', irq_id: 48, type: 'EMU_DEVICE_T_VIRTIO_CONSOLE' });
    cfg[1]!.console = 'hvc';
    expect(load(cfg)[1]!.console).toEqual({ kind: 'virtio', device: 'hvc', ipa: 0xa000000, irq: 48 });
  });

  it('without a console key, a cmdline ending in console=hvcN names the N-th virtio-console (a VM the MVM configures)', () => {
    const cfg = base();
    const hvc = (n: number) => ({ name: `hvc${n}`, base_ipa: `0x${(0xa000000 + n * 0x1000).toString(16)}`, length: '0x200', irq_id: 48 + n, type: 'EMU_DEVICE_T_VIRTIO_CONSOLE' });
    cfg[1]!.emulated_device_list.push(hvc(0), hvc(1));
    cfg[1]!.cmdline = 'earlycon=pl011,0x9000000 console=hvc1';
    expect(load(cfg)[1]!.console).toMatchObject({ kind: 'virtio', device: 'hvc1' });
    cfg[1]!.cmdline = 'console=hvc1 console=ttyAMA0'; // the last console= is Linux's /dev/console
    expect(load(cfg)[1]!.console).toMatchObject({ kind: 'emulated', device: 'uart' });
    cfg[1]!.cmdline = 'console=hvc0';
    expect(load(cfg)[1]!.console).toMatchObject({ kind: 'virtio', device: 'hvc0' });
  });
});

describe('config errors: one line naming the file, the VM and the field', () => {
  it('JSON syntax, with line and column', () => {
    const text = '[\n  {"name": "mvm",\n   "type": "VM_T_LINUX" "cmdline": ""}\n]\n';
    expect(error(undefined, {}, text)).toMatch(/^vms\.json: line 3 column 25: invalid JSON: /);
    expect(error(undefined, {}, '[{"name": ')).toMatch(/^vms\.json: line 1 column 11: invalid JSON: /);
    // V8 gives no position for some errors: the longest prefix that still parses locates it.
    expect(error(undefined, {}, '[\n {"a": 1},\n ]')).toBe("vms.json: line 3 column 2: invalid JSON: Unexpected token ']'");
  });

  it('the top level is a list', () => {
    expect(error({ vms: base() })).toBe('vms.json: expected a JSON list of VMs [{...}, ...], got an object (write the list itself, not {"vms": [...]})');
    expect(error([])).toBe('vms.json: the list of VMs is empty (VM 0, the MVM, is needed)');
  });

  it('unknown, missing and mistyped keys', () => {
    let cfg = base();
    cfg[1]!.image.kernel_file = 'x';
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": image: unknown key "kernel_file" (did you mean "kernel_filename"?)');
    cfg = base();
    delete cfg[1]!.image.kernel_load_ipa;
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": image: missing key "kernel_load_ipa"');
    cfg = base();
    cfg[1]!.cpu.num = '2';
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": cpu.num: expected an integer, got "2"');
    cfg = base();
    cfg[0]!.memory.region[0].ipa_start = '0x4000000g';
    expect(error(cfg)).toBe('vms.json: vm 0 "mvm": memory.region[0].ipa_start: expected a hex string like "0x80000000" or a number, got "0x4000000g"');
    cfg = base();
    cfg[1]!.type = 'VM_T_LINUS';
    expect(error(cfg)).toMatch(/^vms\.json: vm 1 "guest1": type: "VM_T_LINUS" is not an allowed value \(did you mean "VM_T_LINUX"\?\)/);
  });

  it('unknown and unsupported device types', () => {
    const cfg = base();
    cfg[1]!.emulated_device_list[0].type = 'EMU_DEVICE_T_SERIAL';
    expect(error(cfg)).toMatch(/^vms\.json: vm 1 "guest1": emulated_device_list\[0\]\.type: "EMU_DEVICE_T_SERIAL" is not a device type; expected one of EMU_DEVICE_T_CONSOLE, /);
    cfg[1]!.emulated_device_list[0].type = 'EMU_DEVICE_T_IOMMU';
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": emulated_device_list[0].type: EMU_DEVICE_T_IOMMU is not supported: shyper-emu models no IOMMU');
    cfg[1]!.emulated_device_list[0].type = 'EMU_DEVICE_T_GICR';
    expect(error(cfg, { gicVersion: 2 })).toBe('vms.json: vm 1 "guest1": emulated_device_list[0].type: EMU_DEVICE_T_GICR on a GICv2 machine');
  });

  it('missing image files', () => {
    const cfg = base();
    cfg[1]!.image.ramdisk_filename = 'nope.cpio';
    expect(error(cfg)).toMatch(/^vms\.json: vm 1 "guest1": image\.ramdisk_filename: nope\.cpio: no such file \(looked in \/.*\)$/);
  });

  it('load addresses outside the VM memory, or overlapping each other', () => {
    let cfg = base();
    cfg[1]!.image.device_tree_load_ipa = '0x50000000';
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": image.device_tree_load_ipa: 0x50000000 is outside the VM\'s memory (0x40000000+0x8000000)');
    cfg = base();
    cfg[1]!.image.ramdisk_load_ipa = '0x40800000';
    // The kernel's header image_size (BSS included) is what it occupies, not the file; the
    // ramdisk its gzip ISIZE. Both read from the shipped kit, which gets rebuilt.
    const isize = readFileSync(INITRD).readUInt32LE(statSync(INITRD).size - 4);
    const imageSize = Number(gunzipSync(readFileSync(KERNEL)).readBigUInt64LE(16));
    expect(imageSize).toBeGreaterThan(0x600000);
    expect(error(cfg)).toBe(`vms.json: vm 1 "guest1": image.ramdisk_load_ipa: the ramdisk at 0x40800000+0x${isize.toString(16)} overlaps the kernel at 0x40200000+0x${imageSize.toString(16)}`);
    cfg = base();
    cfg[1]!.image.kernel_load_ipa = cfg[1]!.image.kernel_entry_point = '0x40280000';
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": image.kernel_load_ipa: 0x40280000: an arm64 Image goes at a 2 MiB-aligned base + text_offset 0x0 (booting.rst)');
    cfg = base();
    cfg[1]!.image.ramdisk_load_ipa = '0x47f00000';
    const kib = isize % 1024 === 0 ? `${isize / 1024} KiB` : `${isize} bytes`;
    expect(error(cfg)).toBe(`vms.json: vm 1 "guest1": image.ramdisk_load_ipa: the ramdisk (${kib}) at 0x47f00000 runs past the end of its memory region`);
  });

  it('memory: regions of one VM overlapping each other or its devices', () => {
    let cfg = base();
    cfg[1]!.memory.region.push({ ipa_start: '0x47000000', length: '0x2000000' });
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": memory.region[1]: 0x47000000+0x2000000 overlaps region[0] 0x40000000+0x8000000');
    cfg = base();
    cfg[1]!.memory.region.push({ ipa_start: '0x9000000', length: '0x1000' });
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": memory.region[1]: 0x9000000+0x1000 overlaps emulated_device_list[0] "uart" at 0x9000000+0x1000');
    cfg = base();
    cfg[1]!.memory.region.push({ ipa_start: '0x8000000', length: '0x1000' });
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": memory.region[1]: 0x8000000+0x1000 overlaps the implicit vgicd at 0x8000000+0x10000');
  });

  it('memory: the demand of all VMs against RAM minus the hypervisor\'s 16 MiB', () => {
    const cfg = base();
    cfg[1]!.memory.region[0].length = '0x20000000';
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": memory.region[0]: 512 MiB does not fit in RAM: 496 MiB above the hypervisor\'s 16 MiB, 128 MiB already taken by the VMs before it (--mem raises RAM)');
    expect(load(cfg, { ramSize: 1024 * MiB })[1]!.memory[0]!.pa).toBe(0x49000000);
  });

  it('cores: given to two VMs, beyond the board, more vCPUs than cores', () => {
    let cfg = base();
    cfg[1]!.cpu.allocate_bitmap = '0b0011';
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": cpu.allocate_bitmap: core 0 is also vm 0 "mvm"\'s (set "shared": true in both VMs\' cpu to share it round-robin)');
    cfg[1]!.cpu.shared = true;
    expect(error(cfg)).toMatch(/core 0 is also vm 0 "mvm"'s/);
    cfg = base();
    cfg[1]!.kind = 'rtvm';
    cfg[1]!.cpu.shared = true;
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": cpu.shared: an RTVM\'s cores are its own');
    cfg = base();
    cfg[1]!.cpu.allocate_bitmap = '0b100000000';
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": cpu.allocate_bitmap: names core 8 but qemu-virt has 8 cores (0-7)');
    cfg = base();
    cfg[1]!.cpu.num = 9;
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": cpu.num: 9 vCPUs is more than the 8 cores of qemu-virt');
    cfg = base();
    cfg[1]!.cpu.allocate_bitmap = '0b110';
    expect(error(cfg, { cpus: 2 })).toBe('vms.json: vm 1 "guest1": cpu.allocate_bitmap: names core 2 but qemu-virt has 2 cores (0-1)');
  });

  it('VM count and ids', () => {
    const nine = Array.from({ length: 9 }, () => base()[1]);
    expect(error(nine)).toBe("vms.json: 9 VMs, at most 8 (Rust-Shyper's VM_NUM_MAX)");
    let cfg = base();
    cfg[0]!.id = 1;
    cfg[1]!.id = 1;
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": id: 1 is already vm 1 "mvm"\'s id (entry 0)');
    cfg = base();
    cfg[1]!.id = 0;
    expect(error(cfg)).toBe('vms.json: vm 1 "mvm": id: the first VM must be VM 0, the MVM (Rust-Shyper adds it first)');
    cfg = base();
    cfg[1]!.id = 8;
    expect(error(cfg)).toBe('vms.json: entry 1 "guest1": id: 8 is more than 7');
    cfg = base();
    cfg[1]!.kind = 'mvm';
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": kind: only VM 0 is the MVM');
  });

  it('passthrough: never RAM or the GIC, one owner per device and SPI', () => {
    let cfg = base();
    cfg[0]!.passthrough_device_list[0].base_pa = '0x50000000';
    expect(error(cfg)).toBe('vms.json: vm 0 "mvm": passthrough_device_list[0].base_pa: 0x50000000+0x1000 is RAM (0x40000000+0x20000000): passing it through would expose other VMs\' memory');
    cfg = base();
    cfg[0]!.passthrough_device_list.push({ name: 'gicd', base_pa: '0x8000000', base_ipa: '0x7000000', length: '0x10000' });
    expect(error(cfg)).toBe('vms.json: vm 0 "mvm": passthrough_device_list[1].base_pa: 0x8000000+0x10000 overlaps the physical GICD (0x8000000); the hypervisor owns the GIC');
    cfg = base();
    cfg[1]!.emulated_device_list.shift();
    cfg[1]!.passthrough_device_list = [{ name: 'uart', base_pa: '0x9000000', base_ipa: '0x9000000', length: '0x1000', irq_list: [33] }];
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": passthrough_device_list[0].base_pa: 0x9000000+0x1000 is also passed through to vm 0 "mvm" ("pl011")');
    cfg[0]!.passthrough_device_list[0].irq_list = [];
    expect(error(cfg)).toBe("vms.json: vm 0 \"mvm\": passthrough_device_list[0].irq_list: qemu-virt's UART at 0x9000000 interrupts on INTID 33; list it");
    cfg[0]!.passthrough_device_list[0].irq_list = [33];
    cfg[1]!.passthrough_device_list = [{ name: 'x', base_pa: '0x9100000', base_ipa: '0x9100000', length: '0x1000', irq_list: [33] }];
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": passthrough_device_list[0].irq_list[0]: SPI 33 already belongs to vm 0 "mvm"');
    cfg[1]!.passthrough_device_list = [{ name: 'x', base_pa: '0x9100000', base_ipa: '0x9100000', length: '0x1000', irq_list: [26] }];
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": passthrough_device_list[0].irq_list[0]: PPI 26 is the hypervisor\'s (EL2 timer)');
  });

  it('the RTVM interrupt mode and the console choice', () => {
    let cfg = base();
    cfg[1]!.gic_passthrough = true;
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": gic_passthrough: only an RTVM (kind "rtvm") may have the GIC passed through, this is a gvm');
    cfg[1]!.kind = 'rtvm';
    const rt = load(cfg)[1]!;
    expect(rt.gicPassthrough).toBe(true);
    expect(rt.emulatedDevices.some((d) => d.type === 'gicd')).toBe(false);
    cfg = base();
    cfg[1]!.console = 'vm_service';
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": console: emulated device "vm_service" is not an EMU_DEVICE_T_CONSOLE or EMU_DEVICE_T_VIRTIO_CONSOLE');
    cfg[1]!.console = 'serial';
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": console: no device named "serial" (give the name of a passthrough UART or an emulated console)');
  });

  it('device windows of one VM must not overlap', () => {
    const cfg = base();
    cfg[1]!.emulated_device_list.push({ name: 'blk', base_ipa: '0x9000800', length: '0x200', irq_id: 40, type: 'EMU_DEVICE_T_VIRTIO_BLK', image: DISK });
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": emulated_device_list[2]: 0x9000800+0x200 overlaps emulated_device_list[0] "uart" at 0x9000000+0x1000');
  });

  it('an unreadable file', () => {
    expect(() => loadVmConfig('/nonexistent/vms.json', virt)).toThrow(new ConfigError('/nonexistent/vms.json: cannot read: ENOENT'));
  });
});

describe('virtio devices in the config: disks, NICs, console peers', () => {
  const dev = (name: string, at: number, type: string, extra: Json = {}): Json => ({ name, base_ipa: `0x${at.toString(16)}`, length: '0x1000', irq_id: 48 + ((at >> 12) & 15), type, ...extra });
  const blk = (extra: Json = {}): Json => dev('vda', 0xa000000, 'EMU_DEVICE_T_VIRTIO_BLK', { image: DISK, ...extra });
  const raw = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'hvdisk-'));
    const path = join(dir, 'disk.img');
    writeFileSync(path, new Uint8Array(1 << 20)); // 2048 sectors
    return path;
  };

  it('virtio-blk: image (relative to the config file), window from cfg_list, read_only', () => {
    const cfg = base();
    cfg[1]!.emulated_device_list.push(blk({ cfg_list: ['16', '0x100'], read_only: true }));
    const d = load(cfg)[1]!.emulatedDevices.find((x) => x.type === 'virtio-blk')!;
    expect(d.disk).toEqual({ image: DISK, startSector: 16, sectors: 256, readOnly: true });
    cfg[1]!.emulated_device_list[2] = blk();
    expect(load(cfg)[1]!.emulatedDevices.find((x) => x.type === 'virtio-blk')!.disk).toEqual({ image: DISK, startSector: 0, sectors: undefined, readOnly: false });
  });

  it('mediated virtio-blk: cfg_list [start sector, sectors] is required (the GVM\'s capacity), no image', () => {
    const cfg = base();
    cfg[1]!.emulated_device_list.push(dev('vdb', 0xa000000, 'EMU_DEVICE_T_VIRTIO_BLK_MEDIATED', { cfg_list: ['0', '0x2000'] }));
    expect(load(cfg)[1]!.emulatedDevices.find((x) => x.type === 'virtio-blk-mediated')!.cfg).toEqual([0, 0x2000]);
    for (const bad of [[], ['8'], ['0', '0']]) {
      cfg[1]!.emulated_device_list[2] = dev('vdb', 0xa000000, 'EMU_DEVICE_T_VIRTIO_BLK_MEDIATED', { cfg_list: bad });
      expect(error(cfg)).toMatch(/^vms\.json: vm 1 "guest1": emulated_device_list\[2\]\.cfg_list: a mediated disk is \[start sector, sectors\] in the MVM's image \(sectors > 0\), got \[/);
    }
    cfg[1]!.emulated_device_list[2] = dev('vdb', 0xa000000, 'EMU_DEVICE_T_VIRTIO_BLK_MEDIATED', { cfg_list: ['0', '8'], image: DISK });
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": emulated_device_list[2].image: only an EMU_DEVICE_T_VIRTIO_BLK has a disk image');
  });

  it('virtio-blk errors: no image, a missing file, a window past the end, image on another device', () => {
    const cfg = base();
    cfg[1]!.emulated_device_list.push(dev('vda', 0xa000000, 'EMU_DEVICE_T_VIRTIO_BLK'));
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": emulated_device_list[2]: an EMU_DEVICE_T_VIRTIO_BLK needs "image": the disk image file (or use EMU_DEVICE_T_VIRTIO_BLK_MEDIATED)');
    cfg[1]!.emulated_device_list[2] = blk({ image: 'nope.img' });
    expect(error(cfg)).toMatch(/^vms\.json: vm 1 "guest1": emulated_device_list\[2\]\.image: nope\.img: no such file \(looked in .*\)$/);
    cfg[1]!.emulated_device_list[2] = blk({ cfg_list: ['8000', '0x100'] });
    expect(error(cfg)).toBe(`vms.json: vm 1 "guest1": emulated_device_list[2].cfg_list: sectors 8000+256 run past the end of ${DISK} (8192 sectors)`);
    cfg[1]!.emulated_device_list[2] = blk({ cfg_list: ['8'] });
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": emulated_device_list[2].cfg_list: a disk window is [start sector, sectors], got 1 words');
    cfg[1]!.emulated_device_list[2] = dev('eth0', 0xa001000, 'EMU_DEVICE_T_VIRTIO_NET', { image: DISK });
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": emulated_device_list[2].image: only an EMU_DEVICE_T_VIRTIO_BLK has a disk image');
  });

  it('one image in several VMs: all read-only, or disjoint windows; a gzip image is always read-only', () => {
    const img = raw();
    const cfg = base();
    cfg[0]!.emulated_device_list = [blk({ image: img })];
    cfg[1]!.emulated_device_list.push(blk({ image: img }));
    expect(error(cfg)).toBe(`vms.json: vm 1 "guest1": emulated device "vda": image ${img} is also vm 0 "mvm"'s disk "vda" and their windows overlap: make both read_only, or give them disjoint cfg_list windows`);
    cfg[0]!.emulated_device_list = [blk({ image: img, read_only: true })];
    cfg[1]!.emulated_device_list[2] = blk({ image: img, read_only: true });
    expect(() => load(cfg)).not.toThrow();
    cfg[0]!.emulated_device_list = [blk({ image: img, cfg_list: ['0', '1024'] })];
    cfg[1]!.emulated_device_list[2] = blk({ image: img, cfg_list: ['1024', '1024'] });
    expect(() => load(cfg)).not.toThrow();
    cfg[1]!.emulated_device_list[2] = blk({ image: img, cfg_list: ['1000', '1048'] });
    expect(error(cfg)).toMatch(/their windows overlap/);
    cfg[0]!.emulated_device_list = [blk()];
    cfg[1]!.emulated_device_list[2] = blk();
    expect(() => load(cfg)).not.toThrow();
  });

  it('virtio-net: the MAC from cfg_list or derived from the VM; a bad or duplicate MAC is an error', () => {
    const cfg = base();
    cfg[0]!.emulated_device_list = [dev('eth0', 0xa001000, 'EMU_DEVICE_T_VIRTIO_NET', { cfg_list: ['0x74', '0x56', '0xaa', '0x0f', '0x47', '0xd0'] })];
    cfg[1]!.emulated_device_list.push(dev('eth0', 0xa001000, 'EMU_DEVICE_T_VIRTIO_NET'), dev('eth1', 0xa002000, 'EMU_DEVICE_T_VIRTIO_NET'));
    const vms = load(cfg);
    expect(vms[0]!.emulatedDevices.find((d) => d.name === 'eth0')!.mac).toEqual([0x74, 0x56, 0xaa, 0x0f, 0x47, 0xd0]);
    expect(vms[1]!.emulatedDevices.filter((d) => d.type === 'virtio-net').map((d) => d.mac)).toEqual([[2, 0x53, 0x48, 0x59, 1, 0], [2, 0x53, 0x48, 0x59, 1, 1]]);
    cfg[1]!.emulated_device_list[3].cfg_list = ['0x74', '0x56', '0xaa', '0x0f', '0x47', '0xd0'];
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": emulated device "eth1": MAC 74:56:aa:0f:47:d0 is also a NIC of vm 0 "mvm"');
    cfg[1]!.emulated_device_list[3].cfg_list = ['1', '2', '3', '4', '5', '6'];
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": emulated_device_list[3].cfg_list: 01:02:03:04:05:06 is not a unicast MAC address');
    cfg[1]!.emulated_device_list[3].cfg_list = ['2', '0x100', '3', '4', '5', '6'];
    expect(error(cfg)).toBe('vms.json: vm 1 "guest1": emulated_device_list[3].cfg_list: a MAC address: 6 words of one byte each, got [0x2, 0x100, 0x3, 0x4, 0x5, 0x6]');
  });

  it('virtio-console peers: [vm, IPA]; a peer that is not in the set is a warning (output discarded)', () => {
    const cfg = base();
    cfg[0]!.emulated_device_list = [dev('to-guest1', 0xa002000, 'EMU_DEVICE_T_VIRTIO_CONSOLE', { cfg_list: ['1', '0xa003000'] })];
    cfg[1]!.emulated_device_list.push(dev('hvc1', 0xa003000, 'EMU_DEVICE_T_VIRTIO_CONSOLE', { cfg_list: ['0', '0xa002000'] }));
    const warnings: string[] = [];
    const vms = load(cfg, { onWarning: (w) => void warnings.push(w) });
    expect(vms[0]!.emulatedDevices.find((d) => d.name === 'to-guest1')!.peer).toEqual({ vm: 1, ipa: 0xa003000 });
    expect(warnings).toEqual([]);
    cfg[0]!.emulated_device_list[0].cfg_list = ['2', '0xa003000'];
    load(cfg, { onWarning: (w) => void warnings.push(w) });
    expect(warnings).toEqual(['vms.json: vm 0 "mvm": emulated device "to-guest1": cfg_list: no vm 2 in the set: what it transmits is discarded']);
    cfg[0]!.emulated_device_list[0].cfg_list = ['1', '0xa004000'];
    expect(error(cfg, { onWarning: (w) => { throw new ConfigError(w); } })).toBe('vms.json: vm 0 "mvm": emulated device "to-guest1": cfg_list: vm 1 "guest1" has no virtio-console at 0xa004000: what it transmits is discarded');
    cfg[0]!.emulated_device_list[0].cfg_list = ['1'];
    expect(error(cfg)).toBe('vms.json: vm 0 "mvm": emulated_device_list[0].cfg_list: a console\'s peer is [vm id, console IPA], got 1 words');
    cfg[0]!.emulated_device_list[0].cfg_list = ['0', '0xa002000'];
    expect(error(cfg)).toBe('vms.json: vm 0 "mvm": emulated_device_list[0].cfg_list: a console cannot be its own peer');
  });
});
