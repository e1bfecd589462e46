// The default run is Rust-Shyper's workflow (issue 9): `shyper-emu --board B` boots VM 0, the MVM,
// alone; its init loads shyper.ko and boots the GVMs of /etc/shyper/B/ with `shyper vm config` +
// `shyper vm boot` (the real hypercall path). With shyper.test=1 on VM 0's command line the MVM
// then lists the VMs, forces a reboot of VM 1 and waits for its boot ok (read from GVM 1's console
// in peer mode), removes VM 2, lists again and powers the system off: exit 0. One boot per board
// checks all of it from the output, as CI runs it.
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';

/** The lines of VM `vm` (prefix removed), in order. */
function linesOf(out: string, vm: number): string[] {
  const p = `[vm${vm}] `;
  return out.split('\n').filter((l) => l.startsWith(p)).map((l) => l.slice(p.length).replace(/\r$/, ''));
}

/** A `shyper vm list` table printed by VM 0 after the line `after`: NAME → STATE. */
function listAfter(vm0: string[], after: string): Map<string, string> {
  const i = vm0.findIndex((l, k) => k > vm0.indexOf(after) && /^ID +NAME +TYPE +STATE/.test(l));
  expect(i, `a vm list after "${after}"`).toBeGreaterThan(0);
  const rows = new Map<string, string>();
  for (const l of vm0.slice(i + 1)) {
    const m = /^(\d+) +(\S+) +\S.*? +(\S+)$/.exec(l); // TYPE may be two words (Bare Metal App)
    if (m === null) break;
    rows.set(`${m[1]} ${m[2]}`, m[3]!);
  }
  return rows;
}

describe('default run: the MVM boots and manages the GVMs (shyper.test=1)', { timeout: 600_000 }, () => {
  for (const [board, args, gvms] of [
    ['rk3588', ['--board', 'rk3588'], ['1 gvm1', '2 gvm2', '3 rtvm']],
    ['qemu-virt', ['--board', 'qemu-virt'], ['1 gvm1', '2 gvm2']],
  ] as const) {
    it(`${board}: config + boot from VM 0, list, forced reboot of VM 1 back to boot ok, remove VM 2, power off`, async () => {
      const r = await runCli([...args, '--append', 'shyper.test=1', '--timeout', '560'], { timeoutMs: 590_000 });
      const fail = `exit ${r.code}\nstderr:\n${r.stderr}\nstdout tail:\n${r.stdout.slice(-4000)}`;
      expect(r.code, fail).toBe(0);
      expect(r.stderr).not.toMatch(/UNDEFINED|internal error|at .*\.ts:\d+/);
      // Every GVM came through the hypercall path: added, built from the MVM's configuration, booted.
      for (const g of gvms) {
        const [id, name] = g.split(' ');
        expect(r.stderr).toContain(`shyper: vm${id} (${name}) added by the MVM`);
        expect(r.stderr).toMatch(new RegExp(`shyper: vm${id} \\(${name}\\) built from the MVM's configuration`));
        expect(r.stderr).toContain(`shyper: vm${id} (${name}) booted by the MVM`);
      }
      const vm0 = linesOf(r.stdout, 0);
      const vm1 = linesOf(r.stdout, 1);
      for (const g of gvms) expect(vm0).toContain(`shyper: vm ${g.replace(' ', ' "')}" configured (shyper vm boot ${g[0]} starts it)`);
      expect(vm0).toContain(`shyper-mvm: ${gvms.length} VM(s) booted`);
      // The first list: VM 0 and every GVM; all Active or Pending.
      const first = listAfter(vm0, 'shyper-mvm: test: vm list');
      expect([...first.keys()]).toEqual(['0 mvm', ...gvms]);
      for (const s of first.values()) expect(s).toMatch(/^(Active|Pending)$/);
      // VM 1 (2 vCPUs) boots twice, whole: once before the forced reboot, once after.
      expect(vm1.filter((l) => l === 'shyper-guest: boot ok')).toHaveLength(2);
      expect(vm1.filter((l) => /SMP: Total of 2 processors activated/.test(l))).toHaveLength(2);
      expect(r.stderr).toContain('shyper: vm1 (gvm1) forced reboot: reset, reloaded, booting');
      expect(vm0).toContain('shyper-mvm: test: vm 1 came back (Active)');
      const order = ['shyper-mvm: test: vm 1 is up', 'shyper-mvm: test: forced reboot of vm 1', 'shyper-mvm: test: vm 1 came back (Active)', 'shyper-mvm: test: remove vm 2', 'shyper-mvm: test done'];
      expect(order.map((l) => vm0.indexOf(l))).toEqual([...order.map((l) => vm0.indexOf(l))].sort((a, b) => a - b));
      expect(order.every((l) => vm0.includes(l))).toBe(true);
      // The second boot ok of VM 1 is printed after the MVM asked for the reboot (console order).
      const out = r.stdout;
      expect(out.lastIndexOf('[vm1] shyper-guest: boot ok')).toBeGreaterThan(out.indexOf('[vm0] shyper-mvm: test: forced reboot of vm 1'));
      // Nothing GVM 1 printed was echoed back by the MVM's end of its console (no shell prompt of
      // GVM 1 shows on VM 0's line; VM 0's own shell starts only after the test).
      expect(vm0.slice(0, vm0.indexOf('shyper-mvm: test done')).filter((l) => l.includes('/ # '))).toEqual([]);
      // VM 2 removed: gone from the second list, its memory freed.
      const second = listAfter(vm0, 'shyper-mvm: test: remove vm 2');
      expect([...second.keys()]).toEqual(['0 mvm', ...gvms.filter((g) => g !== '2 gvm2')]);
      expect(r.stderr).toContain('shyper: vm2 (gvm2) removed, its 0x');
      expect(r.stderr).toContain('shyper: vm0 (mvm) powered off');
      if (board === 'rk3588') {
        // The RTVM, booted by the MVM too, with the GIC passed through (its config's
        // EMU_DEVICE_T_GPPT): it reads core 7's physical MPIDR and takes its timer interrupt
        // directly (tens of cycles; under the vGIC it is hundreds).
        const rt = linesOf(out, 3);
        expect(rt.some((l) => l.startsWith('rtvm: rk3588 mpidr 0x81000700 '))).toBe(true);
        const report = rt.map((l) => /^rtvm: report 1: n=32 min=\d+ avg=[\d.]+ max=(\d+) cycles/.exec(l)).find((m) => m !== null);
        expect(report).toBeDefined();
        expect(Number(report![1])).toBeLessThan(200);
      }
    });
  }
});
