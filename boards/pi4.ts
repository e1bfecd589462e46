// Raspberry Pi 4 (BCM2711, Linux arch/arm/boot/dts/bcm2711.dtsi): GIC-400 at 0xff841000, PL011
// uart0 at 0xfe201000 (SPI 121), 4x Cortex-A72 (Armv8.0, CRC32, no crypto), 54 MHz timer, RAM from 0.
import { type BoardDescription, GiB, MIDR } from './types.ts';

export const pi4: BoardDescription = {
  name: 'pi4',
  model: 'Raspberry Pi 4 Model B (shyper-emu)',
  compatible: ['raspberrypi,4-model-b', 'brcm,bcm2711'],
  memory: { base: 0, defaultSize: 1 * GiB, maxSize: 0xfc000000 - 0x1000000 },
  // BCM2711's A72s have no Cryptographic Extension: Linux lists "fp asimd evtstrm crc32 cpuid".
  cpus: [0, 1, 2, 3].map((i) => ({ core: 'cortex-a72' as const, midr: MIDR['cortex-a72'], mpidr: i, mt: false, crypto: false })),
  gic: {
    version: 2,
    versions: [2],
    distBase: 0xff841000,
    distSize: 0x1000,
    cpuBase: 0xff842000,
    cpuSize: 0x2000,
    gichBase: 0xff844000,
    gicvBase: 0xff846000,
    virtInTree: true,
    spis: 224,
    compatible: ['arm,gic-400'],
  },
  timer: { freqHz: 54_000_000, ppis: [13, 14, 11, 10] },
  uarts: [
    {
      kind: 'pl011',
      base: 0xfe201000,
      size: 0x200,
      spi: 121,
      clockHz: 48_000_000,
      regShift: 0,
      regIoWidth: 4,
      compatible: ['arm,pl011', 'arm,primecell'],
      alias: 'serial0',
      primecellPeriphId: 0x00241011,
    },
  ],
  // Unused hole below the GIC block; SPIs 200.. are unassigned on the BCM2711.
  virtio: { base: 0xff800000, stride: 0x200, count: 16, firstSpi: 200 },
  psciMethod: 'hvc',
  defaultCmdline: 'console=ttyAMA0',
};
