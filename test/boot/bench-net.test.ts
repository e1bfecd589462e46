// The `net:` figure of `npm run bench` (src/commands/bench-net.ts) prints, with every round trip
// measured: two VMs on the switch, a VM and a --native guest to the gateway 10.0.2.2.
import { describe, expect, it } from 'vitest';
import { netFigure } from '../../src/commands/bench-net.ts';

describe('bench net', { timeout: 400_000 }, () => {
  it('prints one net: line with modeled µs and wall ms for vm<->vm, vm->gateway and native->gateway', async () => {
    const line = await netFigure();
    console.log(line);
    const m = /^net: ping round trip, modeled\/wall per ping: vm<->vm=(\d+)us\/([\d.]+)ms vm->gateway=(\d+)us\/([\d.]+)ms native->gateway=(\d+)us\/([\d.]+)ms \(/.exec(line);
    expect(m, line).not.toBeNull();
    const [vmVmUs, vmVmMs, vmGwUs, vmGwMs, natUs, natMs] = m!.slice(1).map(Number) as [number, number, number, number, number, number];
    for (const v of [vmVmUs, vmVmMs, vmGwUs, vmGwMs, natUs, natMs]) expect(v).toBeGreaterThan(0);
    // A round trip through a second guest's kernel costs that guest's work; the gateway answers at once.
    expect(vmVmUs).toBeGreaterThan(vmGwUs);
    expect(vmVmUs).toBeGreaterThan(natUs);
  });
});
