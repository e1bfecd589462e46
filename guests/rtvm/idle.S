/*
 * A VM that does nothing: WFI forever with interrupts masked. The MVM of the latency bench's
 * passthrough scenario (VM 0 must exist; the RTVM is VM 1). Bootable natively too.
 */
	.section .head, "ax"
	.globl _head
_head:
	b	1f
	.long	0
	.quad	0		/* text_offset */
	.quad	4096		/* image_size */
	.quad	0xa		/* little endian, 4 KiB pages, anywhere */
	.quad	0, 0, 0
	.ascii	"ARM\x64"
	.long	0
1:	msr	daifset, #0xf
2:	wfi
	b	2b
