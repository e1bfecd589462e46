// NVIDIA Jetson TX2 (Tegra186, Linux arch/arm64/boot/dts/nvidia/tegra186.dtsi): GIC-400 at
// 0x03881000, UARTA (16550-compatible, reg-shift 2) at 0x03100000 SPI 112, Denver2 cluster
// (MPIDR 0x000-0x001) + Cortex-A57 cluster (0x100-0x103), 31.25 MHz timer, RAM from 0x80000000.
import { type BoardDescription, GiB, MIDR } from './types.ts';

export const tx2: BoardDescription = {
  name: 'tx2',
  model: 'NVIDIA Jetson TX2 (shyper-emu)',
  compatible: ['nvidia,p2771-0000', 'nvidia,tegra186'],
  memory: { base: 0x80000000, defaultSize: 1 * GiB, maxSize: 8 * GiB },
  cpus: [
    // The A57 cluster boots first on TX2 (CPU0 is an A57), Denver2 cores follow.
    ...[0, 1, 2, 3].map((i) => ({ core: 'cortex-a57' as const, midr: MIDR['cortex-a57'], mpidr: 0x100 + i, mt: false })),
    ...[0, 1].map((i) => ({ core: 'denver2' as const, midr: MIDR.denver2, mpidr: i, mt: false })),
  ],
  gic: {
    version: 2,
    versions: [2],
    distBase: 0x03881000,
    distSize: 0x1000,
    cpuBase: 0x03882000,
    cpuSize: 0x2000,
    gichBase: 0x03884000,
    gicvBase: 0x03886000,
    virtInTree: true,
    spis: 288,
    compatible: ['arm,gic-400'],
  },
  timer: { freqHz: 31_250_000, ppis: [13, 14, 11, 10] },
  uarts: [
    {
      kind: 'ns16550a',
      base: 0x03100000,
      size: 0x40,
      spi: 112,
      clockHz: 408_000_000,
      regShift: 2,
      regIoWidth: 4,
      compatible: ['nvidia,tegra186-uart', 'nvidia,tegra20-uart', 'ns16550a'],
      alias: 'serial0',
    },
  ],
  // Unused window of the Tegra186 map; SPIs 260.. are unassigned.
  virtio: { base: 0x03c00000, stride: 0x200, count: 16, firstSpi: 260 },
  psciMethod: 'hvc',
  defaultCmdline: 'console=ttyS0,115200 earlycon=uart8250,mmio32,0x03100000',
};
