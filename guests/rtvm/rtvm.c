/*
 * shyper-emu's real-time test guest: interrupt latency of the EL1 virtual timer, in cycles.
 *
 * Every period it arms CNTV_CVAL_EL0 one period ahead and waits in WFI; the timer's PPI 27 comes
 * through the GIC (GICv3 system registers). Latency is "counter at handler entry minus the
 * compare value": the IRQ vector reads PMCCNTR_EL0 and CNTVCT_EL0 first thing; CNTVCT gives whole
 * ticks past CVAL, and the cycles from handler entry to the next counter tick refine it below a
 * tick (a 24 MHz tick is 100 cycles of a 2.4 GHz core):
 *     latency = (ticks past CVAL + 1) * cycles_per_tick - (cycles from entry to the next tick).
 * cycles_per_tick is measured at start over 64 ticks. Every REPORT periods it prints min/avg/max
 * and a histogram on the board's UART, with the timer stopped (printing is never measured).
 * Deterministic on shyper-emu: the same run prints the same numbers.
 */
#include "board.h"

typedef unsigned long u64;
typedef unsigned int u32;
typedef long s64;

#define PERIOD_US 100
#define REPORT 32
#define PPI_VTIMER 27
#define HIST 10

#define sysreg_read(r) ({ u64 __v; __asm__ volatile("mrs %0, " #r : "=r"(__v)); __v; })
#define sysreg_write(r, v) __asm__ volatile("msr " #r ", %0" ::"r"((u64)(v)))
#define isb() __asm__ volatile("isb" ::: "memory")

static inline u32 mmio_read(u64 a) { return *(volatile u32 *)a; }
static inline void mmio_write(u64 a, u32 v) { *(volatile u32 *)a = v; }

/* ---- console ---- */

static void putc_raw(char c)
{
#if defined(UART_8250)
	while (!(mmio_read(UART_BASE + (5 << 2)) & 0x20)) /* LSR.THRE */
		;
	mmio_write(UART_BASE, (u32)c);
#else
	while (mmio_read(UART_BASE + 0x18) & 0x20) /* FR.TXFF */
		;
	mmio_write(UART_BASE, (u32)c);
#endif
}

static void puts_(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			putc_raw('\r');
		putc_raw(*s);
	}
}

static void put_dec(u64 v)
{
	char b[21];
	int i = 20;
	b[i] = 0;
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts_(&b[i]);
}

static void put_hex(u64 v)
{
	char b[19];
	int i = 18;
	b[i] = 0;
	do {
		b[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	b[--i] = 'x';
	b[--i] = '0';
	puts_(&b[i]);
}

/* v / 100 as "N.NN" */
static void put_cent(u64 v)
{
	put_dec(v / 100);
	putc_raw('.');
	putc_raw((char)('0' + v / 10 % 10));
	putc_raw((char)('0' + v % 10));
}

/* ---- counters ---- */

static inline u64 cntvct(void) { return sysreg_read(cntvct_el0); }
static inline u64 cycles(void) { return sysreg_read(pmccntr_el0); }

/* Spin until the virtual counter changes from `c`; its new value. */
static u64 next_tick(u64 c)
{
	u64 n;
	while ((n = cntvct()) == c)
		;
	return n;
}

/* ---- GICv3 ---- */

static u64 my_affinity(void)
{
	u64 m = sysreg_read(mpidr_el1);
	return (m & 0xffffff) | ((m >> 8) & 0xff000000);
}

/* This CPU's redistributor: the frame whose GICR_TYPER affinity is its MPIDR's. */
static u64 find_redistributor(void)
{
	u64 aff = my_affinity();
	for (u64 f = GICR_BASE;; f += 0x20000) {
		u64 typer_hi = mmio_read(f + 0xc);
		u32 typer_lo = mmio_read(f + 0x8);
		if (typer_hi == aff)
			return f;
		if (typer_lo & 0x10) /* Last */
			return 0;
	}
}

static int gic_init(void)
{
	/* Distributor: affinity routing, group 1 on (an emulated or checked GICD under Shyper). */
	mmio_write(GICD_BASE, 0x12);
	for (int n = 0; n < 1000 && (mmio_read(GICD_BASE) & 0x80000000u); n++) /* RWP */
		;
	u64 rd = find_redistributor();
	if (!rd)
		return -1;
	mmio_write(rd + 0x14, mmio_read(rd + 0x14) & ~2u); /* WAKER.ProcessorSleep */
	for (int n = 0; n < 1000 && (mmio_read(rd + 0x14) & 4u); n++) /* ChildrenAsleep */
		;
	u64 sgi = rd + 0x10000;
	mmio_write(sgi + 0x80, mmio_read(sgi + 0x80) | (1u << PPI_VTIMER)); /* IGROUPR0: group 1 */
	u32 prio = mmio_read(sgi + 0x400 + (PPI_VTIMER & ~3));
	prio = (prio & ~(0xffu << 8 * (PPI_VTIMER & 3))) | (0x80u << 8 * (PPI_VTIMER & 3));
	mmio_write(sgi + 0x400 + (PPI_VTIMER & ~3), prio); /* IPRIORITYR */
	mmio_write(sgi + 0x100, 1u << PPI_VTIMER);	   /* ISENABLER0 */
	sysreg_write(icc_sre_el1, sysreg_read(icc_sre_el1) | 1);
	isb();
	sysreg_write(icc_pmr_el1, 0xff);
	sysreg_write(icc_bpr1_el1, 0);
	sysreg_write(icc_ctlr_el1, 0); /* EOImode 0: EOIR drops priority and deactivates */
	sysreg_write(icc_igrpen1_el1, 1);
	isb();
	return 0;
}

/* ---- the measurement ---- */

static volatile u64 g_cval;
static volatile u64 g_fired;
static volatile u64 g_lat;	/* cycles */
static volatile u64 g_ticks;	/* whole ticks past CVAL */
static volatile u64 g_other;	/* interrupts that were not the timer's */
static u64 g_cpt256;		/* cycles per tick, x256 */

/* Called from the IRQ vector with the cycle and virtual counters read at entry. */
void rt_irq(u64 entry_cycles, u64 entry_count)
{
	u64 iar = sysreg_read(icc_iar1_el1);
	u32 id = (u32)(iar & 0xffffff);
	if (id == PPI_VTIMER) {
		u64 edge = next_tick(entry_count);
		u64 edge_cycles = cycles();
		sysreg_write(cntv_ctl_el0, 0); /* the level drops */
		u64 ticks = entry_count - g_cval;
		s64 lat256 = (s64)((edge - g_cval) * g_cpt256) - (s64)((edge_cycles - entry_cycles) * 256);
		g_lat = lat256 < 0 ? 0 : (u64)(lat256 + 128) / 256;
		g_ticks = ticks;
		g_fired = 1;
	} else if (id < 1020) {
		g_other++;
	}
	if (id < 1020)
		sysreg_write(icc_eoir1_el1, iar);
}

void rt_unexpected(u64 kind, u64 esr, u64 elr, u64 far)
{
	puts_("rtvm: unexpected exception ");
	put_dec(kind);
	puts_(" esr ");
	put_hex(esr);
	puts_(" elr ");
	put_hex(elr);
	puts_(" far ");
	put_hex(far);
	puts_("\n");
}

/* Characters, not pointers: the image is position independent and relocates nothing. */
static const char bucket_name[HIST][5] = { "<32", "<64", "<128", "<256", "<512", "<1k", "<2k", "<4k", "<8k", ">=8k" };

static u32 bucket(u64 lat)
{
	u32 b = 0;
	for (u64 lim = 32; b < HIST - 1 && lat >= lim; lim <<= 1)
		b++;
	return b;
}

static void report(u64 n, u64 count, u64 min, u64 sum, u64 max, u64 tmin, u64 tsum, u64 tmax, const u32 *hist)
{
	puts_("rtvm: report ");
	put_dec(n);
	puts_(": n=");
	put_dec(count);
	puts_(" min=");
	put_dec(min);
	puts_(" avg=");
	put_dec(sum / count);
	putc_raw('.');
	putc_raw((char)('0' + sum * 10 / count % 10));
	puts_(" max=");
	put_dec(max);
	puts_(" cycles (ticks min=");
	put_dec(tmin);
	puts_(" avg=");
	put_cent(tsum * 100 / count);
	puts_(" max=");
	put_dec(tmax);
	puts_(")\n");
	puts_("rtvm: report ");
	put_dec(n);
	puts_(": hist");
	for (int b = 0; b < HIST; b++) {
		putc_raw(' ');
		puts_(bucket_name[b]);
		putc_raw(':');
		put_dec(hist[b]);
	}
	puts_("\n");
}

void rt_main(void)
{
	u64 midr = sysreg_read(midr_el1);
	if (gic_init() < 0) {
		puts_("rtvm: no redistributor for this CPU's MPIDR\n");
		return;
	}
	/* PMUv3 cycle counter: reset, count at every EL (NSH: a hypervisor's cycles are the VM's latency). */
	sysreg_write(pmcr_el0, (1 << 6) | (1 << 2) | 1); /* LC, C, E */
	sysreg_write(pmccfiltr_el0, 1UL << 27);		  /* NSH */
	sysreg_write(pmcntenset_el0, 1UL << 31);
	sysreg_write(cntv_ctl_el0, 0);
	isb();

	u64 c = next_tick(cntvct());
	u64 c0 = cycles();
	for (int k = 0; k < 64; k++)
		c = next_tick(c);
	g_cpt256 = (cycles() - c0) * 4; /* x256 / 64 */
	u64 freq = sysreg_read(cntfrq_el0);
	u64 period = freq / (1000000 / PERIOD_US);

	puts_("rtvm: " BOARD_NAME " mpidr ");
	put_hex(sysreg_read(mpidr_el1));
	puts_(" midr ");
	put_hex(midr);
	puts_(" cntfrq ");
	put_dec(freq);
	puts_(" Hz, ");
	put_cent(g_cpt256 * 100 / 256);
	puts_(" cycles/tick, period ");
	put_dec(period);
	puts_(" ticks, ");
	put_dec(REPORT);
	puts_(" periods/report\n");

	for (u64 n = 1;; n++) {
		u64 min = ~0UL, max = 0, sum = 0, tmin = ~0UL, tmax = 0, tsum = 0;
		u32 hist[HIST] = { 0 };
		for (int k = 0; k < REPORT; k++) {
			__asm__ volatile("msr daifset, #2" ::: "memory");
			g_fired = 0;
			g_cval = cntvct() + period;
			sysreg_write(cntv_cval_el0, g_cval);
			sysreg_write(cntv_ctl_el0, 1);
			isb();
			/* Sleep with the IRQ masked (WFI still wakes), take it with the mask off: no lost wake-up. */
			while (!g_fired) {
				__asm__ volatile("wfi\n\tmsr daifclr, #2\n\tisb\n\tmsr daifset, #2" ::: "memory");
			}
			u64 lat = g_lat, t = g_ticks;
			if (lat < min)
				min = lat;
			if (lat > max)
				max = lat;
			sum += lat;
			if (t < tmin)
				tmin = t;
			if (t > tmax)
				tmax = t;
			tsum += t;
			hist[bucket(lat)]++;
		}
		report(n, REPORT, min, sum, max, tmin, tsum, tmax, hist);
		if (g_other) {
			puts_("rtvm: other interrupts ");
			put_dec(g_other);
			puts_("\n");
			g_other = 0;
		}
	}
}

#ifdef LITTLE_PARTNUM
static s64 psci(u64 fn, u64 a1, u64 a2, u64 a3)
{
	register u64 x0 __asm__("x0") = fn;
	register u64 x1 __asm__("x1") = a1;
	register u64 x2 __asm__("x2") = a2;
	register u64 x3 __asm__("x3") = a3;
	__asm__ volatile("hvc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x3) : "memory");
	return (s64)x0;
}
#endif

/* The boot CPU (x0 is the device tree natively, the end of RAM as a VM: unused). */
void rt_boot(void)
{
#ifdef LITTLE_PARTNUM
	u64 midr = sysreg_read(midr_el1);
	if (((midr >> 4) & 0xfff) == LITTLE_PARTNUM) {
		u64 entry;
		__asm__("adr %0, secondary_entry" : "=r"(entry));
		puts_("rtvm: " BOARD_NAME " booted on a LITTLE core: measuring on core ");
		put_hex(BIG_CORE_MPIDR);
		puts_("\n");
		s64 r = psci(0xc4000003, BIG_CORE_MPIDR, entry, 0); /* CPU_ON */
		if (r == 0) {
			psci(0x84000002, 0, 0, 0); /* CPU_OFF */
			return;
		}
		puts_("rtvm: CPU_ON failed, measuring here\n");
	}
#endif
	rt_main();
}
