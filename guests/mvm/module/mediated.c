// SPDX-License-Identifier: GPL-2.0
/*
 * shyper.ko's mediated disks (Rust-Shyper's mediated block protocol, reference/rust-shyper-behaviour.md
 * section 4): the MVM's daemon serves GVM disks from image files. For each disk the module owns the
 * shared 4 KiB page (u64 nreq, struct shyper_mediated_cfg at 8, the request at 0x80) and a
 * physically contiguous cache the hypervisor copies request data to and from (Rust-Shyper's daemon
 * maps a hugetlb cache and finds its address in /proc/self/pagemap; the kit kernel has no hugetlbfs,
 * and a cache the module allocates needs no pagemap access). The daemon:
 *   ioctl 0x1010 (struct shyper_mediated_cfg *)  append disk cfg.idx: HVC_MEDIATED_DEV_APPEND
 *   mmap(offset idx * SHYPER_MEDIATED_CACHE_STRIDE)  the cache
 *   read() -> struct shyper_blk_arg               the next request (blocks)
 *   ioctl 0x331 (idx | failed << 16)             done: HVC_MEDIATED_DEV_NOTIFY(page IPA, failed)
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "shyper.h"
#include "internal.h"

/* Mediated disks: shared page and cache of each, the requests waiting for the daemon's read(). */
#define BLK_RING 16
#define CACHE_ORDER_MAX 9 /* 2 MiB */
#define CACHE_ORDER_MIN 4 /* 64 KiB */
static DEFINE_MUTEX(blk_mutex);
static void *blk_page[SHYPER_MEDIATED_DISKS_MAX];
static void *blk_cache[SHYPER_MEDIATED_DISKS_MAX];
static unsigned int blk_cache_order[SHYPER_MEDIATED_DISKS_MAX];
static DEFINE_SPINLOCK(blk_lock);
static struct shyper_blk_arg blk_ring[BLK_RING];
static unsigned int blk_head, blk_tail; /* head: next to read; tail: next free */
static DECLARE_WAIT_QUEUE_HEAD(blk_wait);

/* ioctl 0x1010: the daemon serves a disk image as mediated disk cfg.idx. */
long mediated_append(unsigned long arg)
{
	struct shyper_mediated_cfg cfg;
	unsigned int i, order;
	long ret = 0;

	COPY_ARG(cfg, arg);
	i = cfg.idx;
	if (i >= SHYPER_MEDIATED_DISKS_MAX)
		return -EINVAL;
	mutex_lock(&blk_mutex);
	if (!blk_page[i]) {
		blk_page[i] = (void *)get_zeroed_page(GFP_KERNEL);
		/* The largest physically contiguous cache there is: fewer round trips per request. */
		for (order = CACHE_ORDER_MAX; order >= CACHE_ORDER_MIN && blk_page[i]; order--) {
			blk_cache[i] = (void *)__get_free_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN, order);
			if (blk_cache[i]) {
				blk_cache_order[i] = order;
				break;
			}
		}
		if (!blk_page[i] || !blk_cache[i]) {
			free_page((unsigned long)blk_page[i]);
			blk_page[i] = NULL;
			ret = -ENOMEM;
			goto out;
		}
	}
	cfg.cache_size = PAGE_SIZE << blk_cache_order[i];
	cfg.dma_block_max = cfg.cache_size / 512;
	cfg.cache_va = 0;
	cfg.cache_ipa = ipa(blk_cache[i]);
	cfg.cache_pa = 0;
	cfg.pcache = 0;
	memcpy(blk_page[i] + 8, &cfg, sizeof(cfg));
	/* Rust-Shyper's module passes the page in x1. */
	if (shyper_hvc(SHYPER_MEDIATED_DEV_APPEND, 0, ipa(blk_page[i]), 0, 0, 0, 0, 0) == HVC_ERR) {
		ret = -EINVAL;
		goto out;
	}
	memcpy(&cfg, blk_page[i] + 8, sizeof(cfg));
	if (copy_to_user((void __user *)arg, &cfg, sizeof(cfg)))
		ret = -EFAULT;
out:
	mutex_unlock(&blk_mutex);
	return ret;
}

/* {fid 3, event 0x32}: a request sits in each shared page with nreq != 0. */
void mediated_drv_notify(void)
{
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&blk_lock, flags);
	for (i = 0; i < SHYPER_MEDIATED_DISKS_MAX; i++) {
		u64 *nreq = blk_page[i];
		struct shyper_mediated_req *r;
		struct shyper_blk_arg *a;

		if (!nreq || !READ_ONCE(*nreq))
			continue;
		if (blk_tail - blk_head >= BLK_RING) {
			pr_warn_ratelimited("shyper: mediated request ring full\n");
			break;
		}
		r = blk_page[i] + 0x80;
		a = &blk_ring[blk_tail % BLK_RING];
		a->fid = SHYPER_FID_MEDIATED;
		a->event = 0x32;
		a->blk_id = i;
		a->pad = 0;
		a->type = r->type;
		a->sector = r->sector;
		a->count = r->count;
		blk_tail++;
		WRITE_ONCE(*nreq, *nreq - 1);
	}
	spin_unlock_irqrestore(&blk_lock, flags);
	wake_up_interruptible(&blk_wait);
}

/* The daemon's read(): the next request, one struct shyper_blk_arg (blocks unless O_NONBLOCK). */
ssize_t shyper_read(struct file *file, char __user *buf, size_t len, loff_t *off)
{
	struct shyper_blk_arg a;
	unsigned long flags;
	int ret;

	if (len < sizeof(a))
		return -EINVAL;
	for (;;) {
		spin_lock_irqsave(&blk_lock, flags);
		if (blk_head != blk_tail) {
			a = blk_ring[blk_head % BLK_RING];
			blk_head++;
			spin_unlock_irqrestore(&blk_lock, flags);
			break;
		}
		spin_unlock_irqrestore(&blk_lock, flags);
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(blk_wait, READ_ONCE(blk_head) != READ_ONCE(blk_tail));
		if (ret)
			return ret;
	}
	return copy_to_user(buf, &a, sizeof(a)) ? -EFAULT : sizeof(a);
}

/* The daemon maps disk idx's cache at offset idx * SHYPER_MEDIATED_CACHE_STRIDE. */
int shyper_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long stride = SHYPER_MEDIATED_CACHE_STRIDE >> PAGE_SHIFT;
	unsigned long idx = vma->vm_pgoff / stride;
	unsigned long size = vma->vm_end - vma->vm_start;

	if (vma->vm_pgoff % stride || idx >= SHYPER_MEDIATED_DISKS_MAX || !blk_cache[idx] ||
	    size > (PAGE_SIZE << blk_cache_order[idx]))
		return -EINVAL;
	return remap_pfn_range(vma, vma->vm_start, virt_to_phys(blk_cache[idx]) >> PAGE_SHIFT, size, vma->vm_page_prot);
}

/* ioctl 0x331 (blk_id | failed << 16): the daemon finished disk blk_id's request. */
long mediated_ioctl(unsigned int cmd, unsigned long arg)
{
	unsigned long idx = arg & 0xffff;

	if (cmd != SHYPER_MEDIATED_DEV_NOTIFY)
		return -EPERM; /* DEV_APPEND goes through 0x1010: the module owns the pages */
	if (idx >= SHYPER_MEDIATED_DISKS_MAX || !blk_page[idx])
		return -EINVAL;
	return result(shyper_hvc(cmd, ipa(blk_page[idx]), (arg >> 16) & 1, 0, 0, 0, 0, 0));
}

