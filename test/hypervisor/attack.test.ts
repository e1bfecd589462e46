// Isolation, tried as an attacker would (issue 8): bare-metal guests of ours
// (guests/baremetal/bma.bin) attack the hypervisor from VMs of their own while the kit's Linux
// boots as VM 0 beside them, each on its own core of qemu-virt (8 cores, one Linux boot shared by
// every attacker):
//   mem    loads, stores, pair and writeback accesses (no syndrome), fetches and DC CIVAC at
//          addresses outside its memory: another VM's IPA range, the host PAs of the other VMs'
//          RAM, the hypervisor's 16 MiB (its stage-2 tables), GICH/GICV, other cores' GICR
//          frames, the virtio window, the top of the IPA space; then a 5000-page sweep;
//   sgi    ICC_SGI1R_EL1 (GICv3) with every target list, RS and affinity, IRM, ICC_ASGI1R and
//          ICC_SGI0R; GICD_SGIR with every filter and target list and GICD_SPENDSGIR (GICv2);
//   gicd   enables, pends, activates, prioritises, reconfigures and routes every SPI (Linux's UART
//          SPI among them), then disables/clears every one, writes every word and byte of the
//          distributor window, 20 000 random accesses, and every word of its redistributor frame;
//   hvc    100 000 random HVCs (x0-x7 random), 20 000 random SMCs, 20 000 + 20 000 PSCI calls
//          with random arguments (HVC and SMC), HVC/SMC with non-zero immediates;
//   wfi    100 000 WFIs with its virtual timer interrupt pending (masked), 200 WFIs woken by the
//          timer re-armed every 50 ticks, 200 WFEs;
// plus a victim VM that enables every interrupt it has and reports any it takes, and a Linux GVM
// that panics (no initramfs, no root device: "VFS: Unable to mount root fs", panic=0 halts).
//
// Linux's console output is compared byte for byte (timestamps included) with a run where VM 0
// has one neighbour that spins instead. Virtual time advances in 20 µs slices shared by every
// core and skips ahead only when every core idles; with a core always busy (the attackers spin
// once done, the baseline's neighbour from the start) that never happens in either run, so the
// Linux VM's modeled time depends on nothing but its own core — anything an attacker does to it
// (an IPI, an interrupt, a stolen cycle, a lost byte) shows up as a difference. Its boot time is
// compared too. The same on GICv2 (qemu-virt --gic 2) for the memory and GIC attacks; and two
// attackers sharing Linux's core round-robin, where Linux may lose only their share of the core.
import { beforeAll, describe, expect, it } from 'vitest';
import { boards } from '../../boards/index.ts';
import type { VmConfig } from '../../hypervisor/config.ts';
import { LOG_LINES_PER_VM } from '../../hypervisor/shyper.ts';
import { SLICE_NS } from '../../hypervisor/sched.ts';
import type { Vgic } from '../../hypervisor/vgic/vgic.ts';
import { After, BMA_IPA, Mode, boardParams, runVms, type BmaParams, type RunResult, type VmSpec } from './attack-harness.ts';

const board = boards['qemu-virt']!;
const g = board.gic;
/** The Linux runs take a while on a loaded 2-core CI machine. */
const RUN_TIMEOUT = 20 * 60_000;
const MAX_VIRTUAL_MS = 200;

const LINUX: VmSpec = { kind: 'linux', name: 'linux', cores: [0], cmdline: 'console=ttyAMA0 shyper.test=1', memory: 0xc000000 };
const UART_SPI = 32 + board.uarts[0]!.spi;

/** Every attacker ends spinning: some core is always busy, in the baseline too (see above). */
const spin = { after: After.spin };

function memProbes(c: VmConfig[], victim: number, others: number[], gic: 2 | 3): number[] {
  const probes = [
    BMA_IPA + (2 << 20), // just past its own memory
    BMA_IPA - 8, // just before it
    board.memory.base, // Linux's IPA base; as a PA, the hypervisor's memory (VM 0's stage-2 root table)
    board.memory.base + (16 << 20) - 4096, // the last page of the hypervisor's 16 MiB
    board.memory.base + 0x200000, // Linux's kernel, by IPA
    c[0]!.memory[0]!.pa, // VM 0's RAM, by host PA
    c[0]!.memory[0]!.pa + 0x200000, // VM 0's kernel, by host PA
    c[victim]!.memory[0]!.pa, // the victim's RAM (its code), by host PA
    ...others.map((i) => c[i]!.memory[0]!.pa),
    g.gichBase!, // the physical GICv2 hypervisor interface
    g.gicvBase!, // the physical GICv2 virtual CPU interface
    board.virtio.base, // the virtio-mmio window
    board.uarts[0]!.base + 0x1000, // the page after its emulated UART
    board.memory.base + (512 << 20) - 4096, // the last page of the board's RAM
    2 ** 39 - 4096, // the last page of the IPA space
    2 ** 39, // past the IPA space
    2 ** 47, // far past it
  ];
  if (gic === 3) probes.push(g.redistBase! + 0x20000, g.redistBase! + 7 * 0x20000); // other cores' GICR frames
  return probes;
}
/** Probed on top: past the CPU's 48-bit physical address range (its own stage-1 fault, not the hypervisor's). */
const BEYOND_PA = 2 ** 48;

function attackers(gic: 2 | 3, victim: number, others: number[]): VmSpec[] {
  const bp = boardParams(board, gic);
  return [
    { kind: 'bma', name: 'mem', cores: [1], params: (c) => ({ mode: Mode.mem, ...spin, ...bp, probes: [...memProbes(c, victim, others, gic), BEYOND_PA], sweepBase: 0x5000_0000, sweepPages: 5000 }) },
    { kind: 'bma', name: 'sgi', cores: [2], params: { mode: Mode.sgi, ...spin, ...bp } },
    { kind: 'bma', name: 'gicd', cores: [3], params: { mode: Mode.gicd, ...spin, ...bp, iter: 20_000, seed: 0x5eed1n } },
  ];
}

const hvcParams = (gic: 2 | 3): BmaParams => ({ mode: Mode.hvc, ...spin, ...boardParams(board, gic), iter: 100_000, iter2: 20_000, seed: 0x5eed2n });
const wfiParams = (gic: 2 | 3): BmaParams => ({ mode: Mode.wfi, ...spin, ...boardParams(board, gic), iter: 100_000, iter2: 200, timerTicks: 50 });
const victimParams = (gic: 2 | 3): BmaParams => ({ mode: Mode.victim, ...boardParams(board, gic) });

const baselines = new Map<number, Promise<RunResult>>();
/** VM 0 with one neighbour that prints a line and spins (one run per GIC version, shared). */
function baseline(gic: 2 | 3): Promise<RunResult> {
  let r = baselines.get(gic);
  if (r === undefined) {
    r = runVms({ board, gic, maxVirtualMs: MAX_VIRTUAL_MS, vms: [LINUX, { kind: 'bma', name: 'bystander', cores: [1], params: { mode: Mode.hello, ...spin, ...boardParams(board, gic) } }] });
    baselines.set(gic, r);
  }
  return r;
}

const ATTACK_PATTERN = Buffer.from('e5c47aa7e5c47aa7', 'hex'); // the mem attacker's 64-bit store

/** Does the VM's RAM hold the mem attacker's store pattern anywhere? */
function holdsAttackPattern(r: RunResult, vmId: number): boolean {
  const vm = r.hv.vms.find((v) => v.id === vmId)!;
  const CHUNK = 16 << 20;
  for (const m of vm.ram) {
    for (let off = 0; off < m.size; off += CHUNK) {
      const bytes = r.machine.bus.readBytes(m.pa + off, Math.min(CHUNK + 8, m.size - off));
      if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf(ATTACK_PATTERN) >= 0) return true;
    }
  }
  return false;
}

/** The physical distributor's SPI configuration and state (what no guest but an owner may change). */
function physicalSpis(r: RunResult, gic: 2 | 3): number[] {
  const bus = r.machine.bus;
  const out: number[] = [];
  const spiEnd = 32 + g.spis;
  for (const base of [0x080, 0x100, 0x200, 0x300]) for (let id = 32; id < spiEnd; id += 32) out.push(bus.read(g.distBase + base + id / 8, 4));
  for (let id = 32; id < spiEnd; id += 4) out.push(bus.read(g.distBase + 0x400 + id, 4));
  for (let id = 32; id < spiEnd; id += 16) out.push(bus.read(g.distBase + 0xc00 + id / 4, 4));
  if (gic === 3) for (let id = 32; id < spiEnd; id++) out.push(bus.read(g.distBase + 0x6000 + id * 8, 4), bus.read(g.distBase + 0x6004 + id * 8, 4));
  else for (let id = 32; id < spiEnd; id += 4) out.push(bus.read(g.distBase + 0x800 + id, 4));
  return out;
}

/** Core 0's redistributor SGI/PPI state (GICv3): Linux's private interrupts. */
function core0Private(r: RunResult): number[] {
  const sgi = g.redistBase! + 0x10000;
  return [0x080, 0x100, 0x200, 0x300, 0xc00, 0xc04, ...Array.from({ length: 8 }, (_, i) => 0x400 + 4 * i)].map((o) => r.machine.bus.read(sgi + o, 4));
}

const hypLog = (r: RunResult, vmId: number): string[] => r.log.filter((l) => l.startsWith(`vm${vmId}: `) || l.startsWith(`shyper: vm${vmId}: `));
const pageOf = (a: number): number => Math.floor(a / 4096);

/** The checks every attack run shares: Linux undisturbed, every attacker done, no hypervisor surprise. */
function commonChecks(name: () => { base: RunResult; atk: RunResult; attackerIds: number[] }) {
  it('the Linux VM beside the attackers prints byte for byte what it prints beside an idle neighbour, and finishes', () => {
    const { base, atk } = name();
    expect(base.state).toBe('poweroff');
    expect(atk.state).toBe('poweroff');
    expect(atk.of(0)).toContain('shyper-guest: boot ok');
    expect(atk.of(0)).toContain('shyper-guest: test done');
    expect(atk.of(0)).toEqual(base.of(0));
  });

  it('the Linux VM is not delayed: same virtual time to `test done` and to power-off', () => {
    const { base, atk } = name();
    const tb = base.when(0, /test done/);
    const ta = atk.when(0, /test done/);
    expect(tb).toBeGreaterThan(0);
    expect(Math.abs(ta - tb) / tb).toBeLessThan(0.02);
    expect(Math.abs(atk.virtualNs - base.virtualNs) / base.virtualNs).toBeLessThan(0.02);
  });

  it('every attacker ran to the end before the Linux VM powered off (no hang, no host exception)', () => {
    const { atk, attackerIds } = name();
    for (const id of attackerIds) expect(atk.of(id), `vm${id}`).toContain('bma: finished');
    expect(atk.lines.filter((l) => / unexpected exception /.test(l.text))).toEqual([]);
    expect(atk.log.filter((l) => /unexpected trap|has no owner|further messages suppressed$/.test(l))).toEqual([]);
  });

  it("the physical distributor's SPIs end as in the run without attackers (Linux's UART SPI among them)", () => {
    const { base, atk } = name();
    const gic = atk.machine.gicVersion;
    expect(physicalSpis(atk, gic)).toEqual(physicalSpis(base, gic));
    if (gic === 3) expect(core0Private(atk)).toEqual(core0Private(base));
    // Linux's UART SPI: enabled and (GICv3) routed to core 0.
    expect((atk.machine.bus.read(g.distBase + 0x100 + 4, 4) >>> (UART_SPI - 32)) & 1).toBe(1);
    if (gic === 3) expect(atk.machine.bus.read(g.distBase + 0x6000 + UART_SPI * 8, 4)).toBe(0);
  });
}

function memChecks(run: () => RunResult, mem: number, victim: number, others: number[], gic: 2 | 3) {
  it('mem: every load, store and fetch outside its memory aborts into its own vector; one hypervisor line each', () => {
    const r = run();
    const lines = r.of(mem);
    expect(lines.filter((l) => /LEAK/.test(l))).toEqual([]);
    const probes = lines.filter((l) => l.startsWith('mem: probe '));
    const addrs = memProbes(r.configs, victim, others, gic);
    expect(probes).toHaveLength(addrs.length + 1);
    for (const l of probes) expect(l).toMatch(/: (9|8)\/9 accesses aborted/); // DC CIVAC may complete
    // The hypervisor: one line per probed page for data accesses, one per fetch.
    const log = hypLog(r, mem);
    for (const a of addrs) {
      expect(log.filter((l) => /an access to unmapped IPA/.test(l) && pageOf(Number(/IPA (0x[0-9a-f]+)/.exec(l)![1])) === pageOf(a)), `0x${a.toString(16)}`).toHaveLength(1);
      expect(log.filter((l) => /instruction fetch from unmapped IPA/.test(l) && pageOf(Number(/IPA (0x[0-9a-f]+)/.exec(l)![1])) === pageOf(a)), `0x${a.toString(16)}`).toHaveLength(1);
    }
    // Past the CPU's physical address range the guest faults at stage 1 by itself.
    expect(probes.at(-1)).toMatch(new RegExp(`probe 0x${BEYOND_PA.toString(16)}: 9/9 accesses aborted`));
    expect(log.some((l) => l.includes(`0x${BEYOND_PA.toString(16)} `))).toBe(false);
  });

  it(`mem: a 5000-page sweep aborts on every page and costs the log at most ${LOG_LINES_PER_VM} lines and a "suppressed"`, () => {
    const r = run();
    expect(r.of(mem)).toContain('mem: sweep 0x50000000, 5000 pages: 5000 aborted');
    const log = hypLog(r, mem);
    expect(log).toHaveLength(LOG_LINES_PER_VM + 1);
    expect(log.at(-1)).toBe(`shyper: vm${mem}: further messages about this VM suppressed`);
  });

  it("mem: nothing it stored landed in another VM's RAM; the victim's image is intact", () => {
    const r = run();
    for (const id of [0, victim, ...others]) expect(holdsAttackPattern(r, id), `vm${id}`).toBe(false);
    const v = r.hv.vms.find((x) => x.id === victim)!;
    const img = v.setup.kernel.data;
    const now = new Uint8Array(img.length);
    expect(v.readGuest(v.setup.kernel.ipa, now)).toBe(true);
    expect(Buffer.from(now).equals(Buffer.from(img))).toBe(true);
  });
}

function gicChecks(run: () => RunResult, sgi: number, gicd: number, victim: number) {
  it('sgi: every SGI request is refused but those to itself (all 16 arrive); the victim takes none', () => {
    const r = run();
    expect(r.of(sgi).find((l) => l.startsWith('sgi: '))).toMatch(/SGI requests sent; own SGIs received 0xffff \(expected 0xffff\)$/);
    expect(r.of(sgi).filter((l) => /^sgi: irq/.test(l))).toEqual([]);
    expect(r.of(victim)).toEqual([expect.stringMatching(/^bma: victim,/), `victim: at start: SPIs visible as enabled: ${UART_SPI}`, 'victim: self-test SGI received', 'bma: finished']);
  });

  it('gicd: it sees and changes only its own SPI; the victim still has its SPI enabled', () => {
    const r = run();
    const lines = r.of(gicd);
    expect(lines).toContain(`gicd: after enabling every SPI: SPIs visible as enabled: ${UART_SPI}`);
    expect(lines).toContain('gicd: after disabling every SPI: SPIs visible as enabled: none');
    expect(lines).toContain(`gicd: after the sweep: SPIs visible as enabled: ${UART_SPI}`);
    expect(lines).toContain('gicd: done, 20000 random accesses, 0 aborts');
    const vg = r.hv.vms.find((x) => x.id === victim)!.vgic as Vgic;
    expect(vg.model.enabled[vg.model.slot(0, UART_SPI)]).toBe(1);
  });
}

describe('attack suite, GICv3: five attackers, a victim and a panicking GVM beside Linux', () => {
  // VM 0 Linux, 1 mem, 2 sgi, 3 gicd, 4 hvc, 5 wfi, 6 victim, 7 Linux GVM that panics.
  const VICTIM = 6;
  const PANIC = 7;
  let base!: RunResult;
  let atk!: RunResult;
  beforeAll(async () => {
    base = await baseline(3);
    atk = await runVms({
      board,
      gic: 3,
      maxVirtualMs: MAX_VIRTUAL_MS,
      vms: [
        LINUX,
        ...attackers(3, VICTIM, [PANIC]),
        { kind: 'bma', name: 'hvc', cores: [4], params: hvcParams(3) },
        { kind: 'bma', name: 'wfi', cores: [5], params: wfiParams(3) },
        { kind: 'bma', name: 'victim', cores: [6], params: victimParams(3) },
        { kind: 'linux', name: 'panic', cores: [7], cmdline: 'console=ttyAMA0 panic=0', memory: 0x8000000, noInitrd: true },
      ],
    });
    console.log(`attack suite GICv3: baseline ${(base.wallMs / 1000).toFixed(1)} s, attack run ${(atk.wallMs / 1000).toFixed(1)} s wall; Linux test done at ${(atk.when(0, /test done/) / 1e6).toFixed(3)} ms virtual`);
  }, RUN_TIMEOUT);

  commonChecks(() => ({ base, atk, attackerIds: [1, 2, 3, 4, 5, VICTIM] }));
  memChecks(() => atk, 1, VICTIM, [PANIC], 3);
  gicChecks(() => atk, 2, 3, VICTIM);

  it('hvc: 100 000 random HVCs, 20 000 SMCs and 40 000 PSCI calls: error returns (or PSCI answers) only, x1-x7 untouched', () => {
    const lines = atk.of(4);
    expect(lines).toContain('hvc: 100000 calls: 100000 error returns, 0 PSCI answers, 0 unexpected, 0 registers changed');
    expect(lines).toContain('smc: 20000 calls: 20000 error returns, 0 PSCI answers, 0 unexpected, 0 registers changed');
    expect(lines).toContain('psci-hvc: 20000 calls: 0 error returns, 20000 PSCI answers, 0 unexpected, 0 registers changed');
    expect(lines).toContain('psci-smc: 20000 calls: 0 error returns, 20000 PSCI answers, 0 unexpected, 0 registers changed');
    expect(lines).toContain('hvc: immediates 0xffff/0x1234 returned, 0 undefined');
    const log = hypLog(atk, 4);
    expect(log).toHaveLength(LOG_LINES_PER_VM + 1);
    expect(log.at(-1)).toBe('shyper: vm4: further messages about this VM suppressed');
  });

  it('wfi: a storm of 100 000 trapped WFIs, 200 timer-woken WFIs and 200 WFEs all complete', () => {
    const lines = atk.of(5);
    expect(lines).toContain('wfi: 100000 WFIs with the timer interrupt pending and masked');
    const woken = /^wfi: 200 WFIs, (\d+) timer interrupts taken$/.exec(lines.find((l) => /timer interrupts taken/.test(l)) ?? '');
    expect(Number(woken?.[1])).toBeGreaterThanOrEqual(200);
    expect(lines).toContain('wfi: 200 WFEs');
  });

  it('a Linux GVM that panics stops alone: the run goes on, every other VM finishes', () => {
    const lines = atk.of(PANIC);
    // No initramfs: the kernel looks for a root device, finds none, panics.
    expect(lines.some((l) => /\] Kernel panic - not syncing: VFS: Unable to mount root fs/.test(l))).toBe(true);
    expect(atk.when(PANIC, /Kernel panic/)).toBeLessThan(atk.when(0, /test done/));
    expect(atk.hv.vms[PANIC]!.state).toBe('active');
    expect(atk.log).toContain('shyper: vm0 (linux) powered off');
  });
});

describe('attack suite, GICv2 (qemu-virt --gic 2): memory and GIC attackers and a victim beside Linux', () => {
  // VM 0 Linux, 1 mem, 2 sgi (GICD_SGIR), 3 gicd, 4 victim, 5 wfi (GICv2 list registers).
  const VICTIM = 4;
  let base!: RunResult;
  let atk!: RunResult;
  beforeAll(async () => {
    base = await baseline(2);
    atk = await runVms({
      board,
      gic: 2,
      maxVirtualMs: MAX_VIRTUAL_MS,
      vms: [
        LINUX,
        ...attackers(2, VICTIM, []),
        { kind: 'bma', name: 'victim', cores: [4], params: victimParams(2) },
        { kind: 'bma', name: 'wfi', cores: [5], params: { ...wfiParams(2), iter: 20_000 } },
      ],
    });
    console.log(`attack suite GICv2: baseline ${(base.wallMs / 1000).toFixed(1)} s, attack run ${(atk.wallMs / 1000).toFixed(1)} s wall`);
  }, RUN_TIMEOUT);

  commonChecks(() => ({ base, atk, attackerIds: [1, 2, 3, VICTIM, 5] }));
  memChecks(() => atk, 1, VICTIM, [], 2);
  gicChecks(() => atk, 2, 3, VICTIM);

  it('wfi: 20 000 trapped WFIs, 200 timer-woken WFIs (GICv2 hardware list registers) and 200 WFEs all complete', () => {
    const lines = atk.of(5);
    expect(lines).toContain('wfi: 20000 WFIs with the timer interrupt pending and masked');
    expect(Number(/(\d+) timer interrupts taken$/.exec(lines.find((l) => /^wfi: 200 WFIs, /.test(l)) ?? '')?.[1])).toBeGreaterThanOrEqual(200);
    expect(lines).toContain('wfi: 200 WFEs');
  });
});

describe("attack suite: a hypercall fuzzer and a WFI storm sharing the Linux VM's core round-robin", () => {
  // Core 0: VM 0 Linux, VM 1 hvc, VM 2 wfi (round-robin, 10 ms slices); core 1: a spinning bystander.
  let base!: RunResult;
  let shared!: RunResult;
  beforeAll(async () => {
    base = await baseline(3);
    shared = await runVms({
      board,
      gic: 3,
      maxVirtualMs: MAX_VIRTUAL_MS,
      vms: [
        { ...LINUX, shared: true },
        { kind: 'bma', name: 'hvc', cores: [0], shared: true, params: { ...hvcParams(3), after: After.park } },
        // No timer-woken WFIs: woken, it would wait for Linux's slice and outlive the run.
        { kind: 'bma', name: 'wfi', cores: [0], shared: true, params: { ...wfiParams(3), iter2: 0, after: After.park } },
        { kind: 'bma', name: 'bystander', cores: [1], params: { mode: Mode.hello, ...spin, ...boardParams(board, 3) } },
      ],
    });
    console.log(`attack suite shared core: ${(shared.wallMs / 1000).toFixed(1)} s wall; Linux test done at ${(shared.when(0, /test done/) / 1e6).toFixed(3)} ms virtual vs ${(base.when(0, /test done/) / 1e6).toFixed(3)} ms alone`);
  }, RUN_TIMEOUT);

  const untimed = (lines: string[]): string[] =>
    lines.map((l) => l.replace(/^\[\s*\d+\.\d+\] /, '[time] ').replace(/^shyper-guest: uptime .*/, 'shyper-guest: uptime -').replace(/^(shyper-guest: getrandom ok) \(\d+ us\)$/, '$1'));

  it('the Linux VM prints the same lines (timestamps aside) and finishes; both attackers finish too', () => {
    expect(shared.state).toBe('poweroff');
    // The same lines; the kernel's asynchronous work (initramfs unpacking) may order a few differently.
    expect(untimed(shared.of(0)).sort()).toEqual(untimed(base.of(0)).sort());
    const ours = (lines: string[]): string[] => lines.filter((l) => l.startsWith('shyper-guest: '));
    expect(untimed(ours(shared.of(0)))).toEqual(untimed(ours(base.of(0))));
    expect(shared.of(0)).toContain('shyper-guest: test done');
    expect(shared.of(1)).toContain('hvc: 100000 calls: 100000 error returns, 0 PSCI answers, 0 unexpected, 0 registers changed');
    expect(shared.of(1)).toContain('bma: finished');
    expect(shared.of(2)).toContain('wfi: 100000 WFIs with the timer interrupt pending and masked');
    expect(shared.of(2)).toContain('bma: finished');
  });

  it("the Linux VM loses no more than the attackers' share of the core: at most a 10 ms slice each", () => {
    const alone = base.when(0, /test done/);
    const beside = shared.when(0, /test done/);
    expect(beside).toBeGreaterThan(alone);
    expect(beside - alone).toBeLessThanOrEqual(2 * SLICE_NS);
  });
});
