// The MVM manages VMs through the real hypercall path: rk3588's full VM set (boards/vms/
// rk3588.json) boots directly (MVM + two Linux GVMs); in the MVM, `insmod shyper.ko` and the
// `shyper` CLI (guests/mvm, appended to the kit's initramfs as its overlay) list the VMs,
// configure a bare-metal GVM from a JSON file, boot
// it (its console appears as [vm3]), force-reboot it and remove it; in a GVM the same module's
// management calls are refused, and a soft reboot from the MVM reaches it as an IVC message.
// Runs in-process so the test can move the keyboard between VMs.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { boards } from '../../boards/index.ts';
import { Machine } from '../../emulator/machine.ts';
import { defaultVmSet } from '../../hypervisor/config.ts';
import { ConsoleMux, type MuxSink } from '../../src/console-mux.ts';
import { startHypervisor } from '../../src/hypervisor-run.ts';
import { cpio } from '../../src/cpio.ts';
import { assemble } from '../arm64/ls-oracle.ts';

const GUESTS = fileURLToPath(new URL('../../guests/', import.meta.url));

// A bare-metal GVM: prints a line on the board's UART2 (DW 8250, 32-bit registers: THR at 0,
// LSR at 0x14), then waits in WFI.
const BM = assemble([
  'ldr x1, =0xfeb50000', 'adr x2, msg',
  '1: ldrb w3, [x2], #1', 'cbz w3, 2f',
  '3: ldr w4, [x1, #0x14]', 'tbz w4, #5, 3b', 'str w3, [x1]', 'b 1b',
  '2: wfi', 'b 2b',
  'msg: .asciz "hello from a VM the MVM built\\n"', '.balign 4', '.ltorg',
]);

const BM_JSON = {
  name: 'bm-gvm',
  type: 'VM_T_BARE_MATEL_APP',
  cmdline: '',
  image: {
    kernel_filename: 'bm.bin', kernel_load_ipa: '0x10000000', kernel_entry_point: '0x10000000',
    device_tree_filename: '', device_tree_load_ipa: '0x10100000', ramdisk_filename: '', ramdisk_load_ipa: '0',
  },
  memory: { region: [{ ipa_start: '0x10000000', length: '0x200000' }] },
  cpu: { num: 1, allocate_bitmap: '0b10000000', master: 7 },
  emulated_device: { emulated_device_list: [{ name: 'uart2', base_ipa: '0xfeb50000', length: '0x1000', irq_id: 365, cfg_num: 0, cfg_list: [], type: 'EMU_DEVICE_T_CONSOLE' }] },
  passthrough_device: { passthrough_device_list: [] },
  dtb_device: { dtb_device_list: [] },
};

describe('MVM management through shyper.ko and the shyper CLI', { timeout: 900_000 }, () => {
  it('rk3588 full set, booted directly: vm list, vm config + boot of a new VM ([vm3]), reboot -f, remove; a GVM is refused; soft reboot of a GVM', async () => {
    const bin = new Uint8Array(BM.length * 4);
    BM.forEach((w, i) => new DataView(bin.buffer).setUint32(i * 4, w >>> 0, true));
    const te = new TextEncoder();
    const extra = gzipSync(cpio([['etc', null], ['etc/shyper', null], ['etc/shyper/bm.bin', bin], ['etc/shyper/bm.json', te.encode(JSON.stringify(BM_JSON))]]));
    // Linux unpacks concatenated initramfs archives in order: the kit, the MVM overlay, ours.
    const initrd = Buffer.concat([readFileSync(join(GUESTS, 'initramfs.cpio.gz')), readFileSync(join(GUESTS, 'mvm/mvm-overlay.cpio.gz')), extra]);
    const dir = mkdtempSync(join(tmpdir(), 'mvm-'));
    writeFileSync(join(dir, 'initrd.cpio.gz'), initrd);

    const board = boards.rk3588!;
    // The MVM and the two Linux GVMs: the new VM takes id 3 and core 7, the default RTVM's.
    const vms = defaultVmSet(board).filter((v) => v.kind !== 'rtvm');
    for (const vm of vms.slice(0, 2)) vm.image.ramdiskFile = join(dir, 'initrd.cpio.gz');

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
    let off = false;
    startHypervisor(machine, { vms, mux, seed: 0n, log: (l) => void log.push(l), onSystemOff: () => (off = true) });

    let mark = 0;
    const fail = (what: string, re: RegExp): Error => new Error(`no ${what} (${re}); output tail:\n${out.slice(-3000)}\nhypervisor log:\n${log.join('\n')}`);
    /** Run until `re` matches the output after the last match (then move past it). */
    const waitFor = async (re: RegExp, what: string, ms = 400_000): Promise<string> => {
      const deadline = performance.now() + ms;
      for (;;) {
        const m = re.exec(out.slice(mark));
        if (m) {
          mark += m.index + m[0].length;
          return m[0];
        }
        if (performance.now() > deadline) throw fail(what, re);
        const state = machine.runFor(50);
        if (state === 'idle') machine.advanceIdle(Infinity); // every CPU waits: on to the next event
        else if (state !== 'running') throw fail(what, re);
        await new Promise((r) => setImmediate(r)); // let vitest's worker breathe
      }
    };
    const type = (line: string): void => {
      for (const c of line + '\n') keys.push(c.charCodeAt(0));
      listener?.();
    };

    // The three VMs boot at once, in any order.
    await waitFor(/\[vm1\] Enter 'help'/, 'GVM 1 shell');
    mark = 0;
    await waitFor(/\[vm0\] Enter 'help'[^]*?\[vm0\] \/ # /, 'MVM shell');

    type('insmod /lib/modules/shyper.ko; shyper vm list');
    const listed = await waitFor(/STATE[^\n]*\n([^\n]*\n)*?[^\n]*gvm2[^\n]*\n/, 'vm list');
    expect(listed).toMatch(/0 +mvm +Linux +Active/);
    expect(listed).toMatch(/1 +gvm1 +Linux +Active/);

    type('shyper vm config /etc/shyper/bm.json');
    expect(await waitFor(/vm 3 "bm-gvm" configured|failed[^\n]*/, 'vm config')).toContain('configured');
    type('shyper vm boot 3');
    await waitFor(/\[vm3\] hello from a VM the MVM built/, "the new VM's console");

    type('shyper vm reboot -f 3');
    await waitFor(/\[vm3\] hello from a VM the MVM built/, 'the VM printing again after its forced reboot');
    type('shyper vm remove 3; shyper vm list');
    const after = await waitFor(/STATE[^\n]*\n([^\n]*\n)*?[^\n]*gvm2[^\n]*\n/, 'vm list after remove');
    expect(after).not.toMatch(/bm-gvm/);
    expect(log).toContain('shyper: vm3 (bm-gvm) removed, its 0x200000 bytes of memory freed');

    // In a GVM the module loads (its own id, its message queue) but management calls are refused.
    mux.select(1);
    await waitFor(/keyboard to vm1/, 'focus on vm1');
    type('insmod /lib/modules/shyper.ko; shyper vm getvmid; shyper vm list; shyper vm config /etc/shyper/bm.json');
    expect(await waitFor(/current VM id: \d/, 'getvmid in vm1')).toBe('current VM id: 1');
    await waitFor(/vm list: refused by the hypervisor/, 'vm list refused in vm1');
    await waitFor(/step 1 \(add the VM\) failed: refused by the hypervisor/, 'vm config refused in vm1');
    expect(log.some((l) => /vm1: HVC_VMM_LIST_VM is a management call, only VM 0 may make it/.test(l))).toBe(true);

    // A soft reboot is a message to the GVM's own module, which reboots its kernel.
    mux.select(0);
    await waitFor(/keyboard to vm0/, 'focus on vm0');
    type('shyper vm reboot 1');
    await waitFor(/\[vm1\][^\n]*shyper: reboot requested by the hypervisor/, "vm1's module taking the reboot message");
    await waitFor(/\[vm1\][^\n]*Booting Linux/, 'vm1 starting again (PSCI SYSTEM_RESET)');
    expect(log).toContain('shyper: vm1 (gvm1) reset: rebooting from its images');
    // The 2-vCPU GVM comes back whole (it used to stop after its earlycon line: the CPU of its
    // busy vCPU 1 ran on in the old context after the reset, see test/hypervisor/vm-reset.test.ts).
    await waitFor(/\[vm1\] [^\n]*SMP: Total of 2 processors activated/, 'vm1 bringing up both vCPUs again');
    await waitFor(/\[vm1\] shyper-guest: boot ok/, 'vm1 at boot ok again');
    type('poweroff -f');
    for (let i = 0; i < 2000 && !off; i++) {
      if (machine.runFor(50) === 'idle') machine.advanceIdle(Infinity);
      await new Promise((r) => setImmediate(r));
    }
    expect(off).toBe(true);
  });
});
