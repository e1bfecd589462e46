// QEMU 7.2 `-M virt` (hw/arm/virt.c base_memmap / a15irqmap), checked against the trees
// qemu-system-aarch64 dumps for GICv3 and GICv2 with 4 CPUs (test/boards/board-tree.test.ts).
import { type BoardDescription, GiB, MIDR, MiB } from './types.ts';

export const qemuVirt: BoardDescription = {
  name: 'qemu-virt',
  model: 'linux,dummy-virt',
  compatible: ['linux,dummy-virt'],
  memory: { base: 0x40000000, defaultSize: 512 * MiB, maxSize: 3 * GiB },
  cpus: Array.from({ length: 8 }, (_, i) => ({ core: 'cortex-a76' as const, midr: MIDR['cortex-a76'], mpidr: i, mt: false })),
  gic: {
    version: 3,
    versions: [2, 3],
    distBase: 0x08000000,
    distSize: 0x10000,
    redistBase: 0x080a0000,
    redistSize: 0xf60000,
    cpuBase: 0x08010000,
    cpuSize: 0x10000,
    gichBase: 0x08030000,
    gicvBase: 0x08040000,
    virtInTree: false,
    spis: 256,
    compatible: [],
  },
  timer: { freqHz: 62_500_000, ppis: [13, 14, 11, 10] },
  uarts: [
    {
      kind: 'pl011',
      base: 0x09000000,
      size: 0x1000,
      spi: 1,
      clockHz: 24_000_000,
      regShift: 0,
      regIoWidth: 4,
      compatible: ['arm,pl011', 'arm,primecell'],
    },
  ],
  virtio: { base: 0x0a000000, stride: 0x200, count: 32, firstSpi: 16 },
  psciMethod: 'hvc',
  defaultCmdline: 'console=ttyAMA0',
};
