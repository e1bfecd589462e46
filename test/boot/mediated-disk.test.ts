// The mediated disk end to end (issue #10 acceptance), in one qemu-virt boot: the MVM serves
// GVM1's mediated virtio-blk from its own virtio disk (/dev/vda, a copy of the kit's ext2 image)
// with `shyper system daemon`; GVM1 (1 vCPU) mounts it, reads the kit's hello.txt, writes a
// file, syncs and unmounts; after `shyper vm reboot 1 -f` from the MVM it mounts the disk again
// and the file has the same sha256 — read back through the synchronous path this time, the first
// half having used the asynchronous one (the I/O core). The host image then holds the file
// (debugfs), so it would be there in a new run as well.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { boards } from '../../boards/index.ts';
import { Machine } from '../../emulator/machine.ts';
import { parseVmConfig } from '../../hypervisor/config.ts';
import { ConsoleMux, type MuxSink } from '../../src/console-mux.ts';
import { startHypervisor } from '../../src/hypervisor-run.ts';
import { VmDeviceHub } from '../../src/vm-devices.ts';
import { cpio } from '../../src/cpio.ts';

const GUESTS = fileURLToPath(new URL('../../guests/', import.meta.url));
const SECTORS = 4 * 1024 * 1024 / 512;

const linux = (name: string, cmdline: string, rest: object) => ({
  name, type: 'VM_T_LINUX', cmdline,
  image: {
    kernel_filename: join(GUESTS, 'Image.gz'), kernel_load_ipa: '0x40200000', kernel_entry_point: '0x40200000',
    device_tree_load_ipa: '0x40000000', ramdisk_filename: join(GUESTS, 'initramfs.cpio.gz'), ramdisk_load_ipa: '0x41000000',
  },
  memory: { region: [{ ipa_start: '0x40000000', length: '0x8000000' }] },
  ...rest,
});

describe('mediated disk: a GVM disk served by the MVM daemon', { timeout: 900_000 }, () => {
  it('GVM1 writes a file on its mediated disk; after a forced reboot it reads the same sha256; the MVM image holds it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mediated-'));
    const image = join(dir, 'mvm-disk.img');
    writeFileSync(image, gunzipSync(readFileSync(join(GUESTS, 'disk.ext2.gz'))));
    const extra = gzipSync(cpio([['etc', null], ['etc/shyper', null], ['etc/shyper/daemon.json', new TextEncoder().encode('{"mediated": ["/dev/vda"]}\n')]]));
    const initrd = join(dir, 'mvm-initrd.cpio.gz');
    writeFileSync(initrd, Buffer.concat([readFileSync(join(GUESTS, 'initramfs.cpio.gz')), readFileSync(join(GUESTS, 'mvm/mvm-overlay.cpio.gz')), extra]));
    const mvm = linux('mvm', 'console=ttyAMA0', {
      cpu: { num: 1, allocate_bitmap: '0b0001', master: 0 },
      console: 'pl011',
      emulated_device_list: [
        { name: 'vda', base_ipa: '0xa000000', length: '0x1000', irq_id: 48, type: 'EMU_DEVICE_T_VIRTIO_BLK', image },
        { name: 'vm_service', base_ipa: '0', length: '0', irq_id: 64, type: 'EMU_DEVICE_T_SHYPER' },
      ],
      passthrough_device_list: [{ name: 'pl011', base_pa: '0x9000000', base_ipa: '0x9000000', length: '0x1000', irq_list: [33] }],
    });
    (mvm.image as Record<string, string>).ramdisk_filename = initrd;
    const gvm = linux('gvm1', 'earlycon=pl011,0x9000000 console=hvc0', {
      kind: 'gvm',
      cpu: { num: 1, allocate_bitmap: '0b0010', master: 1 },
      console: 'hvc0',
      emulated_device_list: [
        { name: 'vda', base_ipa: '0xa000000', length: '0x1000', irq_id: 48, type: 'EMU_DEVICE_T_VIRTIO_BLK_MEDIATED', cfg_list: [0, SECTORS] },
        { name: 'hvc0', base_ipa: '0xa002000', length: '0x1000', irq_id: 50, type: 'EMU_DEVICE_T_VIRTIO_CONSOLE' },
        { name: 'pl011', base_ipa: '0x9000000', length: '0x1000', irq_id: 33, type: 'EMU_DEVICE_T_CONSOLE' },
        { name: 'vm_service', base_ipa: '0', length: '0', irq_id: 64, type: 'EMU_DEVICE_T_SHYPER' },
      ],
    });
    const board = boards['qemu-virt']!;
    const vms = parseVmConfig(JSON.stringify([mvm, gvm]), board, { label: 'mediated.json', imageDir: dir });

    let out = '';
    const keys: number[] = [];
    let listener: (() => void) | null = null;
    const sink: MuxSink = {
      write: (b) => void (out += String.fromCharCode(b)),
      read: () => keys.shift() ?? -1,
      hasInput: () => keys.length > 0,
      setInputListener: (l) => void (listener = l),
    };
    const mux = new ConsoleMux(sink, { interactive: true, prefix: true });
    const machine = new Machine({ board, console: mux.console(0) });
    const log: string[] = [];
    const devices = new VmDeviceHub((l) => void log.push(l));
    const { hvc } = startHypervisor(machine, { vms, mux, seed: 0n, log: (l) => void log.push(l), onSystemOff: () => {}, devices });
    const svc = hvc.mediated;
    expect(svc.mode).toBe('async');
    // qemu-virt has 4 cores: the MVM's 0 and GVM1's 1 are taken, core 2 is the I/O core.
    expect(svc.ioCore()).toBe(2);

    let mark = 0;
    const fail = (what: string, re: RegExp): Error => new Error(`no ${what} (${re}); output tail:\n${out.slice(-3000)}\nhypervisor log:\n${log.join('\n')}`);
    const waitFor = async (re: RegExp, what: string, ms = 400_000): Promise<RegExpExecArray> => {
      const deadline = performance.now() + ms;
      for (;;) {
        const m = re.exec(out.slice(mark));
        if (m) {
          mark += m.index + m[0].length;
          return m;
        }
        if (performance.now() > deadline) throw fail(what, re);
        const state = machine.runFor(50);
        if (state === 'idle') machine.advanceIdle(Infinity);
        else if (state !== 'running') throw fail(what, re);
        await new Promise((r) => setImmediate(r));
      }
    };
    const type = (line: string): void => {
      for (const c of line + '\n') keys.push(c.charCodeAt(0));
      listener?.();
    };

    let sum = '';
    try {
      await waitFor(/\[vm1\] Enter 'help'/, 'GVM 1 shell');
      // Before any daemon: GVM1's partition scan got I/O errors, with one line saying why.
      expect(log).toContain('shyper: vm1.vda@a000000: no MVM daemon serves mediated disk 0: I/O error');
      mark = 0;
      await waitFor(/\[vm0\] Enter 'help'[^]*?\[vm0\] \/ # /, 'MVM shell');
      type('insmod /lib/modules/shyper.ko; shyper system daemon /etc/shyper/daemon.json &');
      await waitFor(/shyper daemon: mediated disk 0: \/dev\/vda, 8192 sectors/, 'the daemon appending /dev/vda');
      await waitFor(/shyper daemon: pid \d+ waiting/, 'the daemon waiting');
      expect(log.some((l) => /^shyper: mediated disk 0 "vda" \(8192 sectors\) served by the MVM/.test(l))).toBe(true);

      mux.select(1);
      await waitFor(/keyboard to vm1/, 'focus on vm1');
      type('mount /dev/vda /mnt && cat /mnt/hello.txt');
      await waitFor(/\[vm1\] hello from virtio-blk/, "the kit's hello.txt through the MVM");
      type('dd if=/dev/urandom of=/mnt/f bs=4096 count=64 && sync && sha256sum /mnt/f && umount /mnt && echo umounted');
      sum = (await waitFor(/\[vm1\] ([0-9a-f]{64})  \/mnt\/f/, 'sha256 of the new file'))[1]!;
      await waitFor(/\[vm1\] umounted/, 'umount');
      const asyncReqs = svc.stats.async.requests;
      expect(asyncReqs).toBeGreaterThan(64 * 4096 / (2 << 20)); // at least the file's data
      expect(svc.stats.sync.requests).toBe(0);

      // The rest synchronously: the vCPU waits in the hypervisor for each request.
      svc.mode = 'sync';
      mux.select(0);
      await waitFor(/keyboard to vm0/, 'focus on vm0');
      type('shyper vm reboot 1 -f');
      await waitFor(/\[vm1\] Enter 'help'/, 'GVM 1 shell after its forced reboot');
      expect(log).toContain('shyper: vm1 (gvm1) forced reboot: reset, reloaded, booting');
      mux.select(1);
      await waitFor(/keyboard to vm1/, 'focus on vm1 again');
      type('mount /dev/vda /mnt && sha256sum /mnt/f && umount /mnt && echo umounted');
      const again = (await waitFor(/\[vm1\] ([0-9a-f]{64})  \/mnt\/f/, 'sha256 after the reboot'))[1]!;
      await waitFor(/\[vm1\] umounted/, 'umount after the reboot');
      expect(again).toBe(sum);
      expect(svc.stats.sync.requests).toBeGreaterThan(0);
      expect(svc.stats.async.requests).toBe(asyncReqs);
      // Synchronous requests kept their vCPU out for the MVM's whole round trip (µs of it per
      // request), and for more hypervisor work; asynchronous ones only for the trap.
      const { sync: s, async: a } = svc.stats;
      expect(a.waitNs).toBe(0);
      expect(s.waitNs / s.requests).toBeGreaterThan(1000);
      expect(s.trapCycles / s.requests).toBeGreaterThan(a.trapCycles / a.requests);
      expect(log.filter((l) => /mediated|vda/.test(l) && !/served by the MVM|no MVM daemon/.test(l))).toEqual([]);
    } finally {
      devices.close();
    }
    // The file reached the MVM's virtio disk, i.e. the host image: a new run would find it.
    const dumped = join(dir, 'f');
    execFileSync('debugfs', ['-R', `dump /f ${dumped}`, image], { stdio: 'ignore' });
    expect(createHash('sha256').update(readFileSync(dumped)).digest('hex')).toBe(sum);
  });
});
