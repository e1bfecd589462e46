// Rockchip RK3588 (Linux arch/arm64/boot/dts/rockchip/rk3588s.dtsi): 4x Cortex-A55 (cpu_l0-3,
// MPIDR 0x000-0x300) + 4x Cortex-A76 (cpu_b0-3, MPIDR 0x400-0x700), GIC-600 at 0xfe600000 with
// redistributors at 0xfe680000, UART2 (the debug console) at 0xfeb50000, SPI 333, 24 MHz timer.
import { type BoardDescription, GiB, MIDR } from './types.ts';

export const rk3588: BoardDescription = {
  name: 'rk3588',
  model: 'Rockchip RK3588 (shyper-emu)',
  compatible: ['rockchip,rk3588'],
  // DRAM from 0; the first 4 GiB window ends where the peripheral space begins (0xf0000000).
  memory: { base: 0, defaultSize: 1 * GiB, maxSize: 0xf0000000 },
  cpus: [
    ...[0, 1, 2, 3].map((i) => ({ core: 'cortex-a55' as const, midr: MIDR['cortex-a55'], mpidr: i << 8, mt: true })),
    ...[4, 5, 6, 7].map((i) => ({ core: 'cortex-a76' as const, midr: MIDR['cortex-a76'], mpidr: i << 8, mt: true })),
  ],
  gic: {
    version: 3,
    versions: [3],
    distBase: 0xfe600000,
    distSize: 0x10000,
    redistBase: 0xfe680000,
    redistSize: 0x100000,
    virtInTree: true,
    spis: 480,
    compatible: ['arm,gic-v3'],
  },
  timer: { freqHz: 24_000_000, ppis: [13, 14, 11, 10] },
  uarts: [
    {
      kind: 'dw-apb-uart',
      base: 0xfeb50000,
      size: 0x100,
      spi: 333,
      clockHz: 24_000_000,
      regShift: 2,
      regIoWidth: 4,
      compatible: ['rockchip,rk3588-uart', 'snps,dw-apb-uart'],
      alias: 'serial2',
    },
  ],
  // Unused hole of the RK3588 map below the GIC (0xfe000000-0xfe5fffff holds no device we model);
  // SPIs 400.. are unassigned on the SoC.
  virtio: { base: 0xfe000000, stride: 0x200, count: 32, firstSpi: 400 },
  psciMethod: 'hvc',
  defaultCmdline: 'console=ttyS2,1500000 earlycon=uart8250,mmio32,0xfeb50000',
};
