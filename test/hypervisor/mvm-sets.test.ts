// The default run's VM sets stay in step with the boards' full sets: boards/vms/B-mvm.json is VM 0
// of boards/vms/B.json with the MVM's initramfs, and the MVM's /etc/shyper/B/N-NAME.json (what its
// CLI configures at run time, guests/mvm/rootfs) describe the full set's GVMs 1..N — same cores,
// memory, devices, command line, and the same console (which the runtime VM finds from its
// command line, having no "console" key) — so the default run boots what `--config B.json` does.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { boards } from '../../boards/index.ts';
import { defaultVmSet, mvmVmSet, parseVmConfig, type VmConfig } from '../../hypervisor/config.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ETC = join(REPO, 'guests/mvm/rootfs/etc/shyper');

/** What must agree between the two descriptions of a VM. */
function shape(v: VmConfig) {
  return {
    id: v.id,
    name: v.name,
    kind: v.kind,
    gicPassthrough: v.gicPassthrough,
    osType: v.osType,
    cmdline: v.cmdline,
    pcpus: v.cpu.pcpus,
    memory: v.memory.map((r) => [r.ipa, r.length]),
    kernelLoad: v.image.kernelLoadIpa,
    entry: v.image.entryPoint,
    devices: v.emulatedDevices.map((d) => [d.name, d.type, d.baseIpa, d.length, d.irq]),
    passthrough: v.passthroughDevices.map((p) => [p.basePa, p.baseIpa, p.length, p.irqs]),
    console: v.console?.device,
  };
}

describe.each(Object.keys(boards))('%s: the default run and the full set', (b) => {
  const board = boards[b]!;
  const full = defaultVmSet(board);

  it('B-mvm.json is the full set\'s VM 0 with the MVM initramfs, shyper.vms=B and GVM 1\'s console', () => {
    const [m] = mvmVmSet(board);
    expect(mvmVmSet(board)).toHaveLength(1);
    expect(m!.image.ramdiskFile).toBe(join(REPO, 'guests/mvm/mvm-initramfs.cpio.gz'));
    expect(m!.cmdline).toBe(`${full[0]!.cmdline} shyper.vms=${b}`);
    const { cmdline: _a, devices: mvmDevices, ...rest } = shape(m!);
    const { cmdline: _b, devices: fullDevices, ...fullRest } = shape(full[0]!);
    expect(rest).toEqual(fullRest);
    // One device more: the MVM's end of GVM 1's console, where GVM 1's hvc0 names it as its peer.
    const hvc1 = full[1]!.emulatedDevices.find((d) => d.type === 'virtio-console')!;
    expect(mvmDevices).toContainEqual(['gvm1-console', 'virtio-console', hvc1.baseIpa, hvc1.length, hvc1.irq]);
    expect(mvmDevices.filter((d) => d[0] !== 'gvm1-console')).toEqual(fullDevices);
  });

  it('/etc/shyper/B/*.json, configured in file order, are the full set\'s GVMs', () => {
    const files = readdirSync(join(ETC, b)).sort();
    expect(files).toEqual(full.slice(1).map((v) => `${v.id}-${v.name}.json`));
    // As the hypercalls carry them: no kind, console or gic_passthrough keys (an RTVM asks for
    // the GIC with an EMU_DEVICE_T_GPPT device, as in Rust-Shyper's files); the kernel file the
    // MVM's CLI uploads is /etc/shyper/..., here the host's copy. The hypercall module turns a
    // GPPT into kind rtvm + gic_passthrough (hypervisor/hvc/config.ts); so does this test.
    const gvms = files.map((f) => {
      const j = JSON.parse(readFileSync(join(ETC, b, f), 'utf8'));
      expect(Object.keys(j).filter((k) => ['kind', 'console', 'gic_passthrough', 'id'].includes(k))).toEqual([]);
      expect(j.image.kernel_filename).toMatch(/^\/etc\/shyper\/(Image|rtvm-[\w-]+\.bin)$/);
      j.image.kernel_filename = j.image.kernel_filename === '/etc/shyper/Image' ? join(REPO, 'guests/Image.gz') : join(REPO, 'guests/rtvm', j.image.kernel_filename.slice(12));
      if (j.image.ramdisk_load_ipa !== '0' && j.image.ramdisk_load_ipa !== undefined) j.image.ramdisk_filename = join(REPO, 'guests/initramfs.cpio.gz');
      else delete j.image.ramdisk_filename;
      if (j.emulated_device.emulated_device_list.some((d: { type: string }) => d.type === 'EMU_DEVICE_T_GPPT')) Object.assign(j, { kind: 'rtvm', gic_passthrough: true });
      return j;
    });
    const mvm = JSON.parse(readFileSync(join(REPO, 'boards/vms', `${b}-mvm.json`), 'utf8'))[0];
    const parsed = parseVmConfig(JSON.stringify([mvm, ...gvms]), board, { label: `${b}-runtime`, imageDir: join(REPO, 'boards/vms') });
    parsed.slice(1).forEach((v, i) => {
      const want = full[i + 1]!;
      const { devices, ...rest } = shape(v);
      const { devices: wantDevices, ...wantRest } = shape(want);
      expect(rest).toEqual(wantRest);
      // The RTVM's GPPT device aside (the full set says gic_passthrough instead).
      expect(devices.filter((d) => d[1] !== 'gppt')).toEqual(wantDevices);
      // GVM 1's console is joined to the MVM's gvm1-console; the others have no peer.
      const peers = v.emulatedDevices.filter((d) => d.peer !== undefined).map((d) => [d.name, d.peer]);
      expect(peers).toEqual(i === 0 ? [['hvc0', { vm: 0, ipa: v.emulatedDevices.find((d) => d.name === 'hvc0')!.baseIpa }]] : []);
    });
  });
});
