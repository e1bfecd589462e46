// Entry, parameter block and exception vectors of the bare-metal test guest (bma.c).
//
// Image layout (offsets from the load address):
//   0x000  b reset
//   0x008  "SHYPBMA1"          magic: the loader finds the parameter block by it
//   0x040  params[64]           64-bit words the loader patches in (bma.h: P_*), zero here
//   ...    code
// The VM enters at offset 0 at EL1h with the MMU off and x0 = the end of memory region 0
// (Rust-Shyper's bare-metal application convention): the stack grows down from there.

        .section .text.head, "ax"
        .globl  _start
_start:
        b       reset
        .balign 8
        .ascii  "SHYPBMA1"
        .balign 64
        .globl  params
params:
        .fill   64, 8, 0

reset:
        msr     daifset, #0xf
        mov     x19, x0
        mov     sp, x0
        adrp    x1, vectors
        add     x1, x1, :lo12:vectors
        msr     vbar_el1, x1
        isb
        adrp    x1, __bss_start
        add     x1, x1, :lo12:__bss_start
        adrp    x2, __bss_end
        add     x2, x2, :lo12:__bss_end
1:      cmp     x1, x2
        b.hs    2f
        str     xzr, [x1], #8
        b       1b
2:      mov     x0, x19
        bl      bma_main
3:      wfi
        b       3b

// ---- exception vectors: every entry saves x0-x30, ELR, SPSR and calls exception(kind, frame) ----
// The frame is struct frame in bma.h; the handler may change frame->elr (skip an instruction,
// resume elsewhere). kind: 0-3 current EL SP_EL0 (sync, irq, fiq, serror), 4-7 current EL
// SP_ELx, 8-11 lower EL AArch64, 12-15 lower EL AArch32.
        .macro  ventry kind
        .balign 0x80
        sub     sp, sp, #272
        stp     x0, x1, [sp, #0]
        mov     x0, #\kind
        b       vcommon
        .endm

        .text
        .balign 2048
vectors:
        ventry  0
        ventry  1
        ventry  2
        ventry  3
        ventry  4
        ventry  5
        ventry  6
        ventry  7
        ventry  8
        ventry  9
        ventry  10
        ventry  11
        ventry  12
        ventry  13
        ventry  14
        ventry  15

vcommon:
        stp     x2, x3, [sp, #16]
        stp     x4, x5, [sp, #32]
        stp     x6, x7, [sp, #48]
        stp     x8, x9, [sp, #64]
        stp     x10, x11, [sp, #80]
        stp     x12, x13, [sp, #96]
        stp     x14, x15, [sp, #112]
        stp     x16, x17, [sp, #128]
        stp     x18, x19, [sp, #144]
        stp     x20, x21, [sp, #160]
        stp     x22, x23, [sp, #176]
        stp     x24, x25, [sp, #192]
        stp     x26, x27, [sp, #208]
        stp     x28, x29, [sp, #224]
        mrs     x1, elr_el1
        mrs     x2, spsr_el1
        stp     x30, x1, [sp, #240]
        str     x2, [sp, #256]
        mov     x1, sp
        bl      exception
        ldp     x30, x1, [sp, #240]
        ldr     x2, [sp, #256]
        msr     elr_el1, x1
        msr     spsr_el1, x2
        ldp     x0, x1, [sp, #0]
        ldp     x2, x3, [sp, #16]
        ldp     x4, x5, [sp, #32]
        ldp     x6, x7, [sp, #48]
        ldp     x8, x9, [sp, #64]
        ldp     x10, x11, [sp, #80]
        ldp     x12, x13, [sp, #96]
        ldp     x14, x15, [sp, #112]
        ldp     x16, x17, [sp, #128]
        ldp     x18, x19, [sp, #144]
        ldp     x20, x21, [sp, #160]
        ldp     x22, x23, [sp, #176]
        ldp     x24, x25, [sp, #192]
        ldp     x26, x27, [sp, #208]
        ldp     x28, x29, [sp, #224]
        add     sp, sp, #272
        eret

// ---- calls with every argument register set: u64 call_hvc(u64 r[8]), call_smc(u64 r[8]) ----
// x0-x7 come from r[0..7]; on return r[0..7] hold x0-x7 as the hypervisor left them (a
// hypervisor must return its result in x0 and leave x1-x7 alone: anything else is a leak).
        .globl  call_hvc
call_hvc:
        stp     x19, x30, [sp, #-16]!
        mov     x19, x0
        ldp     x0, x1, [x19, #0]
        ldp     x2, x3, [x19, #16]
        ldp     x4, x5, [x19, #32]
        ldp     x6, x7, [x19, #48]
        hvc     #0
        stp     x0, x1, [x19, #0]
        stp     x2, x3, [x19, #16]
        stp     x4, x5, [x19, #32]
        stp     x6, x7, [x19, #48]
        ldp     x19, x30, [sp], #16
        ret

        .globl  call_smc
call_smc:
        stp     x19, x30, [sp, #-16]!
        mov     x19, x0
        ldp     x0, x1, [x19, #0]
        ldp     x2, x3, [x19, #16]
        ldp     x4, x5, [x19, #32]
        ldp     x6, x7, [x19, #48]
        smc     #0
        stp     x0, x1, [x19, #0]
        stp     x2, x3, [x19, #16]
        stp     x4, x5, [x19, #32]
        stp     x6, x7, [x19, #48]
        ldp     x19, x30, [sp], #16
        ret

// HVC and SMC with non-zero immediates (the ISS carries them; a hypervisor must not care).
        .globl  call_hvc_imm
call_hvc_imm:
        hvc     #0xffff
        ret
        .globl  call_smc_imm
call_smc_imm:
        smc     #0x1234
        ret
