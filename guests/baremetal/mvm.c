// MODE_MVM of the bare-metal test guest (bma.h): VM 0 making random management hypercalls.
#include "bma.h"

// The MVM's own hypercalls at random (issue 9): what a buggy or hostile user space in VM 0 could
// make shyper.ko issue. Arguments are plausible more often than not — argument structs, strings
// and lists in our own memory, its last bytes, ids, sizes — so calls get past their first checks
// and reach deep (a VM added, configured, built from a garbage kernel, booted). Only what is the
// MVM's right and would end the test is left out: SYS (system reboot/shutdown) and powering off,
// resetting or removing the VMs that were there at the start (ids below P_NPROBE).

static u64 mvm_buf[512]; // 4 KiB: argument structs and strings

static void mvm_plant(void) {
	u8 *b = (u8 *)mvm_buf;
	for (int i = 0; i < 512; i++) mvm_buf[i] = rnd() & 0xff;
	const char *name = "fz";
	for (int i = 0; i < 3; i++) b[i] = (u8)name[i];
	// ADD_VM struct at +0x40: name, -, type, cmdline, -, kernel, dtb, ramdisk IPAs
	u64 *add = &mvm_buf[8];
	add[0] = (u64)b; add[1] = 2; add[2] = rnd() % 3; add[3] = (u64)b; add[4] = 0;
	add[5] = 0x200000; add[6] = 0x300000; add[7] = rnd() & 1 ? 0 : 0x380000;
	// a list at +0x100: INTIDs, stream ids, colours
	u64 *list = &mvm_buf[32];
	list[0] = 33; list[1] = 64; list[2] = 1000; list[3] = 1ul << 63;
	// the buffer's last bytes hold no NUL: a string read there runs on past it
	for (int i = 0xff8; i < 0x1000; i++) b[i] = 0x41;
}

static u64 mvm_arg(u64 mem_end) {
	const u64 b = (u64)mvm_buf;
	// mem_end - 4: whatever is read or written there crosses the end of our memory (an error, not
	// a write: the stack is just below). Nothing points at our code or parameter block.
	const u64 pool[] = { 0, 1, 2, 3, 4, 7, 8, 16, 0xffff, 1ul << 16, ~0ul, b, b + 0x40, b + 0x100, b + 0xff8,
			     mem_end - 4, mem_end, mem_end + 0x1000, 0x9000000, 0x200000, 0x1000, 0x8, 0x10, 48, 64 };
	return rnd() % 4 == 0 ? rnd() : pool[rnd() % (sizeof pool / sizeof pool[0])];
}

void mode_mvm(u64 mem_end) {
	static const u8 fids[] = { 0x11, 0x11, 0x11, 0x11, 1, 1, 2, 3 };
	u64 n = params[P_ITER], keep = params[P_NPROBE], calls = 0, errors = 0, successes = 0, added = 0, clobbered = 0, last_id = 2;
	for (u64 i = 0; i < n; i++) {
		if (i % 64 == 0) mvm_plant();
		u64 r[8], in[8];
		u64 fid = rnd() % 16 == 0 ? rnd() & 0xff : fids[rnd() % sizeof fids];
		u64 event = rnd() % 18;
		for (int k = 0; k < 7; k++) in[k] = r[k] = mvm_arg(mem_end);
		// Half the time a coherent call on the last VM added: a memory region, a core of 2-3, a
		// kernel chunk from our buffer, a boot — the sequence `shyper vm config` makes.
		if (rnd() & 1) {
			u64 core = 2 + (rnd() & 1), b = (u64)mvm_buf;
			if (fid == 0x11 || fid == 1) in[0] = last_id;
			if (fid == 0x11 && event == 3) { in[1] = 0x200000; in[2] = 0x200000; }
			if (fid == 0x11 && event == 2) { in[1] = 1; in[2] = 1ul << core; in[3] = core; }
			if (fid == 0x11 && event == 9) { in[1] = 0x1000; in[2] = b; in[3] = 0; in[4] = 0x1000; }
			if (fid == 0x11 && event == 0) in[0] = b + 0x40;
			for (int k = 0; k < 7; k++) r[k] = in[k];
		}
		if (fid == 0) continue;
		if (fid == 1 && (event == 3 || event == 4 || event == 16) && (in[0] & 0xffff) < keep) continue;
		if (fid == 0x11 && event == 1 && in[0] < keep) continue;
		in[7] = r[7] = fid << 8 | event;
		call_hvc(r);
		calls++;
		if ((s64)r[0] == -1) errors++;
		else successes++;
		if (fid == 0x11 && event == 0 && (s64)r[0] != -1) {
			added++;
			last_id = r[0];
		}
		for (int k = 1; k < 8; k++)
			if (r[k] != in[k] && clobbered++ < 8) say("mvm: x%d changed by the call: %x -> %x (x7=%x)\n", (u64)k, in[k], r[k], in[7]);
	}
	say("mvm: %d calls: %d errors, %d successes, %d VMs added, %d registers changed\n", calls, errors, successes, added, clobbered);
}

