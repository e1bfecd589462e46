// PSCI SYSTEM_RESET reboots the calling VM from its images with a fresh vGIC; what the old vGIC
// left in the hardware of the physical CPU (list registers, a hardware-linked interrupt still
// active) must not outlive it. Found by the attack suite's test guest: rebooted with its virtual
// timer's interrupt in flight, the VM's timer never fired again (the physical PPI stayed active);
// rebooted with SGIs pending in list registers, those reached the next VM loaded on that CPU.
import { describe, expect, it } from 'vitest';
import { boards } from '../../boards/index.ts';
import { After, Mode, boardParams, runVms, writeParams } from './attack-harness.ts';

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
