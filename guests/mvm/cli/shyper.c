/* SPDX-License-Identifier: MIT */
/*
 * shyper: the MVM's management command (Rust-Shyper's cli/, reference/rust-shyper-behaviour.md
 * section 6), talking to the hypervisor through /dev/shyper (guests/mvm/module).
 *
 *   shyper system reboot|shutdown [-f] | test | daemon [CONFIG.json]
 *   shyper vm list | boot ID | reboot ID [-f] | shutdown ID [-f] | remove ID | state ID | getvmid
 *   shyper vm config FILE.json
 *
 * `vm config` reads Rust-Shyper's VM config JSON and makes its calls in Rust-Shyper's order: add
 * the VM, memory regions, memory colours, CPUs, emulated devices, passthrough regions, passthrough
 * IRQs (one call), stream ids, dtb devices, the device tree, the kernel (in 1 MiB pieces), the
 * kernel's name. A step that fails is named, and the half-made VM is deleted.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../module/shyper.h"
#include "daemon.h"
#include "json.h"

#define UPLOAD_PIECE (1 << 20)

static int dev = -1;

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "shyper: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

static void open_dev(void)
{
	dev = open("/dev/shyper", O_RDWR);
	if (dev < 0)
		die("cannot open /dev/shyper: %s (is shyper.ko loaded?)", strerror(errno));
}

static long call(unsigned long cmd, unsigned long arg)
{
	return ioctl(dev, cmd, arg);
}

static const char *why(void)
{
	return errno == EINVAL ? "refused by the hypervisor (its log says why)" : strerror(errno);
}

static unsigned long vm_id_arg(const char *s)
{
	char *end;
	unsigned long v;

	if (!s)
		die("%s", "a VM id is needed");
	v = strtoul(s, &end, 0);
	if (*s == 0 || *end || v > 0xffff)
		die("'%s' is not a VM id", s);
	return v;
}

/* ---- system, vm ------------------------------------------------------------------------ */

static const char *type_name(uint32_t t)
{
	return t == 0 ? "Linux" : t == 1 ? "Bare Metal App" : t == 2 ? "FreeRTOS" : "?";
}

static const char *state_name(uint32_t s)
{
	return s == 0 ? "Inactive" : s == 1 ? "Pending" : s == 2 ? "Active" : "?";
}

static int vm_list(void)
{
	struct shyper_vm_info_list l;

	memset(&l, 0, sizeof(l));
	if (call(SHYPER_VMM_LIST_VM, (unsigned long)&l) < 0)
		die("vm list: %s", why());
	printf("%-4s %-24s %-16s %s\n", "ID", "NAME", "TYPE", "STATE");
	for (uint64_t i = 0; i < l.vm_num && i < SHYPER_VM_NUM_MAX; i++) {
		struct shyper_vm_info *v = &l.info[i];
		char name[SHYPER_NAME_MAX_LEN + 1];

		memcpy(name, v->name, SHYPER_NAME_MAX_LEN);
		name[SHYPER_NAME_MAX_LEN] = 0;
		printf("%-4u %-24s %-16s %s\n", v->id, name, type_name(v->type), state_name(v->state));
	}
	return 0;
}

static int simple(const char *what, unsigned long cmd, unsigned long arg)
{
	long r = call(cmd, arg);

	if (r < 0) {
		fprintf(stderr, "shyper: %s: %s\n", what, why());
		return 1;
	}
	return 0;
}

/* ---- vm config -------------------------------------------------------------------------- */

static const char *cfg_path;
static uint64_t cfg_vmid;
static int cfg_step;
static char cfg_what[160];

static void cfail(const char *fmt, const char *arg)
{
	fprintf(stderr, "shyper: vm config %s: ", cfg_path);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

/* A number as Rust-Shyper's files write it: "0x..." (hex), "0b..." (binary), decimal, or a JSON number. */
static uint64_t num(const struct json *j, const char *field)
{
	const char *s;
	char *end;
	int base = 10;
	uint64_t v;

	if (!j)
		cfail("missing key \"%s\"", field);
	if (j->type != JSON_NUMBER && j->type != JSON_STRING)
		cfail("%s: expected a number or a string like \"0x1000\"", field);
	s = j->type == JSON_NUMBER ? j->text : j->str;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
		base = 2, s += 2;
	errno = 0;
	v = strtoull(s, &end, base);
	if (*s == 0 || *end || errno || *s == '-')
		cfail("%s: not a number", field);
	return v;
}

static uint64_t num_or(const struct json *j, uint64_t dflt, const char *field)
{
	return j ? num(j, field) : dflt;
}

static const char *str(const struct json *j, const char *field)
{
	if (!j || j->type != JSON_STRING)
		cfail("\"%s\" must be a string", field);
	return j->str;
}

static const char *str_or(const struct json *j, const char *dflt, const char *field)
{
	return j ? str(j, field) : dflt;
}

/* Rust-Shyper nests lists ({"emulated_device": {"emulated_device_list": [...]}}); the flat key works too. */
static const struct json *list_of(const struct json *vm, const char *outer, const char *inner)
{
	const struct json *l = json_get(json_get(vm, outer), inner);

	if (!l)
		l = json_get(vm, inner);
	if (l && l->type != JSON_ARRAY)
		cfail("%s must be a list", inner);
	return l;
}

static int index_of(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

static void step(const char *what)
{
	cfg_step++;
	snprintf(cfg_what, sizeof(cfg_what), "%s", what);
}

/* Issue the current step's ioctl; on failure name the step, delete the half-made VM, exit. */
static void config_call(unsigned long cmd, const void *arg)
{
	if (call(cmd, (unsigned long)arg) == 0)
		return;
	fprintf(stderr, "shyper: vm config %s: step %d (%s) failed: %s\n", cfg_path, cfg_step, cfg_what, why());
	if (cfg_step > 1) {
		if (call(SHYPER_CONFIG_DELETE_VM, cfg_vmid) == 0)
			fprintf(stderr, "shyper: vm config: vm %llu deleted\n", (unsigned long long)cfg_vmid);
		else
			fprintf(stderr, "shyper: vm config: deleting vm %llu failed too: %s\n", (unsigned long long)cfg_vmid, why());
	}
	exit(1);
}

/* A file named in the config: as given, else relative to the config file's directory. */
static unsigned char *read_file(const char *name, size_t *size)
{
	char path[4096];
	struct stat st;
	unsigned char *buf;
	FILE *f = fopen(name, "rb");
	char *dir;

	if (!f && name[0] != '/') {
		char *copy = strdup(cfg_path);

		dir = dirname(copy);
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		free(copy);
		f = fopen(path, "rb");
	}
	if (!f)
		cfail("cannot open %s", name);
	if (fstat(fileno(f), &st) < 0 || st.st_size <= 0)
		cfail("%s is empty", name);
	buf = malloc((size_t)st.st_size);
	if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		cfail("cannot read %s", name);
	fclose(f);
	*size = (size_t)st.st_size;
	return buf;
}

static void upload(unsigned long cmd, const char *file, const char *what)
{
	size_t size;
	unsigned char *data = read_file(file, &size);
	struct shyper_upload_arg a = { .vmid = cfg_vmid, .img_size = size };

	if (size > 2 && data[0] == 0x1f && data[1] == 0x8b)
		cfail("%s is gzip-compressed: the hypervisor loads it as it is (gunzip it first)", file);
	for (size_t off = 0; off < size; off += UPLOAD_PIECE) {
		a.cache_addr = (uint64_t)(uintptr_t)(data + off);
		a.load_offset = off;
		a.load_size = size - off < UPLOAD_PIECE ? size - off : UPLOAD_PIECE;
		snprintf(cfg_what, sizeof(cfg_what), "upload %s %s, bytes %zu-%llu of %zu", what, file, off,
			 (unsigned long long)(off + a.load_size), size);
		config_call(cmd, &a);
	}
	free(data);
}

static uint64_t *u64_list(const struct json *l, const char *field, size_t *n)
{
	uint64_t *v;

	*n = 0;
	if (!l)
		return NULL;
	if (l->type != JSON_ARRAY)
		cfail("%s must be a list", field);
	v = calloc(l->n ? l->n : 1, sizeof(*v));
	for (size_t i = 0; i < l->n; i++)
		v[i] = num(l->items[i], field);
	*n = l->n;
	return v;
}

/* "0-13,14,15,32-63" (Rust-Shyper memory colours) */
static uint64_t *colours(const char *s, size_t *n)
{
	uint64_t *v = NULL;
	size_t cap = 0;

	*n = 0;
	while (*s) {
		char *end;
		unsigned long a = strtoul(s, &end, 10), b = a;

		if (end == s)
			cfail("memory.colors: bad list \"%s\"", s);
		if (*end == '-') {
			s = end + 1;
			b = strtoul(s, &end, 10);
			if (end == s || b < a || b - a > SHYPER_LIST_MAX)
				cfail("memory.colors: bad range near \"%s\"", s);
		}
		for (unsigned long c = a; c <= b; c++) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 64;
				v = realloc(v, cap * sizeof(*v));
			}
			v[(*n)++] = c;
		}
		s = *end == ',' ? end + 1 : end;
	}
	return v;
}

static const char *const vm_types[] = { "VM_T_LINUX", "VM_T_BARE_MATEL_APP", "VM_T_FREERTOS" };
static const char *const emu_types[] = {
	"EMU_DEVICE_T_CONSOLE",	    "EMU_DEVICE_T_GICD",	   "EMU_DEVICE_T_GPPT",	 "EMU_DEVICE_T_VIRTIO_BLK",
	"EMU_DEVICE_T_VIRTIO_NET",  "EMU_DEVICE_T_VIRTIO_CONSOLE", "EMU_DEVICE_T_SHYPER", "EMU_DEVICE_T_VIRTIO_BLK_MEDIATED",
	"EMU_DEVICE_T_IOMMU",	    "EMU_DEVICE_T_SRE",		   "EMU_DEVICE_T_SGIR",	 "EMU_DEVICE_T_GICR",
	"EMU_DEVICE_T_META",	    "EMU_DEVICE_T_PLIC",	   "EMU_DEVICE_T_APLIC",
};
static const char *const dtb_types[] = { "DTB_DEVICE_T_CONSOLE", "DTB_DEVICE_T_GICD", "DTB_DEVICE_T_GICC",
					 "DTB_DEVICE_T_GICR",	 "DTB_DEVICE_T_PLIC", "DTB_DEVICE_T_APLIC" };

static uint64_t vm_config_one(const struct json *vm)
{
	const struct json *image = json_get(vm, "image"), *memory = json_get(vm, "memory"), *cpu = json_get(vm, "cpu");
	const struct json *l;
	const char *name = str(json_get(vm, "name"), "name"), *type = str(json_get(vm, "type"), "type");
	const char *cmdline = str_or(json_get(vm, "cmdline"), "", "cmdline");
	const char *kernel, *dtb;
	uint64_t *irqs = NULL, *streams = NULL;
	size_t nirqs = 0, nstreams = 0;
	int t = index_of(type, vm_types, 3);

	if (t < 0 && !strcmp(type, "VM_T_BARE_METAL_APP"))
		t = 1;
	if (t < 0)
		cfail("type \"%s\" is not VM_T_LINUX, VM_T_BARE_MATEL_APP or VM_T_FREERTOS", type);
	if (!image || !memory || !cpu)
		cfail("%s", "\"image\", \"memory\" and \"cpu\" are needed");
	kernel = str(json_get(image, "kernel_filename"), "image.kernel_filename");
	dtb = str_or(json_get(image, "device_tree_filename"), "", "image.device_tree_filename");

	/* 1. add the VM */
	step("add the VM");
	struct shyper_add_vm_arg add = {
		.name_addr = (uintptr_t)name,
		.name_len = strlen(name),
		.type = (uint64_t)t,
		.cmdline_addr = (uintptr_t)cmdline,
		.cmdline_len = strlen(cmdline),
		.kernel_load_ipa = num(json_get(image, "kernel_load_ipa"), "image.kernel_load_ipa"),
		.device_tree_load_ipa = num(json_get(image, "device_tree_load_ipa"), "image.device_tree_load_ipa"),
		.ramdisk_load_ipa = num_or(json_get(image, "ramdisk_load_ipa"), 0, "image.ramdisk_load_ipa"),
		.vm_id_addr = (uintptr_t)&cfg_vmid,
	};
	config_call(SHYPER_CONFIG_ADD_VM, &add);

	/* 2. memory regions */
	l = json_get(memory, "region");
	if (!l || l->type != JSON_ARRAY)
		cfail("%s", "memory.region must be a list");
	for (size_t i = 0; i < l->n; i++) {
		struct shyper_memory_region_arg m = { cfg_vmid, num(json_get(l->items[i], "ipa_start"), "memory.region[].ipa_start"),
						      num(json_get(l->items[i], "length"), "memory.region[].length") };

		step("memory region");
		snprintf(cfg_what, sizeof(cfg_what), "memory region %#llx+%#llx", (unsigned long long)m.ipa_start,
			 (unsigned long long)m.length);
		config_call(SHYPER_CONFIG_MEMORY_REGION, &m);
	}

	/* 3. memory colours and budget */
	if (json_get(memory, "colors") || json_get(memory, "budget")) {
		size_t n = 0;
		uint64_t *c = json_get(memory, "colors") ? colours(str(json_get(memory, "colors"), "memory.colors"), &n) : NULL;
		struct shyper_color_budget_arg cb = { cfg_vmid, n, (uintptr_t)c,
						      (uint32_t)num_or(json_get(memory, "budget"), 0, "memory.budget") };

		step("memory colours and budget");
		config_call(SHYPER_CONFIG_MEMORY_COLOR_BUDGET, &cb);
		free(c);
	}

	/* 4. CPUs */
	step("cpu");
	const struct json *master = json_get(cpu, "master");
	struct shyper_cpu_arg c = {
		.vmid = cfg_vmid,
		.num = (uint32_t)num(json_get(cpu, "num"), "cpu.num"),
		.allocate_bitmap = (uint32_t)num(json_get(cpu, "allocate_bitmap"), "cpu.allocate_bitmap"),
		.master = master && master->type == JSON_NUMBER ? atoi(master->text) : -1,
	};
	config_call(SHYPER_CONFIG_CPU, &c);

	/* 5. emulated devices */
	l = list_of(vm, "emulated_device", "emulated_device_list");
	for (size_t i = 0; l && i < l->n; i++) {
		const struct json *d = l->items[i];
		const char *dname = str(json_get(d, "name"), "emulated device name");
		const char *dtype = str(json_get(d, "type"), "emulated device type");
		size_t ncfg;
		uint64_t *cfg = u64_list(json_get(d, "cfg_list"), "cfg_list", &ncfg);
		int et = index_of(dtype, emu_types, 15);
		struct shyper_emulated_device_arg e;

		if (et < 0)
			cfail("emulated device type \"%s\" is not an EMU_DEVICE_T_*", dtype);
		e = (struct shyper_emulated_device_arg){ cfg_vmid, (uintptr_t)dname, strlen(dname),
							 num(json_get(d, "base_ipa"), "base_ipa"), num(json_get(d, "length"), "length"),
							 num(json_get(d, "irq_id"), "irq_id"), (uintptr_t)cfg, ncfg, (uint64_t)et };
		step("emulated device");
		snprintf(cfg_what, sizeof(cfg_what), "emulated device \"%s\" (%s)", dname, dtype);
		config_call(SHYPER_CONFIG_EMULATED_DEVICE, &e);
		free(cfg);
	}

	/* 6. passthrough regions (their IRQs and stream ids are gathered for steps 7 and 8) */
	l = list_of(vm, "passthrough_device", "passthrough_device_list");
	for (size_t i = 0; l && i < l->n; i++) {
		const struct json *d = l->items[i];
		const char *dname = str(json_get(d, "name"), "passthrough device name");
		struct shyper_passthrough_region_arg p = { cfg_vmid, num(json_get(d, "base_ipa"), "base_ipa"),
							   num(json_get(d, "base_pa"), "base_pa"), num(json_get(d, "length"), "length") };
		size_t n;
		uint64_t *di = u64_list(json_get(d, "irq_list"), "irq_list", &n);

		irqs = realloc(irqs, (nirqs + n + 1) * sizeof(*irqs));
		memcpy(irqs + nirqs, di, n * sizeof(*irqs));
		nirqs += n;
		free(di);
		if (json_get(d, "smmu_id")) {
			streams = realloc(streams, (nstreams + 1) * sizeof(*streams));
			streams[nstreams++] = num(json_get(d, "smmu_id"), "smmu_id");
		}
		step("passthrough region");
		snprintf(cfg_what, sizeof(cfg_what), "passthrough region \"%s\"", dname);
		config_call(SHYPER_CONFIG_PASSTHROUGH_DEVICE_REGION, &p);
	}

	/* 7. passthrough IRQs, all in one call */
	if (nirqs) {
		struct shyper_list_arg a = { cfg_vmid, (uintptr_t)irqs, nirqs };

		step("passthrough irqs");
		config_call(SHYPER_CONFIG_PASSTHROUGH_DEVICE_IRQS, &a);
	}

	/* 8. stream ids */
	if (nstreams) {
		struct shyper_list_arg a = { cfg_vmid, (uintptr_t)streams, nstreams };

		step("stream ids");
		config_call(SHYPER_CONFIG_PASSTHROUGH_DEVICE_STREAMS_IDS, &a);
	}
	free(irqs);
	free(streams);

	/* 9. dtb devices */
	l = list_of(vm, "dtb_device", "dtb_device_list");
	for (size_t i = 0; l && i < l->n; i++) {
		const struct json *d = l->items[i];
		const char *dname = str(json_get(d, "name"), "dtb device name");
		const char *dtype = str(json_get(d, "type"), "dtb device type");
		size_t n;
		uint64_t *di = u64_list(json_get(d, "irq_list"), "irq_list", &n);
		int dt = index_of(dtype, dtb_types, 6);
		struct shyper_dtb_device_arg a;

		if (dt < 0 && !strcmp(dtype, "DTB_DEVICE_T_SERIAL"))
			dt = 0;
		if (dt < 0)
			cfail("dtb device type \"%s\" is not a DTB_DEVICE_T_*", dtype);
		a = (struct shyper_dtb_device_arg){ cfg_vmid, (uintptr_t)dname, strlen(dname), (uint64_t)dt, (uintptr_t)di, n,
						    num(json_get(d, "addr_region_ipa"), "addr_region_ipa"),
						    num(json_get(d, "addr_region_length"), "addr_region_length") };
		step("dtb device");
		snprintf(cfg_what, sizeof(cfg_what), "dtb device \"%s\"", dname);
		config_call(SHYPER_CONFIG_DTB_DEVICE, &a);
		free(di);
	}

	/* 10. the device tree, 11. the kernel */
	if (dtb[0] && strcmp(dtb, "-")) {
		step("device tree");
		upload(SHYPER_CONFIG_UPLOAD_DEVICE_TREE, dtb, "device tree");
	}
	step("kernel");
	upload(SHYPER_CONFIG_UPLOAD_KERNEL_IMAGE, kernel, "kernel");

	/* 12. the kernel's name, for the daemon */
	struct shyper_kernel_image_info info = { .vm_id = cfg_vmid };
	const char *base = strrchr(kernel, '/') ? strrchr(kernel, '/') + 1 : kernel;

	strncpy(info.image_name, base, SHYPER_NAME_MAX_LEN - 1);
	step("record the kernel's name");
	config_call(SHYPER_LOCAL_SET_KERNEL_IMG_NAME, &info);

	printf("shyper: vm %llu \"%s\" configured (shyper vm boot %llu starts it)\n", (unsigned long long)cfg_vmid, name,
	       (unsigned long long)cfg_vmid);
	return cfg_vmid;
}

static int vm_config(const char *path)
{
	size_t size;
	char *text, err[200];
	struct json *doc;

	cfg_path = path;
	text = (char *)read_file(path, &size);
	text = realloc(text, size + 1);
	text[size] = 0;
	doc = json_parse(text, err, sizeof(err));
	if (!doc)
		cfail("invalid JSON: %s", err);
	if (doc->type == JSON_OBJECT) {
		vm_config_one(doc);
	} else if (doc->type == JSON_ARRAY) {
		for (size_t i = 0; i < doc->n; i++) {
			cfg_step = 0;
			vm_config_one(doc->items[i]);
		}
	} else {
		cfail("%s", "expected a VM config object (or a list of them)");
	}
	json_free(doc);
	free(text);
	return 0;
}

/* ---- main ------------------------------------------------------------------------------- */

static int usage(void)
{
	fprintf(stderr, "usage: shyper system reboot|shutdown [-f] | test | daemon [CONFIG.json]\n"
			"       shyper vm list | boot ID | reboot ID [-f] | shutdown ID [-f] | remove ID | state ID | getvmid\n"
			"       shyper vm config FILE.json\n");
	return 2;
}

static int has_force(int argc, char **argv)
{
	for (int i = 3; i < argc; i++)
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--force"))
			return 1;
	return 0;
}

/* The VM id argument: the first argument after the command that is not -f. */
static const char *id_arg(int argc, char **argv)
{
	for (int i = 3; i < argc; i++)
		if (strcmp(argv[i], "-f") && strcmp(argv[i], "--force"))
			return argv[i];
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	open_dev();
	const char *group = argv[1], *cmd = argv[2];

	if (!strcmp(group, "system")) {
		if (!strcmp(cmd, "reboot"))
			return simple("system reboot", SHYPER_SYS_REBOOT, has_force(argc, argv));
		if (!strcmp(cmd, "shutdown"))
			return simple("system shutdown", SHYPER_SYS_SHUTDOWN, has_force(argc, argv));
		if (!strcmp(cmd, "test"))
			return simple("system test", SHYPER_SYS_TEST, 0);
		if (!strcmp(cmd, "daemon"))
			return daemon_run(dev, argc > 3 ? argv[3] : NULL);
	} else if (!strcmp(group, "vm")) {
		unsigned long force = has_force(argc, argv) ? 1UL << 16 : 0;

		if (!strcmp(cmd, "list"))
			return vm_list();
		if (!strcmp(cmd, "boot"))
			return simple("vm boot", SHYPER_VMM_BOOT_VM, vm_id_arg(id_arg(argc, argv)));
		if (!strcmp(cmd, "reboot"))
			return simple("vm reboot", SHYPER_VMM_REBOOT_VM, force | vm_id_arg(id_arg(argc, argv)));
		if (!strcmp(cmd, "shutdown"))
			return simple("vm shutdown", SHYPER_VMM_SHUTDOWN_VM, force | vm_id_arg(id_arg(argc, argv)));
		if (!strcmp(cmd, "remove"))
			return simple("vm remove", SHYPER_VMM_VM_REMOVE, vm_id_arg(id_arg(argc, argv)));
		if (!strcmp(cmd, "state")) {
			long s = call(SHYPER_VMM_GET_VM_STATE, vm_id_arg(id_arg(argc, argv)));

			if (s < 0)
				die("vm state: %s", why());
			printf("%s\n", state_name((uint32_t)s));
			return 0;
		}
		if (!strcmp(cmd, "getvmid")) {
			uint32_t id = 0;

			if (call(SHYPER_VMM_GET_VM_ID, (unsigned long)&id) < 0)
				die("vm getvmid: %s", why());
			printf("current VM id: %u\n", id);
			return 0;
		}
		if (!strcmp(cmd, "config")) {
			if (argc < 4)
				return usage();
			return vm_config(argv[3]);
		}
	}
	return usage();
}
