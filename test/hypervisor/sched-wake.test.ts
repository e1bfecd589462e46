// Two VMs share a physical CPU: a vCPU that sleeps in WFI until its virtual timer fires must be
// woken when the other VM's vCPU is the one loaded (its timer is then saved in its context, not
// counting in the hardware). Found by the attack suite: a WFI-storm guest sharing Linux's core
// was never scheduled again once it slept, and with a second sleeper the machine hung.
import { describe, expect, it } from 'vitest';
import { boards } from '../../boards/index.ts';
import { After, Mode, boardParams, runVms } from './attack-harness.ts';

const board = boards['qemu-virt']!;

describe.each([3, 2] as const)('scheduler, GICv%i: a sleeper sharing a core is woken by its virtual timer', (gic) => {
  it('while the other VM sleeps too (the pCPU parks with the other vCPU loaded)', async () => {
    const bp = boardParams(board, gic);
    const r = await runVms({
      board,
      gic,
      maxVirtualMs: 20,
      vms: [
        { kind: 'bma', name: 'timer', cores: [0], shared: true, params: { mode: Mode.wfi, after: After.park, iter: 10, iter2: 20, timerTicks: 50, ...bp } },
        { kind: 'bma', name: 'sleeper', cores: [0], shared: true, params: { mode: Mode.hello, after: After.park, ...bp } },
      ],
    });
    expect(r.of(1)).toContain('bma: finished');
    expect(r.of(0)).toContain('wfi: 20 WFIs, 21 timer interrupts taken');
    expect(r.of(0)).toContain('bma: finished');
  });

  it.skipIf(gic === 2)('while the other VM spins (woken, it runs at the next slice boundary)', async () => {
    const bp = boardParams(board, gic);
    const r = await runVms({
      board,
      gic,
      maxVirtualMs: 40,
      vms: [
        { kind: 'bma', name: 'timer', cores: [0], shared: true, params: { mode: Mode.wfi, after: After.park, iter: 10, iter2: 1, timerTicks: 50, ...bp } },
        { kind: 'bma', name: 'spinner', cores: [0], shared: true, params: { mode: Mode.hello, after: After.spin, ...bp } },
      ],
      until: ({ lines }) => lines.some((l) => l.vm === 0 && l.text === 'bma: finished'),
    });
    expect(r.of(0)).toContain('wfi: 1 WFIs, 2 timer interrupts taken');
    expect(r.of(0)).toContain('bma: finished');
    // Round-robin, 10 ms slices: the wake-up waits for the spinner's slice to end.
    expect(r.virtualNs).toBeGreaterThan(10e6);
    expect(r.virtualNs).toBeLessThan(25e6);
  });
});
