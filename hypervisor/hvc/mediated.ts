// Mediated I/O (fid 3, Rust-Shyper src/device/mediated.rs): the MVM's daemon appends its disk
// images (DEV_APPEND) and reports finished requests (DEV_NOTIFY). Mediated virtio-blk is not wired
// yet (DESIGN.md "virtio wiring ... mediated through the MVM"): the calls are known, VM 0 only, and
// fail with a reason instead of as unknown calls.
import { fail, MEDIATED } from './abi.ts';
import type { Handler } from './index.ts';

const notYet = (name: string): Handler => ({
  name,
  mvmOnly: true,
  run: () => fail('mediated block devices are not modelled yet'),
});

export const mediatedHandlers: Record<number, Handler> = {
  [MEDIATED.DEV_APPEND]: notYet('HVC_MEDIATED_DEV_APPEND'),
  [MEDIATED.DEV_NOTIFY]: notYet('HVC_MEDIATED_DEV_NOTIFY'),
  [MEDIATED.DRV_NOTIFY]: notYet('HVC_MEDIATED_DRV_NOTIFY'),
};
