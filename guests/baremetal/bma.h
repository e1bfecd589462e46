// The bare-metal test guest's parameter block: 64-bit words at image offset 0x40 (start.S),
// patched in by whoever loads the image (test/hypervisor/bma.ts: bmaImage()). Keep the indices
// in step with that file.
#ifndef BMA_H
#define BMA_H

typedef unsigned long u64;
typedef long s64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

enum {
	P_MODE = 0,         // MODE_*
	P_UART = 1,         // console UART base (0: silent)
	P_UART_KIND = 2,    // 0 PL011, 1 16550 byte registers, 2 16550/DW-APB 32-bit registers (reg-shift 2)
	P_GIC_VERSION = 3,  // 2 or 3
	P_GICD = 4,         // distributor base
	P_GICR = 5,         // GICv3: this vCPU's redistributor frame; GICv2: the CPU interface (GICC)
	P_SEED = 6,         // xorshift64 seed (non-zero)
	P_ITER = 7,         // main iteration count (hypercalls, WFIs, random GICD accesses)
	P_AFTER = 8,        // AFTER_*: what to do when done
	P_VTIMER = 9,       // INTID of the virtual timer PPI
	P_ITER2 = 10,       // secondary count (SMCs; PSCI calls, half over HVC, half over SMC; timer WFIs; WFEs)
	P_NPROBE = 11,      // number of probe addresses at P_PROBE
	P_PROBE = 12,       // up to 32 addresses (MODE_MEM)
	P_SWEEP_BASE = 44,  // MODE_MEM: read one word in each of P_SWEEP_PAGES pages from here
	P_SWEEP_PAGES = 45,
	P_TIMER_TICKS = 46, // MODE_WFI: timer interval in counter ticks
	P_GICD_SIZE = 47,   // distributor window size
	P_EXIT_TIMER = 48,  // non-zero: leave the virtual timer firing (CVAL 0) when done, as a crashed guest may
	P_SGI_KEEP = 49,    // MODE_SGI, non-zero: just send itself every SGI and leave them pending (IRQs masked)
};

enum {
	MODE_HELLO = 0,  // print a line, then P_AFTER (a bystander)
	MODE_MEM = 1,    // loads, stores and fetches outside the VM's memory
	MODE_SGI = 2,    // SGIs to every target a guest can name
	MODE_GICD = 3,   // distributor/redistributor writes to interrupts the VM does not own
	MODE_HVC = 4,    // random hypercalls, SMCs and PSCI calls
	MODE_WFI = 5,    // WFI storm with the virtual timer firing
	MODE_VICTIM = 6, // enables every interrupt it can and reports each one it takes
	MODE_MVM = 7,    // as VM 0: random management hypercalls with plausible arguments (P_ITER
	                 // calls; VMs with ids below P_NPROBE are never powered off, reset or removed)
};

enum { AFTER_PARK = 0, AFTER_SPIN = 1, AFTER_OFF = 2, AFTER_RESET = 3 };

// Shared by bma.c and mvm.c (MODE_MVM).
extern volatile u64 params[64];
extern void call_hvc(u64 r[8]);
u64 rnd(void);
void say(const char *fmt, ...);
void mode_mvm(u64 mem_end);

struct frame {
	u64 x[31];
	u64 elr;
	u64 spsr;
	u64 pad;
};

#endif
