// The bare-metal test guest: one small freestanding program that runs as a Shyper bare-metal VM
// (VM_T_BARE_MATEL_APP) and, by the mode word in its parameter block (bma.h), either attacks the
// hypervisor's isolation or stands by as a victim. Each behaviour reports on the VM's console
// UART in lines starting with its mode's name; test/hypervisor/attack.test.ts reads them.
//
// Runs at EL1 with the MMU off (every data access is Device memory: no unaligned accesses, no
// exclusives), one vCPU, IRQs masked except where a mode takes interrupts. Built with -O2
// -ffreestanding -nostdlib -mgeneral-regs-only -mstrict-align and PC-relative addressing only.
#include <stdarg.h>
#include "bma.h"

extern void call_smc(u64 r[8]);
extern void call_hvc_imm(void);
extern void call_smc_imm(void);

#define MRS(reg) ({ u64 _v; asm volatile("mrs %0, " #reg : "=r"(_v)::"memory"); _v; })
#define MSR(reg, v) asm volatile("msr " #reg ", %0" ::"r"((u64)(v)) : "memory")
#define ISB() asm volatile("isb" ::: "memory")

// GICv3 CPU interface (the virtual one under the hypervisor) by encoding.
#define ICC_PMR_EL1 S3_0_C4_C6_0
#define ICC_IAR1_EL1 S3_0_C12_C12_0
#define ICC_EOIR1_EL1 S3_0_C12_C12_1
#define ICC_BPR1_EL1 S3_0_C12_C12_3
#define ICC_CTLR_EL1 S3_0_C12_C12_4
#define ICC_SRE_EL1 S3_0_C12_C12_5
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7
#define ICC_SGI1R_EL1 S3_0_C12_C11_5
#define ICC_ASGI1R_EL1 S3_0_C12_C11_6
#define ICC_SGI0R_EL1 S3_0_C12_C11_7

static inline u32 r32(u64 a) { u32 v; asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory"); return v; }
static inline void w32(u64 a, u32 v) { asm volatile("str %w0, [%1]" ::"r"(v), "r"(a) : "memory"); }
static inline u8 r8(u64 a) { u32 v; asm volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(a) : "memory"); return (u8)v; }
static inline void w8(u64 a, u32 v) { asm volatile("strb %w0, [%1]" ::"r"(v), "r"(a) : "memory"); }

void *memset(void *d, int c, unsigned long n) {
	u8 *p = d;
	while (n--) *p++ = (u8)c;
	return d;
}

// ---- console ----

static u64 uart, uart_kind;

static void uputc(char c) {
	if (uart == 0) return;
	if (uart_kind == 0) {
		while (r32(uart + 0x18) & 0x20) {}
		w32(uart, (u8)c);
	} else if (uart_kind == 1) {
		while (!(r8(uart + 5) & 0x20)) {}
		w8(uart, (u8)c);
	} else {
		while (!(r32(uart + 20) & 0x20)) {}
		w32(uart, (u8)c);
	}
}

static void puts_(const char *s) {
	while (*s) uputc(*s++);
}

static void put_u(u64 v, unsigned base) {
	char buf[24];
	int n = 0;
	do {
		unsigned d = (unsigned)(v % base);
		buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	while (n) uputc(buf[--n]);
}

// printf subset: %s, %c, %d (u64, decimal), %x (u64, 0x-prefixed hex).
void say(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			uputc(*fmt);
			continue;
		}
		switch (*++fmt) {
		case 's': puts_(va_arg(ap, const char *)); break;
		case 'c': uputc((char)va_arg(ap, int)); break;
		case 'd': put_u(va_arg(ap, u64), 10); break;
		case 'x': puts_("0x"); put_u(va_arg(ap, u64), 16); break;
		default: uputc(*fmt);
		}
	}
	va_end(ap);
}

static void park(void) {
	asm volatile("msr daifset, #0xf");
	for (;;) asm volatile("wfi");
}

// ---- randomness: xorshift64 ----

static u64 rng;
u64 rnd(void) {
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

// ---- exceptions ----

static volatile u64 aborts, abort_far, abort_esr, undefs, irqs;
static u64 mode;
static void on_irq(u32 id);

static u64 gicv, gicd, gicr;

static u32 gic_ack(void) {
	if (gicv == 3) return (u32)MRS(ICC_IAR1_EL1) & 0xffffff;
	return r32(gicr + 0x0c);
}

static void gic_eoi(u32 iar) {
	if (gicv == 3) MSR(ICC_EOIR1_EL1, iar);
	else w32(gicr + 0x10, iar);
}

void exception(u64 kind, struct frame *f) {
	u64 esr = MRS(esr_el1);
	u64 ec = esr >> 26;
	if (kind == 5 || kind == 1) {
		for (;;) {
			u32 iar = gic_ack();
			u32 id = iar & (gicv == 3 ? 0xffffff : 0x3ff);
			if (id >= 1020 && id < 1024) break;
			irqs++;
			on_irq(id);
			gic_eoi(iar);
		}
		return;
	}
	if (kind == 4 || kind == 0) {
		if (ec == 0x24 || ec == 0x25) { // data abort: skip the access
			aborts++;
			abort_far = MRS(far_el1);
			abort_esr = esr;
			f->elr += 4;
			return;
		}
		if (ec == 0x20 || ec == 0x21) { // instruction abort: back to the caller of the bad branch
			aborts++;
			abort_far = MRS(far_el1);
			abort_esr = esr;
			f->elr = f->x[30];
			return;
		}
		if (ec == 0) { // UNDEFINED: skip
			undefs++;
			f->elr += 4;
			return;
		}
	}
	say("bma: unexpected exception kind %d esr %x elr %x far %x\n", kind, esr, f->elr, MRS(far_el1));
	park();
}

// ---- GIC ----

static void gic_init(void) {
	if (gicv == 3) {
		MSR(ICC_SRE_EL1, MRS(ICC_SRE_EL1) | 1);
		ISB();
		w32(gicr + 0x14, 0); // GICR_WAKER: awake
		w32(gicd, (1 << 4) | (1 << 1)); // GICD_CTLR: ARE, EnableGrp1
		MSR(ICC_PMR_EL1, 0xff);
		MSR(ICC_BPR1_EL1, 0);
		MSR(ICC_CTLR_EL1, 0);
		MSR(ICC_IGRPEN1_EL1, 1);
		ISB();
	} else {
		w32(gicd, 1);
		w32(gicr + 0x04, 0xff); // GICC_PMR
		w32(gicr, 1);           // GICC_CTLR
	}
}

// Enable private interrupts (mask of INTIDs 0-31) on this vCPU.
static void gic_enable_private(u32 mask) {
	if (gicv == 3) w32(gicr + 0x10000 + 0x100, mask);
	else w32(gicd + 0x100, mask);
}

static void sgi_self(u32 id) {
	if (gicv == 3) {
		u64 mpidr = MRS(mpidr_el1);
		u64 v = (1ul << (mpidr & 0xf)) | ((mpidr >> 8 & 0xff) << 16) | ((u64)id << 24) | ((mpidr >> 16 & 0xff) << 32) |
			((mpidr & 0xf0) >> 4 << 44) | ((mpidr >> 32 & 0xff) << 48);
		MSR(ICC_SGI1R_EL1, v);
		ISB();
	} else {
		w32(gicd + 0xf00, (2u << 24) | id);
	}
}

static u32 gicd_lines(void) {
	return ((r32(gicd + 4) & 0x1f) + 1) * 32;
}

static void irq_on(void) { asm volatile("msr daifclr, #2" ::: "memory"); }
static void irq_off(void) { asm volatile("msr daifset, #2" ::: "memory"); }

// ---- MODE_MEM ----

// One access; returns 1 when it aborted (the handler skipped it).
static int access(u64 a, int how, u64 *val) {
	u64 before = aborts;
	u64 v = 0, w = 0;
	switch (how) {
	case 0: asm volatile("ldr %0, [%1]" : "+r"(v) : "r"(a) : "memory"); break;
	case 1: asm volatile("str %0, [%1]" ::"r"(0xa77ac4e5a77ac4e5ul), "r"(a) : "memory"); break;
	case 2: asm volatile("ldrb %w0, [%1]" : "+r"(v) : "r"(a) : "memory"); break;
	case 3: asm volatile("strh %w0, [%1]" ::"r"(0xa77a), "r"(a) : "memory"); break;
	case 4: asm volatile("ldp %0, %1, [%2]" : "+r"(v), "+r"(w) : "r"(a) : "memory"); break; // no syndrome (ISV = 0)
	case 5: asm volatile("stp %0, %0, [%1]" ::"r"(0xa77ac4e5ul), "r"(a) : "memory"); break;
	case 6: { u64 p = a; asm volatile("ldr %0, [%1], #8" : "+r"(v), "+r"(p) : : "memory"); break; } // writeback: no syndrome
	case 7: asm volatile("blr %0" ::"r"(a) : "x30", "memory"); break; // fetch: resumes after the blr
	case 8: asm volatile("dc civac, %0" ::"r"(a) : "memory"); break;
	}
	if (val) *val = v | w;
	return aborts != before;
}

static const char access_name[] = "ldr\0str\0ldrb\0strh\0ldp\0stp\0ldr-wb\0fetch\0dc-civac";

static const char *nth(const char *names, int n) {
	while (n--) while (*names++) {}
	return names;
}

static void mode_mem(void) {
	u64 n = params[P_NPROBE];
	if (n > 32) n = 32;
	for (u64 i = 0; i < n; i++) {
		u64 a = params[P_PROBE + i];
		int aborted = 0;
		for (int how = 0; how <= 8; how++) {
			u64 v;
			if (access(a, how, &v)) aborted++;
			else if (how != 8) say("mem: LEAK %s at %x did not abort (read %x)\n", nth(access_name, how), a, v);
		}
		// dc civac may legitimately complete (cache maintenance to no memory is a no-op), the rest must abort.
		say("mem: probe %x: %d/9 accesses aborted (last esr %x far %x)\n", a, (u64)aborted, abort_esr, abort_far);
	}
	u64 pages = params[P_SWEEP_PAGES], base = params[P_SWEEP_BASE];
	if (pages) {
		u64 got = 0;
		for (u64 p = 0; p < pages; p++) got += access(base + p * 4096, 0, 0);
		say("mem: sweep %x, %d pages: %d aborted\n", base, pages, got);
	}
	say("mem: done, %d aborts taken\n", aborts);
}

// ---- MODE_SGI ----

static volatile u32 sgi_seen;

static void mode_sgi(void) {
	u64 sent = 0;
	gic_init();
	gic_enable_private(0xffff);
	if (params[P_SGI_KEEP]) {
		// Every SGI to itself, left pending in its list registers (IRQs stay masked).
		for (u32 id = 0; id < 16; id++) sgi_self(id);
		say("sgi: 16 SGIs to itself left pending\n");
		return;
	}
	if (gicv == 3) {
		static const u8 aff1s[] = {0, 1, 2, 3, 0x80, 0xff}, aff2s[] = {0, 1, 0xff}, aff3s[] = {0, 1, 0xff};
		for (u64 id = 0; id < 16; id++) {
			for (u64 rs = 0; rs < 16; rs++)
				for (int a1 = 0; a1 < 6; a1++)
					for (int a2 = 0; a2 < 3; a2++)
						for (int a3 = 0; a3 < 3; a3++) {
							u64 v = 0xffff | ((u64)aff1s[a1] << 16) | (id << 24) | ((u64)aff2s[a2] << 32) | (rs << 44) | ((u64)aff3s[a3] << 48);
							MSR(ICC_SGI1R_EL1, v);
							sent++;
						}
			// IRM: every PE but self, with junk in the other fields too.
			MSR(ICC_SGI1R_EL1, (1ul << 40) | (id << 24));
			MSR(ICC_SGI1R_EL1, ~0ul);
			MSR(ICC_ASGI1R_EL1, (1ul << 40) | (id << 24) | 0xffff);
			MSR(ICC_ASGI1R_EL1, 0xffff | (id << 24));
			MSR(ICC_SGI0R_EL1, (1ul << 40) | (id << 24));
			MSR(ICC_SGI0R_EL1, 0xffff | (id << 24));
			sent += 6;
		}
	} else {
		for (u32 id = 0; id < 16; id++)
			for (u32 filter = 0; filter < 4; filter++)
				for (u32 list = 0; list < 256; list++) {
					w32(gicd + 0xf00, (filter << 24) | (list << 16) | (1u << 15) | id);
					w32(gicd + 0xf00, (filter << 24) | (list << 16) | id);
					sent += 2;
				}
		// GICD_SPENDSGIR: every source bit of every SGI (the VM has one vCPU: only its own count).
		for (u32 off = 0; off < 16; off += 4) w32(gicd + 0xf20 + off, 0xffffffff);
		sent += 4;
	}
	ISB();
	irq_on();
	// Poll (a WFI would sleep for good if an SGI went missing).
	for (int i = 0; i < 100000 && sgi_seen != 0xffff; i++) asm volatile("" ::: "memory");
	irq_off();
	say("sgi: %d SGI requests sent; own SGIs received %x (expected 0xffff)\n", sent, (u64)sgi_seen);
}

// ---- MODE_GICD ----

static void gicd_readback(const char *who, const char *when) {
	u32 lines = gicd_lines();
	u64 seen = 0;
	say("%s: %s: SPIs visible as enabled:", who, when);
	for (u32 n = 1; n < lines / 32; n++) {
		u32 e = r32(gicd + 0x100 + n * 4);
		for (u32 b = 0; b < 32; b++)
			if (e >> b & 1) {
				say(" %d", (u64)(n * 32 + b));
				seen++;
			}
	}
	say(seen ? "\n" : " none\n");
}

static void mode_gicd(void) {
	u64 size = params[P_GICD_SIZE] ? params[P_GICD_SIZE] : 0x10000;
	gic_init();
	u32 lines = gicd_lines();
	say("gicd: %d interrupt lines\n", (u64)lines);
	// Every SPI: enable, pend, activate, top priority, edge, group 0, routed everywhere.
	for (u32 n = 1; n < lines / 32; n++) {
		w32(gicd + 0x100 + n * 4, ~0u);
		w32(gicd + 0x200 + n * 4, ~0u);
		w32(gicd + 0x300 + n * 4, ~0u);
		w32(gicd + 0xc00 + n * 8, ~0u);
		w32(gicd + 0xc00 + n * 8 + 4, ~0u);
		w32(gicd + 0x080 + n * 4, 0);
	}
	for (u32 id = 32; id < lines; id += 4) w32(gicd + 0x400 + id, 0);
	if (gicv == 3) {
		for (u32 id = 32; id < lines; id++) {
			asm volatile("str %0, [%1]" ::"r"(0ul), "r"(gicd + 0x6000 + id * 8) : "memory");     // Aff 0.0.0.0: physical CPU 0
			w32(gicd + 0x6000 + id * 8, 1u << 31);                                               // IRM: any CPU
			w32(gicd + 0x6000 + id * 8 + 4, 0xff);
		}
	} else {
		for (u32 id = 32; id < lines; id += 4) w32(gicd + 0x800 + id, 0xffffffff);
	}
	gicd_readback("gicd", "after enabling every SPI");
	// ... and the opposite: disable, clear pending, deactivate every SPI (Linux's UART among them).
	for (u32 n = 1; n < lines / 32; n++) {
		w32(gicd + 0x180 + n * 4, ~0u);
		w32(gicd + 0x280 + n * 4, ~0u);
		w32(gicd + 0x380 + n * 4, ~0u);
	}
	gicd_readback("gicd", "after disabling every SPI");
	// Every word of the distributor window, then every byte of its first 4 KiB (the per-interrupt
	// banks, SGIR, the SGI pending registers): all ones, then zero.
	for (u64 off = 0; off < size; off += 4) w32(gicd + off, ~0u);
	for (u64 off = 0; off < size; off += 4) w32(gicd + off, 0);
	for (u64 off = 0; off < 0x1000; off++) w8(gicd + off, 0xff);
	for (u64 off = 0; off < 0x1000; off++) w8(gicd + off, 0);
	// Random accesses: any offset, size and value; reads too.
	u64 n = params[P_ITER];
	for (u64 i = 0; i < n; i++) {
		u64 r = rnd(), v = rnd();
		u64 sz = r & 3, off = (r >> 8) % size & ~((1ul << sz) - 1);
		u64 a = gicd + off;
		if (r >> 62 & 1) {
			switch (sz) {
			case 0: asm volatile("strb %w0, [%1]" ::"r"(v), "r"(a) : "memory"); break;
			case 1: asm volatile("strh %w0, [%1]" ::"r"(v), "r"(a) : "memory"); break;
			case 2: asm volatile("str %w0, [%1]" ::"r"(v), "r"(a) : "memory"); break;
			default: asm volatile("str %0, [%1]" ::"r"(v), "r"(a) : "memory");
			}
		} else {
			switch (sz) {
			case 0: asm volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(a) : "memory"); break;
			case 1: asm volatile("ldrh %w0, [%1]" : "=r"(v) : "r"(a) : "memory"); break;
			case 2: asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory"); break;
			default: asm volatile("ldr %0, [%1]" : "=r"(v) : "r"(a) : "memory");
			}
		}
	}
	// The VM's own redistributor (GICv3): every word of the first 4 KiB of its RD_base and SGI_base
	// frames (where the registers are), all ones then zero.
	if (gicv == 3) {
		for (u64 f = 0; f < 0x20000; f += 0x10000) {
			for (u64 off = 0; off < 0x1000; off += 4) w32(gicr + f + off, ~0u);
			for (u64 off = 0; off < 0x1000; off += 4) w32(gicr + f + off, 0);
		}
	}
	gic_init();
	gicd_readback("gicd", "after the sweep");
	say("gicd: done, %d random accesses, %d aborts\n", n, aborts);
}

// ---- MODE_HVC ----

static int is_psci(u64 x0) {
	u32 f = (u32)x0;
	return (f >= 0x84000000u && f <= 0x8400001fu) || (f >= 0xc4000000u && f <= 0xc400001fu) || f == 0x80000000u;
}

// PSCI functions a fuzzer may call without stopping, resetting or suspending its own vCPU.
static const u32 psci_fns[] = {
	0x84000000, 0x84000003, 0xc4000003, 0x84000004, 0xc4000004, 0x84000005, 0x84000006, 0xc4000006,
	0x84000007, 0x8400000a, 0x8400000b, 0x8400000c, 0x8400000d, 0xc400000d, 0x8400000e, 0xc400000e,
	0x8400000f, 0x84000010, 0x84000011, 0xc4000011, 0x84000012, 0xc4000012, 0x84000013, 0x84000014,
	0xc4000014, 0x84000015, 0xc4000015, 0x8400001f, 0xc400001f, 0x80000000,
};

// Is r0 a plausible answer to PSCI function f (an error code, or what the call reports)?
static int psci_result_ok(u32 f, s64 r0) {
	switch (f) {
	case 0x84000000: return r0 == 0x10000 || r0 == 0x10001 || r0 == 0x20000;
	case 0x84000006: return r0 == 2 || r0 < 0;
	case 0x84000004: case 0xc4000004: return r0 == 0 || r0 == 1 || r0 == -2;
	case 0x8400000a: return r0 == 0 || r0 == -1;
	default: return r0 < 0; // CPU_ON of this single-vCPU VM, unknown ids: errors
	}
}

// Distinct x7 codes (fid << 8 | event) of calls that succeeded, and how often.
static u16 ok_code[16];
static u64 ok_count[16];
static u64 ok_n;

static void note_success(u16 code) {
	for (u64 i = 0; i < ok_n; i++)
		if (ok_code[i] == code) {
			ok_count[i]++;
			return;
		}
	if (ok_n < 16) {
		ok_code[ok_n] = code;
		ok_count[ok_n++] = 1;
	}
}

static void fuzz(const char *what, u64 n, int smc, int psci) {
	u64 r[8], in[8], errors = 0, successes = 0, answers = 0, bad = 0, clobbered = 0;
	ok_n = 0;
	for (u64 i = 0; i < n; i++) {
		for (int k = 0; k < 8; k++) in[k] = r[k] = rnd();
		if (psci) {
			u32 f = psci_fns[in[0] % (sizeof psci_fns / sizeof psci_fns[0])];
			if (in[0] >> 40 & 1) in[1] &= 0xff; // now and then an MPIDR-like target
			in[0] = r[0] = f;
			r[1] = in[1];
		}
		if (smc) call_smc(r);
		else call_hvc(r);
		s64 r0 = (s64)r[0];
		if (is_psci(in[0])) {
			if (psci_result_ok((u32)in[0], r0)) answers++;
			else if (bad++ < 8) say("%s: UNEXPECTED PSCI x0=%x -> %x (x1=%x)\n", what, in[0], r[0], in[1]);
		} else if (r0 < 0) {
			errors++; // an error code (SMCCC NOT_SUPPORTED, HVC_ERR: -1)
		} else {
			successes++; // a hypercall the VM may make (the test checks which)
			note_success((u16)in[7]);
		}
		for (int k = 1; k < 8; k++)
			if (r[k] != in[k] && clobbered++ < 8) say("%s: x%d changed by the call: %x -> %x (x0=%x)\n", what, (u64)k, in[k], r[k], in[0]);
	}
	say("%s: %d calls: %d error returns, %d successes, %d PSCI answers, %d unexpected, %d registers changed\n", what, n, errors, successes, answers, bad, clobbered);
	for (u64 i = 0; i < ok_n; i++) say("%s: success: fid %x event %x, %d times\n", what, (u64)(ok_code[i] >> 8), (u64)(ok_code[i] & 0xff), ok_count[i]);
}

static void mode_hvc(void) {
	fuzz("hvc", params[P_ITER], 0, 0);
	fuzz("smc", params[P_ITER2], 1, 0);
	fuzz("psci-hvc", params[P_ITER2] / 2, 0, 1);
	fuzz("psci-smc", params[P_ITER2] / 2, 1, 1);
	u64 before = undefs;
	call_hvc_imm();
	call_smc_imm();
	say("hvc: immediates 0xffff/0x1234 returned, %d undefined\n", undefs - before);
}

// ---- MODE_WFI ----

static u32 vtimer;
static volatile u64 ticks;

static void mode_wfi(void) {
	u64 n = params[P_ITER], m = params[P_ITER2], interval = params[P_TIMER_TICKS] ? params[P_TIMER_TICKS] : 50;
	gic_init();
	gic_enable_private(1u << vtimer);
	// Phase 1, the storm: the timer condition holds all the time (CVAL 0) with IRQs masked, so
	// every WFI traps and returns at once (an interrupt is pending).
	MSR(cntv_cval_el0, 0);
	MSR(cntv_ctl_el0, 1);
	ISB();
	for (u64 i = 0; i < n; i++) asm volatile("wfi");
	say("wfi: %d WFIs with the timer interrupt pending and masked\n", n);
	// Phase 2: IRQs on, the handler re-arms the timer every `interval` ticks; each WFI sleeps
	// until the next timer interrupt.
	ticks = 0;
	MSR(cntv_tval_el0, interval);
	irq_on();
	for (u64 i = 0; i < m; i++) asm volatile("wfi");
	irq_off();
	MSR(cntv_ctl_el0, 0);
	say("wfi: %d WFIs, %d timer interrupts taken\n", m, ticks);
	// Phase 3: WFE (not trapped).
	for (u64 i = 0; i < m; i++) asm volatile("wfe");
	say("wfi: %d WFEs\n", m);
}

// ---- MODE_VICTIM ----

static volatile u32 self_test;

static void mode_victim(void) {
	gic_init();
	gic_enable_private(~0u & ~(1u << vtimer));
	for (u32 n = 1; n < gicd_lines() / 32; n++) w32(gicd + 0x100 + n * 4, ~0u);
	gicd_readback("victim", "at start");
	irq_on();
	sgi_self(7);
	for (int i = 0; i < 100000 && !self_test; i++) asm volatile("" ::: "memory");
	say("victim: self-test SGI %s\n", self_test ? "received" : "LOST");
}

// ---- interrupts ----

static void on_irq(u32 id) {
	switch (mode) {
	case MODE_SGI:
		if (id < 16) sgi_seen |= 1u << id;
		else say("sgi: irq %d\n", (u64)id);
		return;
	case MODE_WFI:
		if (id == vtimer) {
			ticks++;
			MSR(cntv_tval_el0, params[P_TIMER_TICKS] ? params[P_TIMER_TICKS] : 50);
			ISB();
		}
		return;
	case MODE_VICTIM:
		if (id == 7 && !self_test) {
			self_test = 1;
			return;
		}
		say("victim: INTERRUPT %d taken\n", (u64)id);
		return;
	default:
		say("bma: irq %d\n", (u64)id);
	}
}

// ---- main ----

static const char mode_names[] = "hello\0mem\0sgi\0gicd\0hvc\0wfi\0victim\0mvm";

void bma_main(u64 mem_end) {
	mode = params[P_MODE];
	uart = params[P_UART];
	uart_kind = params[P_UART_KIND];
	gicv = params[P_GIC_VERSION];
	gicd = params[P_GICD];
	gicr = params[P_GICR];
	vtimer = (u32)params[P_VTIMER];
	rng = params[P_SEED] ? params[P_SEED] : 0x9e3779b97f4a7c15ul;
	say("bma: %s, memory ends at %x, mpidr %x\n", mode <= MODE_MVM ? nth(mode_names, (int)mode) : "?", mem_end, MRS(mpidr_el1));
	switch (mode) {
	case MODE_MEM: mode_mem(); break;
	case MODE_SGI: mode_sgi(); break;
	case MODE_GICD: mode_gicd(); break;
	case MODE_HVC: mode_hvc(); break;
	case MODE_WFI: mode_wfi(); break;
	case MODE_VICTIM: mode_victim(); break;
	case MODE_MVM: mode_mvm(mem_end); break;
	default: break;
	}
	say("bma: finished\n");
	if (params[P_EXIT_TIMER]) {
		MSR(cntv_cval_el0, 0);
		MSR(cntv_ctl_el0, 1);
		ISB();
	}
	switch (params[P_AFTER]) {
	case AFTER_SPIN:
		if (mode != MODE_VICTIM) irq_off(); // a victim keeps taking (and reporting) interrupts
		for (;;) asm volatile("" ::: "memory");
	case AFTER_OFF:
	case AFTER_RESET: {
		u64 r[8] = {params[P_AFTER] == AFTER_OFF ? 0x84000008 : 0x84000009};
		call_hvc(r);
		break;
	}
	default:
		break;
	}
	// Sleep; a victim keeps taking (and reporting) interrupts.
	if (mode != MODE_VICTIM) irq_off();
	for (;;) asm volatile("wfi");
}
