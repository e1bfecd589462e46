// What the hypervisor's own work costs in modeled cycles (El2Cpu.chargeCycles), so that Shyper's
// time shows in guest time as Rust-Shyper's EL2 code would: a VM's interrupt latency, the time a
// trapped MMIO access takes. The emulator adds the architectural part itself: exception entry and
// ERET each cost the core model's Exception cycles (24 on a Cortex-A76).
//
// Sizing. Each figure is the instruction count of the corresponding Rust-Shyper handler (master @
// 62a2053, read from its source: src/arch/aarch64/exception.S and exception.rs, interrupt.rs,
// vgic.rs / vgicv3.rs, context_frame.rs, src/kernel/sched), estimated per path by counting the
// instructions of the assembly and the loads, stores, branches, lock operations and reference-count
// updates of the Rust code on that path; we could not run Rust-Shyper, so they are estimates to
// within a factor of about two. EL2 handlers run cold (branch predictors and caches trained by the
// guest, system-register accesses that serialize), so one cycle per instruction on every core
// type, not the 0.5 a Cortex-A76 sustains on guest code. The seed talk measured the resulting
// shape on an RK3588: the emulated-GICD interrupt path ~10x bare metal, GIC passthrough none
// (docs/hypervisor.md "Costs" compares our figures).
//
// | event | cycles | Rust-Shyper path (instructions) |
// |---|---|---|
// | trapVector | 60 | VECTOR macro: 17 stp + 3 mrs + bl (21); context_pop: 2 ldr + 2 msr + 16 ldp + eret (21); set_ctx/clear_ctx on the per-CPU struct (~18) |
// | syncDispatch | 20 | lower_aarch64_synchronous: ESR read, EC match, call |
// | mmioEmulate | 120 | data_abort_handler: ISS decode (~25), emu_handler: find the device by IPA in the VM's list (~50), register read/write, ELR += 4 (~45) |
// | gicdAccess | 260 | emu_intc_handler → vgicd_emu_access: offset match, per-bit loop over vIRQs, vgic lock, owner checks, hw mirror to the physical GICD (~260) |
// | gpptAccess | 90 | partial_passthrough_intc_handler: access check + forward (~40); ours adds the ownership check per INTID (~50) |
// | hvc | 100 | hvc_handler: fid/event decode, dispatch, return value (PSCI: psci_guest_handler) |
// | sysregTrap | 160 | sysreg_handler → ICC_SGI1R emulation: target list decode, per-target IPI / set pending |
// | wfi | 110 | WFI trap: vcpu state update, schedule(): pick next or idle (~110) |
// | irqAck | 90 | gicc_get_current_irq (IAR) + interrupt_handler: reserved check, active vCPU/VM lookup, has_interrupt + gicc_clear_current_irq (EOIR, DIR) |
// | virqInject | 320 | interrupt_vm_inject → vgic.inject: get_int, spin lock, owner, set pending, add_lr (ELRSR scan, LR compose, msr ICH_LR) (~320) |
// | lrWrite | 25 | one list register filled (compose + msr ICH_LR<n>_EL2) |
// | lrRead | 15 | one list register folded back (mrs + state update) |
// | worldSwitch | 420 | context_vm_store + context_vm_restore: 31 GPRs, ~40 EL1 sysregs each way, 32 Q registers each way, GIC state (VMCR, APR, HCR, LRs), VTTBR + TLBI + barriers, timer |
// | schedTick | 150 | EL2 timer PPI: timer re-arm + do_schedule (run queue, next vCPU) |
// | taskSubmit | 90 | async_task.rs add_async_task: the notify becomes a task on the I/O core's list (lock, push) + the IPI to it |
// | blkRequest | 180 | blk.rs blk_req_handler per request: header read, descriptor walk into iovs, IoTask + UsedInfo pushed |
// | mediatedDispatch | 120 | mediated.rs: req {type, sector, count} into the shared page, nreq++, the IVC message (then virqInject for HVC_IRQ) |
// | copyPerKiB | 64 | memcpy between a guest's buffers and the MVM's cache: ldp/stp of q registers, ~16 bytes a cycle |
// | usedUpdate | 80 | update_used_ring + notify: used element, used index, interrupt status (then virqInject) |
export const COST = {
  trapVector: 60,
  syncDispatch: 20,
  mmioEmulate: 120,
  gicdAccess: 260,
  gpptAccess: 90,
  hvc: 100,
  sysregTrap: 160,
  wfi: 110,
  irqAck: 90,
  virqInject: 320,
  lrWrite: 25,
  lrRead: 15,
  worldSwitch: 420,
  schedTick: 150,
  taskSubmit: 90,
  blkRequest: 180,
  mediatedDispatch: 120,
  copyPerKiB: 64,
  usedUpdate: 80,
} as const;

export type CostEvent = keyof typeof COST;
