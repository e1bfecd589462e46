// Mediated I/O (fid 3, Rust-Shyper src/device/mediated.rs): the MVM's daemon appends its disk
// images (DEV_APPEND, x1 = the IPA of the disk's shared page) and reports each finished request
// (DEV_NOTIFY, x0 = that page's IPA; x1 nonzero: the I/O failed, our addition — Rust-Shyper has
// no way to say so). The work is hypervisor/devices/mediated-blk.ts's. DRV_NOTIFY (0x32) is the
// event the hypervisor sends the MVM, not a call it takes: refused, with a reason.
import { fail, MEDIATED } from './abi.ts';
import type { Handler } from './index.ts';

export const mediatedHandlers: Record<number, Handler> = {
  [MEDIATED.DEV_APPEND]: {
    name: 'HVC_MEDIATED_DEV_APPEND',
    mvmOnly: true,
    run: (c) => c.hvc.mediated.append(c.vm, c.x[1]!),
  },
  [MEDIATED.DEV_NOTIFY]: {
    name: 'HVC_MEDIATED_DEV_NOTIFY',
    mvmOnly: true,
    run: (c) => c.hvc.mediated.devNotify(c.cpu, c.x[0]!, c.x[1]!),
  },
  [MEDIATED.DRV_NOTIFY]: {
    name: 'HVC_MEDIATED_DRV_NOTIFY',
    mvmOnly: true,
    run: () => fail('DRV_NOTIFY is the hypervisor\'s message to the MVM (a request is in a shared page), not a call'),
  },
};
