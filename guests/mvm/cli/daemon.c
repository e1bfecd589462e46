/* SPDX-License-Identifier: MIT */
/*
 * `shyper system daemon [CONFIG.json]`: the MVM's service for the hypervisor (Rust-Shyper's
 * cli/src/daemon.rs and blk.rs, reference/rust-shyper-behaviour.md sections 4 and 6).
 *
 * CONFIG.json is Rust-Shyper's: {"mediated": ["/path/of/image", ...]}; image i serves the GVMs'
 * mediated virtio-blk with mediated disk index i (a file or a block device, e.g. the MVM's own
 * virtio disk /dev/vda). For each, the daemon appends the disk (ioctl 0x1010: the module allocates
 * the shared page and the cache, the hypervisor lists the disk), maps the cache, then loops:
 * read() a request from /dev/shyper, move count sectors between the image and the cache
 * (pread/pwrite at sector * 512; the image is opened O_DSYNC, so a write the GVM is told is done
 * is on the MVM's disk), and report it done (ioctl 0x331). Rust-Shyper uses O_DIRECT; the cache
 * here is kernel memory mapped with remap_pfn_range, which O_DIRECT cannot target.
 *
 * The daemon runs SCHED_FIFO when it may: a GVM's request waits for it, and as an ordinary task it
 * waited for whatever else the MVM ran to end its time slice (whole 4 ms ticks per request).
 *
 * SIGUSR1 still brings the other requests (a GVM's kernel to upload again after a forced reboot:
 * the hypervisor keeps every kernel it was given, so they are only reported).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../module/shyper.h"
#include "daemon.h"
#include "json.h"

struct disk {
	int fd;
	unsigned char *cache;
	uint64_t cache_size, block_num;
	char path[32];
};

static struct disk disks[SHYPER_MEDIATED_DISKS_MAX];
static int ndisks;
static volatile sig_atomic_t signalled;

static void on_usr1(int sig)
{
	(void)sig;
	signalled = 1;
}

static int fail(const char *what, const char *arg)
{
	fprintf(stderr, "shyper daemon: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
	return 1;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf;

	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) < 0 || st.st_size < 0 || st.st_size > (1 << 20)) {
		fclose(f);
		return NULL;
	}
	buf = calloc(1, (size_t)st.st_size + 1);
	if (buf && fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Append image `path` as mediated disk `idx` and map its cache. */
static int add_disk(int dev, int idx, const char *path)
{
	struct shyper_mediated_cfg cfg;
	struct disk *d = &disks[idx];
	const char *base = strrchr(path, '/');
	off_t size;

	d->fd = open(path, O_RDWR | O_DSYNC);
	if (d->fd < 0)
		return fail(path, strerror(errno));
	size = lseek(d->fd, 0, SEEK_END);
	if (size < 512)
		return fail(path, "not a disk image (smaller than one sector)");
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "%s", base ? base + 1 : path);
	snprintf(cfg.dev_path, sizeof(cfg.dev_path), "%s", path);
	snprintf(d->path, sizeof(d->path), "%s", path);
	cfg.block_num = (uint64_t)size / 512;
	cfg.idx = (uint16_t)idx;
	if (ioctl(dev, SHYPER_LOCAL_MEDIATED_APPEND, &cfg) < 0)
		return fail(path, errno == EINVAL ? "refused by the hypervisor (its log says why)" : strerror(errno));
	d->cache_size = cfg.cache_size;
	d->block_num = cfg.block_num;
	d->cache = mmap(NULL, cfg.cache_size, PROT_READ | PROT_WRITE, MAP_SHARED, dev, (off_t)idx * SHYPER_MEDIATED_CACHE_STRIDE);
	if (d->cache == MAP_FAILED)
		return fail("cannot map the cache", strerror(errno));
	printf("shyper daemon: mediated disk %d: %s, %llu sectors, %llu KiB cache\n", idx, path,
	       (unsigned long long)cfg.block_num, (unsigned long long)(cfg.cache_size >> 10));
	return 0;
}

static int load_config(int dev, const char *config)
{
	char err[160];
	char *text = slurp(config);
	struct json *doc, *list;

	if (!text)
		return fail("cannot read", config);
	doc = json_parse(text, err, sizeof(err));
	if (!doc)
		return fail(config, err);
	list = json_get(doc, "mediated");
	if (list && list->type != JSON_ARRAY)
		return fail(config, "\"mediated\" is not a list of image paths");
	for (size_t i = 0; list && i < list->n; i++) {
		if (i >= SHYPER_MEDIATED_DISKS_MAX)
			return fail(config, "more than 8 mediated disks");
		if (list->items[i]->type != JSON_STRING)
			return fail(config, "\"mediated\" is not a list of image paths");
		if (add_disk(dev, (int)i, list->items[i]->str))
			return 1;
		ndisks = (int)i + 1;
	}
	json_free(doc);
	free(text);
	return 0;
}

/* Move the request's sectors between the image and the cache; 0 or -1 (the GVM sees an I/O error). */
static int serve(const struct shyper_blk_arg *a)
{
	struct disk *d = a->blk_id < ndisks ? &disks[a->blk_id] : NULL;
	uint64_t len = a->count * 512, done = 0;
	off_t at = (off_t)(a->sector * 512);

	if (!d || a->count == 0 || len > d->cache_size || a->sector + a->count > d->block_num)
		return -1;
	while (done < len) {
		ssize_t n = a->type == 0 ? pread(d->fd, d->cache + done, len - done, at + (off_t)done)
					 : pwrite(d->fd, d->cache + done, len - done, at + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			if (a->type != 0)
				return -1;
			memset(d->cache + done, 0, len - done); /* past the end of a file: zeros */
			break;
		}
		done += (uint64_t)n;
	}
	return 0;
}

int daemon_run(int dev, const char *config)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1; /* no SA_RESTART: a signal ends the blocking read() */
	sigaction(SIGUSR1, &sa, NULL);
	if (ioctl(dev, SHYPER_LOCAL_SET_DAEMON_PID, (unsigned long)getpid()) < 0)
		return fail("cannot register with /dev/shyper", strerror(errno));
	if (config && load_config(dev, config))
		return 1;
	{
		struct sched_param sp = { .sched_priority = 50 };

		if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
			fprintf(stderr, "shyper daemon: no real-time priority (%s): requests wait for the MVM's other tasks\n", strerror(errno));
	}
	printf("shyper daemon: pid %d waiting for the hypervisor's requests\n", (int)getpid());
	fflush(stdout);
	for (;;) {
		struct shyper_blk_arg a;
		ssize_t n = read(dev, &a, sizeof(a));

		if (n == (ssize_t)sizeof(a)) {
			int failed = serve(&a) < 0;

			if (failed)
				fprintf(stderr, "shyper daemon: disk %u: %s of %llu sectors at %llu failed\n", a.blk_id,
					a.type == 0 ? "read" : "write", (unsigned long long)a.count, (unsigned long long)a.sector);
			if (ioctl(dev, SHYPER_MEDIATED_DEV_NOTIFY, (unsigned long)a.blk_id | (unsigned long)failed << 16) < 0)
				fprintf(stderr, "shyper daemon: disk %u: DEV_NOTIFY: %s\n", a.blk_id, strerror(errno));
			continue;
		}
		if (n < 0 && errno != EINTR)
			return fail("read /dev/shyper", strerror(errno));
		if (signalled) {
			uint64_t req = 0;

			signalled = 0;
			if (ioctl(dev, SHYPER_CMD(SHYPER_FID_LOCAL, 7), (unsigned long)&req) < 0 || req == 0)
				continue;
			printf("shyper daemon: request fid %#llx event %llu for vm %llu\n", (unsigned long long)((req >> 8) & 0xff),
			       (unsigned long long)(req & 0xff), (unsigned long long)(req >> 16));
			fflush(stdout);
		}
	}
}
