// The MVM as the attacker (issue 9): VM 0 is the bare-metal test guest in MODE_MVM, making 100 000
// random management hypercalls through the real trap path (HVC #0 from a running guest), with
// plausible arguments so that they reach deep: VMs added, configured, built from garbage kernels,
// booted, rebooted, removed. Left out only what is VM 0's right and would end the test (SYS calls;
// powering off, resetting or removing the GVM beside it). The GVM beside it — the test guest in
// MODE_WFI, taking timer interrupts — must print exactly what it prints beside an idle VM 0, and
// the hypervisor must neither throw nor report an internal error.
import { beforeAll, describe, expect, it } from 'vitest';
import { boards } from '../../boards/index.ts';
import { After, Mode, boardParams, runVms, type RunResult, type VmSpec } from './attack-harness.ts';

const board = boards['qemu-virt']!;
const bp = boardParams(board, 3);
const CALLS = 100_000;

const victim: VmSpec = { kind: 'bma', name: 'wfi', cores: [1], params: { mode: Mode.wfi, after: After.park, iter: 2000, iter2: 200, timerTicks: 50, ...bp } };

async function run(vm0: VmSpec): Promise<RunResult> {
  return runVms({
    board,
    gic: 3,
    maxVirtualMs: 20_000,
    vms: [vm0, victim],
    until: ({ lines }) => lines.some((l) => l.vm === 0 && l.text === 'bma: finished') && lines.some((l) => l.vm === 1 && l.text === 'bma: finished'),
  });
}

describe('100 000 random hypercalls from the MVM beside a running GVM', { timeout: 600_000 }, () => {
  let base!: RunResult;
  let atk!: RunResult;
  beforeAll(async () => {
    base = await run({ kind: 'bma', name: 'mvm', cores: [0], params: { mode: Mode.hello, after: After.park, ...bp } });
    atk = await run({ kind: 'bma', name: 'mvm', cores: [0], params: { mode: Mode.mvm, after: After.park, iter: CALLS, keep: 2, seed: 0x5eed_0001n, ...bp } });
    const count = (re: RegExp): number => atk.log.filter((l) => re.test(l)).length;
    console.log(`MVM fuzz: ${atk.wallMs.toFixed(0)} ms wall, ${(atk.virtualNs / 1e6).toFixed(1)} ms virtual; ${atk.of(0).find((l) => l.startsWith('mvm: '))}; ${count(/built from the MVM/)} VMs built, ${count(/booted by the MVM/)} booted, ${count(/removed/)} removed; ${atk.log.length} hypervisor log lines`);
  }, 600_000);

  it('VM 0 makes them all and finishes; registers x1-x7 come back untouched; many reach past their first checks', () => {
    const lines = atk.of(0);
    expect(lines).toContain('bma: finished');
    const m = /^mvm: (\d+) calls: (\d+) errors, (\d+) successes, (\d+) VMs added, (\d+) registers changed$/.exec(lines.find((l) => l.startsWith('mvm: ')) ?? '');
    expect(m).not.toBeNull();
    const [calls, errors, successes, added, changed] = m!.slice(1).map(Number);
    // Skipped draws (SYS, powering the kept VMs) are a few percent of them.
    expect(calls).toBeGreaterThan(0.9 * CALLS);
    expect(errors! + successes!).toBe(calls);
    expect(changed).toBe(0);
    expect(added).toBeGreaterThan(0);
    expect(successes).toBeGreaterThan(added!);
    // The calls built VMs from what they uploaded, the real path for the MVM's CLI.
    expect(atk.log.some((l) => /built from the MVM's configuration/.test(l))).toBe(true);
    expect(atk.log.some((l) => /booted by the MVM/.test(l))).toBe(true);
  });

  it('the hypervisor reports no internal error and the run ends normally', () => {
    expect(atk.state).not.toBe('error');
    expect(atk.log.filter((l) => /internal error|exception|TypeError|RangeError/.test(l))).toEqual([]);
  });

  it('the GVM beside it prints exactly what it prints beside an idle VM 0, and is still there, running', () => {
    expect(base.of(1)).toContain('bma: finished');
    expect(atk.of(1)).toEqual(base.of(1));
    const vm1 = atk.hv.vms.find((v) => v.id === 1)!;
    expect(vm1.name).toBe('wfi');
    expect(vm1.state).toBe('active');
  });
});
