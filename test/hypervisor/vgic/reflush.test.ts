// The hypervisor's IRQ entry as Shyper runs it: sync() on entry, the maintenance handler (which
// folds and refills the list registers), then flush() again before returning to the guest. A
// flush over list registers that the previous flush filled and no sync folded back lost the
// pending interrupts in them — found by the attack suite's SGI attacker (16 SGIs to itself,
// 6 never arrived while it polled without trapping).
import { describe, expect, it } from 'vitest';
import { el2Maintenance, linuxBoot, maintenancePending, makeHost, makeMachine, makeVm } from './harness.ts';

describe.each([3, 2] as const)('vGIC v%i: flush twice without a guest run in between', (version) => {
  it('16 SGIs to self, more than the LRs: every one is delivered across maintenance + run-loop flushes', () => {
    const t = makeMachine(version);
    const phys = t.bootPhys();
    const vm = makeVm(t, makeHost(1, [0]), 64);
    linuxBoot(vm);
    for (let id = 0; id < 16; id++) {
      if (version === 3) vm.vgic.sgi1r(0, BigInt(1 | (id << 24)));
      else vm.gicd(0).w(0xf00, (2 << 24) | id);
    }
    vm.enter(0);
    const g = vm.guest(0);
    const seen: number[] = [];
    let maintenances = 0;
    for (let k = 0; k < 40; k++) {
      const iar = g.ack();
      if ((iar & 0x3ff) === 1023) break;
      seen.push(iar & 0x3ff);
      if (maintenancePending(t, 0)) {
        // Shyper.irq(): sync at entry, the maintenance handler, then schedule() flushes again.
        vm.exit(0);
        el2Maintenance(t, phys, vm, 0);
        vm.enter(0);
        maintenances++;
      }
      g.eoi(iar);
    }
    expect(maintenances).toBeGreaterThan(1);
    expect(seen).toEqual([...Array(16).keys()]);
  });

  it('flush, flush: the second leaves the list registers as the first wrote them', () => {
    const t = makeMachine(version);
    t.bootPhys();
    const vm = makeVm(t, makeHost(1, [0]), 64);
    linuxBoot(vm);
    for (let id = 0; id < 6; id++) {
      if (version === 3) vm.vgic.sgi1r(0, BigInt(1 | (id << 24)));
      else vm.gicd(0).w(0xf00, (2 << 24) | id);
    }
    vm.enter(0);
    const lrs = [...t.gic.virt[0]!.lr];
    vm.enter(0);
    expect([...t.gic.virt[0]!.lr]).toEqual(lrs);
    expect(lrs.filter((l) => l !== 0n)).toHaveLength(4);
  });
});
