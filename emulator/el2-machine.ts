// The machine side of the EL2 port (el2.ts El2Machine): attaches EL2 software to every CPU of a
// Machine and gives it physical CPU power, physical memory and MMIO, and the board data — what
// EL2 code on the real board reaches, and nothing of the emulator's internals.
import type { Machine } from './machine.ts';
import type { El1Context, El2Machine, El2Software } from './arm64/el2.ts';
import { El2CpuPort, el2Adapter } from './arm64/el2-cpu.ts';
import { El1ContextData, resetEl1Context } from './arm64/context.ts';
import { InstrClass } from './clock/cycle-model.ts';

/**
 * Put EL2 software on the machine: every CPU traps to it (HVC, HCR_EL2 traps, stage-2 aborts,
 * IRQs under IMO). No CPU runs until the software's caller starts one with startCpu.
 */
export function attachEl2(machine: Machine, software: El2Software): El2Machine {
  const board = machine.opts.board;
  const ports = machine.cpus.map((cpu, i) => {
    const port = new El2CpuPort(cpu, i, board.cpus[i]!.mpidr, machine.models[i]!.costs[InstrClass.Alu]!);
    cpu.hypervisor = el2Adapter(software, port);
    cpu.firmware = null; // PSCI is the hypervisor's business now (guest SMCs trap with HCR_EL2.TSC)
    return port;
  });
  const bus = machine.bus;
  const ramBase = board.memory.base;
  return {
    board,
    cpus: ports,
    gicVersion: machine.gicVersion,
    ramBase,
    ramSize: machine.memBytes,
    newContext(): El1Context {
      const ctx = new El1ContextData();
      resetEl1Context(ctx);
      return ctx;
    },
    startCpu: (i) => machine.startCpuAtEl2(i),
    readPhys: (pa, out) => out.set(bus.readBytes(pa, out.length)),
    writePhys: (pa, data) => machine.writePhys(pa, data),
    zeroPhys: (pa, size) => bus.zeroBytes(pa, size),
    read64: (pa) => bus.read64(pa),
    write64: (pa, v) => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
      machine.writePhys(pa, b);
    },
    mmioRead: (pa, size) => bus.read(pa, size),
    mmioWrite: (pa, size, v) => bus.write(pa, size, v),
    isRam: (pa) => bus.ramOffset(pa) >= 0,
    invalidateTlbs: () => {
      for (const c of machine.cpus) c.flushTlb();
    },
    now: () => machine.virtualNs(),
  };
}
