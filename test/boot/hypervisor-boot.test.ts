// The product's main job: `shyper-emu --board B` (no --native) boots the hypervisor with VM 0, the
// MVM, alone; the MVM's init boots the GVMs of the board's set through shyper.ko and the shyper
// CLI (docs/mvm.md) — two GVMs running the kit's unmodified Linux, and on rk3588 VM3, the
// bare-metal RTVM with the GIC passed through — and every Linux VM reaches `shyper-guest: boot ok` on its own console (the
// MVM's passed-through UART, the GVMs' hvc0), prefixed with its VM, while the RTVM prints its
// interrupt latency. `--config boards/vms/B.json` boots the same set directly (the RTVM with the
// GIC passed through). The management test mode is test/boot/mvm-default.test.ts.
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';

/** The CLI as a user runs it (test/cli/run-cli.ts), its output as `out`/`err`. */
async function run(args: string[], timeoutMs = 400_000): Promise<{ code: number | null; out: string; err: string }> {
  const r = await runCli(args, { timeoutMs });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

const vm1Cpus = 2;
const allBoot = ['--expect', '^\\[vm0\\] shyper-guest: boot ok', '--expect', '^\\[vm1\\] shyper-guest: boot ok', '--expect', '^\\[vm2\\] shyper-guest: boot ok', '--timeout', '380'];

describe('the hypervisor boots the default VM set', { timeout: 420_000 }, () => {
  for (const [name, args, how, rtvm] of [
    ['rk3588 (GICv3, DW 8250 UART2 passed through to the MVM, VM3 the RTVM with the GIC passed through)', ['--board', 'rk3588'], 'mvm', 'passthrough'],
    ['qemu-virt, GICv3', ['--board', 'qemu-virt'], 'mvm', null],
    ['qemu-virt, GICv2', ['--board', 'qemu-virt', '--gic', '2'], 'mvm', null],
    ['rk3588, the full set booted directly (--config), the RTVM with the GIC passed through', ['--board', 'rk3588', '--config', 'boards/vms/rk3588.json'], 'direct', 'passthrough'],
  ] as const) {
    it(`${name}: vm0, vm1 and vm2 reach boot ok${rtvm ? ', vm3 reports its latency' : ''}`, async () => {
      const r = await run([...args, ...allBoot, ...(rtvm ? ['--expect', '^\\[vm3\\] rtvm: report 2: hist'] : [])]);
      expect(r.err).not.toMatch(/UNDEFINED|internal error|at .*\.ts:\d+/);
      expect(r.code).toBe(0);
      for (const vm of [0, 1, 2]) expect(r.out).toMatch(new RegExp(`^\\[vm${vm}\\] shyper-guest: boot ok`, 'm'));
      expect(r.out).toMatch(new RegExp(`^\\[vm1\\] .*SMP: Total of ${vm1Cpus} processors activated`, 'm'));
      // Default run: the GVMs exist because the MVM's CLI made them; directly, from the start.
      for (const vm of rtvm ? [1, 2, 3] : [1, 2]) {
        if (how === 'mvm') expect(r.err).toMatch(new RegExp(`^shyper: vm${vm} \\(\\w+\\) booted by the MVM$`, 'm'));
        else expect(r.err).not.toMatch(/by the MVM/);
      }
      if (how === 'mvm') expect(r.out).toMatch(new RegExp(`^\\[vm0\\] shyper-mvm: ${rtvm ? 3 : 2} VM\\(s\\) booted`, 'm'));
      if (rtvm) {
        // The RTVM's own lines: its core (with the GIC passed through it reads core 7's physical
        // MPIDR), then min/avg/max and a histogram every 32 periods.
        expect(r.out).toMatch(/^\[vm3\] rtvm: rk3588 mpidr 0x81000700 midr 0x414fd0b0 cntfrq 24000000 Hz/m);
        expect(r.out).toMatch(/^\[vm3\] rtvm: report 1: n=32 min=\d+ avg=[\d.]+ max=\d+ cycles/m);
        expect(r.out).toMatch(/^\[vm3\] rtvm: report 1: hist <32:\d+ /m);
      }
      // Every line of output belongs to a VM.
      for (const line of r.out.split('\n').filter((l) => l.length > 0)) expect(line).toMatch(rtvm ? /^\[vm[0-3]\] / : /^\[vm[0-2]\] /);
      // The GVMs' console is hvc0 (virtio-console): earlycon on the emulated UART until hvc0
      // takes over, each line once.
      for (const vm of [1, 2]) {
        const lines = r.out.split('\n').filter((l) => l.startsWith(`[vm${vm}] `)).join('\n');
        expect(lines).toMatch(/earlycon: \w+ at MMIO/);
        expect(lines).toMatch(/printk: console \[hvc0\] enabled/);
        expect(lines).toMatch(/printk: bootconsole \[\w+\] disabled/);
        expect(lines.match(/Run \/init as init process/g)).toHaveLength(1);
      }
    });
  }

  it('VM 0 powering off ends the run with exit 0 (the kit\'s test mode in VM 0 of the direct set)', async () => {
    const r = await run(['--board', 'qemu-virt', '--config', 'boards/vms/qemu-virt.json', '--append', 'shyper.test=1', '--timeout', '380']);
    expect(r.out).toMatch(/^\[vm0\] shyper-guest: test done/m);
    expect(r.err).toContain('shyper: vm0 (mvm) powered off');
    expect(r.code).toBe(0);
  });

  it('a config error is one line and exit 2', async () => {
    const r = await run(['--board', 'qemu-virt', '--config', 'no-such-file.json']);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/no-such-file\.json/);
  });
});
