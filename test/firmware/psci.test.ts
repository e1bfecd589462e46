import { describe, expect, it } from 'vitest';
import { Cpu } from '../../emulator/arm64/cpu.ts';
import { FlatMemory } from '../../emulator/arm64/flat-memory.ts';
import { PSCI, PsciFirmware, type PowerController } from '../../emulator/firmware/psci.ts';

function setup() {
  const on = [true, false, false, false];
  const events: string[] = [];
  const mpidrs = [0x000, 0x100, 0x200, 0x300];
  const power: PowerController = {
    cpuIndexByMpidr: (m) => mpidrs.indexOf(m),
    isCpuOn: (i) => on[i]!,
    cpuOn: (i, entry, ctx) => {
      on[i] = true;
      events.push(`on ${i} 0x${entry.toString(16)} ${ctx}`);
    },
    cpuOff: () => events.push('off'),
    systemOff: () => events.push('system-off'),
    systemReset: () => events.push('system-reset'),
  };
  const cpu = new Cpu(new FlatMemory(4096));
  const fw = new PsciFirmware(power);
  const call = (...args: bigint[]) => {
    args.forEach((a, i) => cpu.setX(i, a));
    fw.call(cpu);
    return BigInt.asIntN(64, cpu.getX(0));
  };
  return { call, events };
}

describe('PSCI 1.0 firmware (ARM DEN 0022)', () => {
  it('reports version 1.0 and its features', () => {
    const { call } = setup();
    expect(call(BigInt(PSCI.VERSION))).toBe(0x10000n);
    expect(call(BigInt(PSCI.FEATURES), BigInt(PSCI.CPU_ON_64))).toBe(0n);
    expect(call(BigInt(PSCI.FEATURES), 0xc4000012n)).toBe(-1n);
    expect(call(0x84001234n)).toBe(-1n);
  });
  it('CPU_ON starts an off CPU once, then says ALREADY_ON; bad MPIDR is INVALID_PARAMETERS', () => {
    const { call, events } = setup();
    expect(call(BigInt(PSCI.AFFINITY_INFO_64), 0x200n, 0n)).toBe(1n);
    expect(call(BigInt(PSCI.CPU_ON_64), 0x200n, 0x40201000n, 7n)).toBe(0n);
    expect(events).toEqual(['on 2 0x40201000 7']);
    expect(call(BigInt(PSCI.CPU_ON_64), 0x200n, 0x40201000n, 7n)).toBe(-4n);
    expect(call(BigInt(PSCI.AFFINITY_INFO_64), 0x200n, 0n)).toBe(0n);
    expect(call(BigInt(PSCI.CPU_ON_64), 0x900n, 0n, 0n)).toBe(-2n);
  });
  it('SYSTEM_OFF and SYSTEM_RESET reach the machine', () => {
    const { call, events } = setup();
    call(BigInt(PSCI.SYSTEM_OFF));
    call(BigInt(PSCI.SYSTEM_RESET));
    expect(events).toEqual(['system-off', 'system-reset']);
  });
});
