/*
 * Entry, arm64 Image header and exception vectors of the real-time test guest.
 *
 * The header (Documentation/arch/arm64/booting.rst) lets the same file boot natively
 * (shyper-emu --native --kernel rtvm-<board>.bin: x0 = device tree, EL1, MMU off) and as a
 * Rust-Shyper bare-metal VM (VM_T_BARE_MATEL_APP: x0 = end of its first memory region, EL1,
 * MMU off); the guest looks at neither.
 */
	.section .head, "ax"
	.globl _head
_head:
	b	_start			/* code0 */
	.long	0			/* code1 */
	.quad	0			/* text_offset */
	.quad	__image_end		/* image_size: file + BSS + stacks */
	.quad	0xa			/* flags: little endian, 4 KiB pages, anywhere in RAM */
	.quad	0, 0, 0			/* res2-res4 */
	.ascii	"ARM\x64"		/* magic */
	.long	0			/* res5 */

	.text
	.globl _start
_start:
	msr	daifset, #0xf
	adr	x1, __stack0_top
	mov	sp, x1
	adr	x1, vectors
	msr	vbar_el1, x1
	isb
	/* BSS (the loader zeroes nothing it was not given) */
	adr	x1, __bss_start
	adr	x2, __bss_end
1:	cmp	x1, x2
	b.hs	2f
	str	xzr, [x1], #8
	b	1b
2:	bl	rt_boot
3:	wfi
	b	3b

/* PSCI CPU_ON target (native rk3588: the measurement moves to a big core). */
	.globl secondary_entry
secondary_entry:
	msr	daifset, #0xf
	adr	x1, __stack1_top
	mov	sp, x1
	adr	x1, vectors
	msr	vbar_el1, x1
	isb
	bl	rt_main
4:	wfi
	b	4b

/* Save the caller-saved registers around a C call from an exception vector. */
.macro	save_regs
	stp	x2, x3, [sp, #-16]!
	stp	x4, x5, [sp, #-16]!
	stp	x6, x7, [sp, #-16]!
	stp	x8, x9, [sp, #-16]!
	stp	x10, x11, [sp, #-16]!
	stp	x12, x13, [sp, #-16]!
	stp	x14, x15, [sp, #-16]!
	stp	x16, x17, [sp, #-16]!
	stp	x18, x29, [sp, #-16]!
	str	x30, [sp, #-16]!
.endm
.macro	restore_regs
	ldr	x30, [sp], #16
	ldp	x18, x29, [sp], #16
	ldp	x16, x17, [sp], #16
	ldp	x14, x15, [sp], #16
	ldp	x12, x13, [sp], #16
	ldp	x10, x11, [sp], #16
	ldp	x8, x9, [sp], #16
	ldp	x6, x7, [sp], #16
	ldp	x4, x5, [sp], #16
	ldp	x2, x3, [sp], #16
.endm

.macro	unexpected kind
	.balign	0x80
	stp	x0, x1, [sp, #-16]!
	mov	x0, #\kind
	b	trap_unexpected
.endm

	.section .text.vectors, "ax"
	.balign	2048
vectors:
	unexpected 0	/* current EL, SP_EL0: sync */
	unexpected 1	/* IRQ */
	unexpected 2	/* FIQ */
	unexpected 3	/* SError */
	unexpected 4	/* current EL, SP_ELx: sync */
	/* current EL, SP_ELx: IRQ. Handler entry: the cycle and virtual counters, first thing. */
	.balign	0x80
	stp	x0, x1, [sp, #-16]!
	mrs	x0, pmccntr_el0
	mrs	x1, cntvct_el0
	save_regs
	bl	rt_irq
	restore_regs
	ldp	x0, x1, [sp], #16
	eret
	unexpected 6	/* FIQ */
	unexpected 7	/* SError */
	unexpected 8	/* lower EL: never */
	unexpected 9
	unexpected 10
	unexpected 11
	unexpected 12
	unexpected 13
	unexpected 14
	unexpected 15

trap_unexpected:
	save_regs
	mrs	x1, esr_el1
	mrs	x2, elr_el1
	mrs	x3, far_el1
	bl	rt_unexpected
5:	wfi
	b	5b
