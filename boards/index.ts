// Every board shyper-emu emulates, by the name --board takes.
import type { BoardDescription } from './types.ts';
import { qemuVirt } from './qemu-virt.ts';
import { rk3588 } from './rk3588.ts';
import { pi4 } from './pi4.ts';
import { tx2 } from './tx2.ts';

export const boards: Readonly<Record<string, BoardDescription>> = { rk3588, 'qemu-virt': qemuVirt, pi4, tx2 };
