// PSCI SYSTEM_RESET reboots the calling VM from its images with a fresh vGIC; what the old vGIC
// left in the hardware of the physical CPU (list registers, a hardware-linked interrupt still
// active) must not outlive it. Found by the attack suite's test guest: rebooted with its virtual
// timer's interrupt in flight, the VM's timer never fired again (the physical PPI stayed active);
// rebooted with SGIs pending in list registers, those reached the next VM loaded on that CPU.
import { describe, expect, it } from 'vitest';
import { boards } from '../../boards/index.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostConsole } from '../../emulator/devices/console.ts';
import { Machine } from '../../emulator/machine.ts';
import { loadVmConfig } from '../../hypervisor/config.ts';
import { ConsoleMux, type MuxSink } from '../../src/console-mux.ts';
import { startHypervisor } from '../../src/hypervisor-run.ts';
import { After, Mode, boardParams, runVms, writeParams } from './attack-harness.ts';
import { code } from './fixtures.ts';

const board = boards['qemu-virt']!;

describe.each([3, 2] as const)('VM reset, GICv%i', (gic) => {
  const bp = boardParams(board, gic);

  it('a VM reset with its timer interrupt in flight gets a working timer after the reboot', async () => {
    const r = await runVms({
      board,
      gic,
      maxVirtualMs: 5,
      vms: [
        { kind: 'bma', name: 'idle', cores: [0], params: { mode: Mode.hello, after: After.park, ...bp } },
        { kind: 'bma', name: 'wfi', cores: [1], params: { mode: Mode.wfi, after: After.reset, iter: 10, iter2: 5, timerTicks: 50, exitTimer: true, ...bp } },
      ],
      until: ({ lines }) => lines.filter((l) => l.vm === 1 && l.text === 'bma: finished').length >= 3,
    });
    expect(r.log.filter((l) => /reset: rebooting/.test(l)).length).toBeGreaterThanOrEqual(2);
    expect(r.of(1).filter((l) => l === 'wfi: 5 WFIs, 6 timer interrupts taken')).toHaveLength(3);
  });

  it("SGIs a VM left pending in list registers when it reset do not reach the VM that shares its CPU", async () => {
    // VM 1 sends itself every SGI with IRQs masked and resets; the image it reboots from says
    // park. VM 2, sharing the core, takes and reports every interrupt it gets.
    const r = await runVms({
      board,
      gic,
      maxVirtualMs: 25,
      vms: [
        { kind: 'bma', name: 'idle', cores: [0], params: { mode: Mode.hello, after: After.park, ...bp } },
        { kind: 'bma', name: 'sgi', cores: [1], shared: true, params: { mode: Mode.sgi, sgiKeep: true, after: After.reset, ...bp } },
        { kind: 'bma', name: 'victim', cores: [1], shared: true, params: { mode: Mode.victim, ...bp } },
      ],
      onLine: (l, hv) => {
        if (l.vm === 1 && l.text === 'bma: finished') writeParams(hv.vms[1]!.setup.kernel.data, { mode: Mode.hello, after: After.park, ...bp });
      },
      until: ({ lines }) => lines.some((l) => l.vm === 2 && l.text === 'bma: finished'),
    });
    expect(r.of(1)).toContain('bma: hello, memory ends at 0x4000200000, mpidr 0x80000000');
    expect(r.of(2)).toEqual([expect.stringMatching(/^bma: victim,/), `victim: at start: SPIs visible as enabled: 33`, 'victim: self-test SGI received', 'bma: finished']);
  });
});

describe('forced reboot of a VM whose other vCPU is running', () => {
  // Regression (issue 9): a 2-vCPU Linux GVM did not come back after `shyper vm reboot 1 -f`.
  // The reset IPIs the physical CPU of the busy vCPU 1; its EL2 entry parks it (vCPU 1 is off
  // in the new incarnation), but the CPU went on executing the old vCPU's instructions, which
  // wrote into the freshly reloaded image (the new kernel faulted after its earlycon line).
  it('the old incarnation of vCPU 1 executes nothing after the reset; vCPU 0 boots again', () => {
    // VM 1's IPAs equal the PAs its memory gets (the pool starts above the hypervisor's 16 MiB,
    // VM 0 takes the first 4 MiB): a CPU running on at EL2 with the old guest PC (MMU off there)
    // executes the same loop and its stores land at MARK too, so the test sees it.
    const BASE = 0x4140_0000;
    const MARK = BASE + 0x20_0000;
    // VM 0 (the MVM): waits, then HVC_VMM_REBOOT_VM with force for VM 1, then spins.
    const mvm = code(['ldr x9, =300000', '1: subs x9, x9, #1', 'b.ne 1b', 'ldr x0, =0x10001', 'mov x7, #0x104', 'hvc #0', 'b .', '.ltorg']);
    // VM 1: vCPU 0 prints "b" and, unless `skip` is set, starts vCPU 1, which stores a rising
    // count at MARK without ever trapping (no WFI: it is running when the reset comes).
    const smp = code([
      'ldr x1, =0x09000000', 'mov w2, #0x62', 'str w2, [x1]', 'mov w2, #0x0a', 'str w2, [x1]',
      'adr x9, skip', 'ldr x10, [x9]', 'cbnz x10, 2f',
      'ldr x0, =0xc4000003', 'ldr x1, =0x80000001', 'adr x2, sec', 'mov x3, #0', 'smc #0',
      '2: b 2b',
      `sec: ldr x6, =${MARK}`, 'mov x5, #0', '3: add x5, x5, #1', 'str x5, [x6]', 'b 3b',
      '.ltorg', '.balign 8', 'skip: .quad 0',
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'reset-'));
    writeFileSync(join(dir, 'mvm.bin'), mvm);
    writeFileSync(join(dir, 'smp.bin'), smp);
    const entry = (name: string, cores: number[], file: string, devices: object[], ipa: number) => ({
      name,
      type: 'VM_T_BARE_MATEL_APP',
      image: { kernel_filename: file, kernel_load_ipa: `0x${ipa.toString(16)}`, kernel_entry_point: `0x${ipa.toString(16)}`, device_tree_load_ipa: `0x${(ipa + 0x80000).toString(16)}` },
      memory: { region: [{ ipa_start: `0x${ipa.toString(16)}`, length: '0x400000' }] },
      cpu: { num: cores.length, allocate_bitmap: `0b${cores.reduce((m, c) => m | (1 << c), 0).toString(2)}`, master: cores[0] },
      emulated_device_list: devices,
    });
    const uart = { name: 'uart', base_ipa: '0x9000000', length: '0x1000', irq_id: 33, type: 'EMU_DEVICE_T_CONSOLE' };
    writeFileSync(join(dir, 'vms.json'), JSON.stringify([entry('mvm', [0], 'mvm.bin', [], 0x4000_0000), entry('smp', [1, 2], 'smp.bin', [uart], BASE)]));
    const vms = loadVmConfig(join(dir, 'vms.json'), board, { gicVersion: 3 });
    const out: number[] = [];
    const sink: MuxSink = { write: (b) => void out.push(b), read: () => -1, hasInput: () => false, setInputListener: () => {} };
    const mux = new ConsoleMux(sink, { interactive: false, prefix: true });
    const machine = new Machine({ board, smp: 4, gicVersion: 3, console: new HostConsole() });
    const log: string[] = [];
    const { hv } = startHypervisor(machine, { vms, mux, seed: 0n, log: (l) => void log.push(l), onSystemOff: () => {} });
    const vm1 = hv.vms.find((v) => v.id === 1)!;
    expect(vm1.ram[0]!.pa).toBe(BASE);
    const mark = (): bigint => {
      const b = new Uint8Array(8);
      expect(vm1.readGuest(MARK, b)).toBe(true);
      return new DataView(b.buffer).getBigUint64(0, true);
    };
    const text = () => new TextDecoder().decode(Uint8Array.from(out));
    for (let i = 0; i < 200 && mark() === 0n; i++) machine.runSlice();
    expect(mark()).toBeGreaterThan(0n); // vCPU 1 is running
    // The image the reset reloads does not start vCPU 1: anything at MARK afterwards is the old one.
    new DataView(vm1.setup.kernel.data.buffer).setBigUint64(smp.length - 8, 1n, true);
    for (let i = 0; i < 400 && !log.some((l) => /forced reboot/.test(l)); i++) machine.runSlice();
    expect(log).toContain('shyper: vm1 (smp) forced reboot: reset, reloaded, booting');
    for (let i = 0; i < 200; i++) machine.runSlice();
    expect(text().split('[vm1] b\n')).toHaveLength(3); // vCPU 0 booted twice
    expect(mark()).toBe(0n);
    expect(vm1.vcpus[1]!.state).toBe('off');
  });
});
