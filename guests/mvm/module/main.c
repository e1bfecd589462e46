// SPDX-License-Identifier: GPL-2.0
/*
 * shyper.ko: the management interface to the Shyper hypervisor (shyper-emu's open counterpart of
 * Rust-Shyper's closed tools/shyper.ko; the ABI is reference/rust-shyper-behaviour.md sections 5-6).
 *
 * /dev/shyper: ioctl number = (fid << 8) | event. fid 0x10 is answered here (daemon pid, vm id,
 * kernel image names); for the others the user's struct, strings and lists are copied into kernel
 * memory, their pointers rewritten as IPAs (in a VM, the kernel's physical addresses are IPAs),
 * and the call is made: HVC #0 with x7 = the ioctl number, arguments in x0..x6, result in x0
 * (all-ones: the hypervisor refused; the ioctl returns -EINVAL).
 *
 * IVC: at load the module registers a 4 KiB message page (HVC_IVC_UPDATE_MQ); the hypervisor puts
 * {fid, event, vm_id} in its next 512-byte slot and raises HVC_IRQ, the interrupt of the device
 * tree's shyper node (compatible "shyper", vm_service in Rust-Shyper). Slots the module has read
 * get fid = ~0, so one interrupt drains every message that arrived. A VM told to reboot or power
 * off (VMM events 4, 3) does so; a request for the daemon (CONFIG event 9) is signalled to it.
 *
 * Mediated disks (reference section 4): the daemon appends each image it serves (ioctl 0x1010); the
 * module gives the disk its shared page and a physically contiguous cache, which the daemon
 * mmap()s, and issues HVC_MEDIATED_DEV_APPEND. On the hypervisor's {fid 3, event 0x32} message it
 * takes the request out of each page with nreq != 0 and queues it for the daemon, which read()s
 * it, does the I/O between its image and the cache, and answers with ioctl 0x331: the module
 * issues HVC_MEDIATED_DEV_NOTIFY with the page's IPA.
 */
#include <linux/fs.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_irq.h>
#include <linux/pid.h>
#include <linux/reboot.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "shyper.h"
#include "internal.h"

#define SLOTS 8
#define SLOT_SIZE (PAGE_SIZE / SLOTS)
#define CONSUMED (~0ULL)
/* Largest piece of an upload copied into the kernel per hypercall. */
#define UPLOAD_CHUNK (256 * 1024)

struct shyper_msg {
	u64 fid, event, vm_id;
};

static u64 self_vmid;
static void *mq_page;
static unsigned int mq_slot = SLOTS - 1;
static int hvc_irq;
static struct pid *daemon_pid;
static DEFINE_MUTEX(names_lock);
static char image_names[SHYPER_VM_NUM_MAX][SHYPER_NAME_MAX_LEN];
static u64 pending_request; /* last message for the daemon: vm_id << 16 | fid << 8 | event */


unsigned long shyper_hvc(unsigned long cmd, unsigned long a0, unsigned long a1, unsigned long a2,
				unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6)
{
	register unsigned long x0 asm("x0") = a0;
	register unsigned long x1 asm("x1") = a1;
	register unsigned long x2 asm("x2") = a2;
	register unsigned long x3 asm("x3") = a3;
	register unsigned long x4 asm("x4") = a4;
	register unsigned long x5 asm("x5") = a5;
	register unsigned long x6 asm("x6") = a6;
	register unsigned long x7 asm("x7") = cmd;

	asm volatile("hvc #0"
		     : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5), "+r"(x6), "+r"(x7)
		     :
		     : "memory");
	return x0;
}

#define hvc0(cmd) shyper_hvc(cmd, 0, 0, 0, 0, 0, 0, 0)
#define hvc1(cmd, a) shyper_hvc(cmd, a, 0, 0, 0, 0, 0, 0)


/* `len` bytes at user address `addr`, NUL-terminated, in kernel memory (at most max). */
static char *copy_string(u64 addr, u64 len, u64 max)
{
	char *s;

	if (len > max)
		return ERR_PTR(-E2BIG);
	s = kmalloc(len + 1, GFP_KERNEL);
	if (!s)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(s, u64_to_user_ptr(addr), len)) {
		kfree(s);
		return ERR_PTR(-EFAULT);
	}
	s[len] = 0;
	return s;
}

/* n u64s at user address addr, in kernel memory; at least `min_n` entries (zero-filled). */
static u64 *copy_list(u64 addr, u64 n, u64 min_n)
{
	u64 *l;

	if (n > SHYPER_LIST_MAX)
		return ERR_PTR(-E2BIG);
	l = kcalloc(max(n, min_n) ?: 1, sizeof(u64), GFP_KERNEL);
	if (!l)
		return ERR_PTR(-ENOMEM);
	if (n && copy_from_user(l, u64_to_user_ptr(addr), n * sizeof(u64))) {
		kfree(l);
		return ERR_PTR(-EFAULT);
	}
	return l;
}


static long config_add_vm(unsigned long arg)
{
	struct shyper_add_vm_arg a;
	char *name, *cmdline = NULL;
	u64 *cfg = NULL;
	unsigned long r;
	long ret;

	COPY_ARG(a, arg);
	name = copy_string(a.name_addr, a.name_len, 255);
	if (IS_ERR(name))
		return PTR_ERR(name);
	cmdline = copy_string(a.cmdline_addr, a.cmdline_len, 4095);
	if (IS_ERR(cmdline)) {
		ret = PTR_ERR(cmdline);
		cmdline = NULL;
		goto out;
	}
	cfg = kcalloc(8, sizeof(u64), GFP_KERNEL);
	if (!cfg) {
		ret = -ENOMEM;
		goto out;
	}
	cfg[0] = ipa(name);
	cfg[1] = a.name_len;
	cfg[2] = a.type;
	cfg[3] = ipa(cmdline);
	cfg[4] = a.cmdline_len;
	cfg[5] = a.kernel_load_ipa;
	cfg[6] = a.device_tree_load_ipa;
	cfg[7] = a.ramdisk_load_ipa;
	r = hvc1(SHYPER_CONFIG_ADD_VM, ipa(cfg));
	if (r == HVC_ERR)
		ret = -EINVAL;
	else
		ret = put_user((u64)r, (u64 __user *)u64_to_user_ptr(a.vm_id_addr)) ? -EFAULT : 0;
out:
	kfree(cfg);
	kfree(cmdline);
	kfree(name);
	return ret;
}

static long config_emulated_device(unsigned long arg)
{
	struct shyper_emulated_device_arg a;
	char *name;
	u64 *cfg;
	long ret;

	COPY_ARG(a, arg);
	if (a.cfg_list_len > SHYPER_CFG_MAX_NUM)
		return -E2BIG;
	name = copy_string(a.name_addr, a.name_len, 255);
	if (IS_ERR(name))
		return PTR_ERR(name);
	/* The hypervisor always reads CFG_MAX_NUM words (Rust-Shyper). */
	cfg = copy_list(a.cfg_list_addr, a.cfg_list_len, SHYPER_CFG_MAX_NUM);
	if (IS_ERR(cfg)) {
		kfree(name);
		return PTR_ERR(cfg);
	}
	ret = result(shyper_hvc(SHYPER_CONFIG_EMULATED_DEVICE, a.vmid, ipa(name), a.base_ipa, a.length, a.irq_id,
				ipa(cfg), a.emu_type));
	kfree(cfg);
	kfree(name);
	return ret;
}

static long config_list(unsigned int cmd, unsigned long arg)
{
	struct shyper_list_arg a;
	u64 *l;
	long ret;

	COPY_ARG(a, arg);
	l = copy_list(a.addr, a.len, 0);
	if (IS_ERR(l))
		return PTR_ERR(l);
	ret = result(shyper_hvc(cmd, a.vmid, ipa(l), a.len, 0, 0, 0, 0));
	kfree(l);
	return ret;
}

static long config_dtb_device(unsigned long arg)
{
	struct shyper_dtb_device_arg a;
	char *name;
	u64 *irqs;
	long ret;

	COPY_ARG(a, arg);
	name = copy_string(a.name_addr, a.name_len, 255);
	if (IS_ERR(name))
		return PTR_ERR(name);
	irqs = copy_list(a.irq_list_addr, a.irq_list_len, 0);
	if (IS_ERR(irqs)) {
		kfree(name);
		return PTR_ERR(irqs);
	}
	ret = result(shyper_hvc(SHYPER_CONFIG_DTB_DEVICE, a.vmid, ipa(name), a.dev_type, ipa(irqs), a.irq_list_len,
				a.addr_region_ipa, a.addr_region_length));
	kfree(irqs);
	kfree(name);
	return ret;
}

static long config_color_budget(unsigned long arg)
{
	struct shyper_color_budget_arg a;
	u64 *colors;
	long ret;

	COPY_ARG(a, arg);
	colors = copy_list(a.color_array_addr, a.color_num, 0);
	if (IS_ERR(colors))
		return PTR_ERR(colors);
	ret = result(shyper_hvc(SHYPER_CONFIG_MEMORY_COLOR_BUDGET, a.vmid, a.color_num, ipa(colors), a.budget, 0, 0, 0));
	kfree(colors);
	return ret;
}

/* The user's bytes go to the hypervisor in pieces, each copied into a kernel buffer first. */
static long config_upload(unsigned int cmd, unsigned long arg)
{
	struct shyper_upload_arg a;
	u64 done = 0;
	void *buf;
	long ret = 0;

	COPY_ARG(a, arg);
	buf = kmalloc(UPLOAD_CHUNK, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	do {
		u64 n = min_t(u64, a.load_size - done, UPLOAD_CHUNK);

		if (copy_from_user(buf, u64_to_user_ptr(a.cache_addr + done), n)) {
			ret = -EFAULT;
			break;
		}
		ret = result(shyper_hvc(cmd, a.vmid, a.img_size, ipa(buf), a.load_offset + done, n, 0, 0));
		done += n;
		if (signal_pending(current) && done < a.load_size)
			ret = -EINTR;
	} while (!ret && done < a.load_size);
	kfree(buf);
	return ret;
}

static long config_ioctl(unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case SHYPER_CONFIG_ADD_VM:
		return config_add_vm(arg);
	case SHYPER_CONFIG_DELETE_VM:
		return result(hvc1(cmd, arg));
	case SHYPER_CONFIG_CPU: {
		struct shyper_cpu_arg a;

		COPY_ARG(a, arg);
		return result(shyper_hvc(cmd, a.vmid, a.num, a.allocate_bitmap, (long)a.master, 0, 0, 0));
	}
	case SHYPER_CONFIG_MEMORY_REGION: {
		struct shyper_memory_region_arg a;

		COPY_ARG(a, arg);
		return result(shyper_hvc(cmd, a.vmid, a.ipa_start, a.length, 0, 0, 0, 0));
	}
	case SHYPER_CONFIG_EMULATED_DEVICE:
		return config_emulated_device(arg);
	case SHYPER_CONFIG_PASSTHROUGH_DEVICE_REGION: {
		struct shyper_passthrough_region_arg a;

		COPY_ARG(a, arg);
		return result(shyper_hvc(cmd, a.vmid, a.base_ipa, a.base_pa, a.length, 0, 0, 0));
	}
	case SHYPER_CONFIG_PASSTHROUGH_DEVICE_IRQS:
	case SHYPER_CONFIG_PASSTHROUGH_DEVICE_STREAMS_IDS:
		return config_list(cmd, arg);
	case SHYPER_CONFIG_DTB_DEVICE:
		return config_dtb_device(arg);
	case SHYPER_CONFIG_UPLOAD_KERNEL_IMAGE:
	case SHYPER_CONFIG_UPLOAD_DEVICE_TREE:
		return config_upload(cmd, arg);
	case SHYPER_CONFIG_MEMORY_COLOR_BUDGET:
		return config_color_budget(arg);
	default:
		return result(hvc1(cmd, arg));
	}
}

static long vmm_ioctl(unsigned int cmd, unsigned long arg)
{
	unsigned long r;
	long ret;

	switch (cmd) {
	case SHYPER_VMM_LIST_VM: {
		struct shyper_vm_info_list *l = kzalloc(sizeof(*l), GFP_KERNEL);

		if (!l)
			return -ENOMEM;
		ret = result(hvc1(cmd, ipa(l)));
		if (!ret && copy_to_user((void __user *)arg, l, sizeof(*l)))
			ret = -EFAULT;
		kfree(l);
		return ret;
	}
	case SHYPER_VMM_GET_VM_ID: {
		u64 *id = kzalloc(sizeof(*id), GFP_KERNEL);

		if (!id)
			return -ENOMEM;
		ret = result(hvc1(cmd, ipa(id)));
		/* Rust-Shyper's CLI passes a u32. */
		if (!ret && put_user((u32)*id, (u32 __user *)arg))
			ret = -EFAULT;
		kfree(id);
		return ret;
	}
	case SHYPER_VMM_GET_VM_STATE:
		r = hvc1(cmd, arg);
		return r == HVC_ERR ? -EINVAL : (long)r;
	default:
		return result(hvc1(cmd, arg));
	}
}

static long local_ioctl(unsigned int cmd, unsigned long arg)
{
	struct shyper_kernel_image_info info;

	switch (cmd) {
	case SHYPER_LOCAL_SET_DAEMON_PID:
		put_pid(daemon_pid);
		daemon_pid = find_get_pid((pid_t)arg);
		return daemon_pid ? 0 : -ESRCH;
	case SHYPER_LOCAL_GET_VMID:
		return put_user((u32)self_vmid, (u32 __user *)arg) ? -EFAULT : 0;
	case SHYPER_LOCAL_SET_KERNEL_IMG_NAME:
		COPY_ARG(info, arg);
		if (info.vm_id >= SHYPER_VM_NUM_MAX)
			return -EINVAL;
		mutex_lock(&names_lock);
		strscpy(image_names[info.vm_id], info.image_name, SHYPER_NAME_MAX_LEN);
		mutex_unlock(&names_lock);
		return 0;
	case SHYPER_LOCAL_GET_KERNEL_IMG_NAME:
		COPY_ARG(info, arg);
		if (info.vm_id >= SHYPER_VM_NUM_MAX)
			return -EINVAL;
		mutex_lock(&names_lock);
		memcpy(info.image_name, image_names[info.vm_id], SHYPER_NAME_MAX_LEN);
		mutex_unlock(&names_lock);
		return copy_to_user((void __user *)arg, &info, sizeof(info)) ? -EFAULT : 0;
	case SHYPER_LOCAL_MEDIATED_APPEND:
		return mediated_append(arg);
	case SHYPER_CMD(SHYPER_FID_LOCAL, 7): /* the daemon asks what it was signalled for */
		return put_user(xchg(&pending_request, 0), (u64 __user *)arg) ? -EFAULT : 0;
	default:
		return -ENOTTY;
	}
}

static long shyper_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (cmd > 0xffff)
		return -ENOTTY;
	switch (cmd >> 8) {
	case SHYPER_FID_LOCAL:
		return local_ioctl(cmd, arg);
	case SHYPER_FID_IVC:
		return -EPERM; /* the module owns the message queue */
	case SHYPER_FID_MEDIATED:
		return mediated_ioctl(cmd, arg);
	case SHYPER_FID_VMM:
		return vmm_ioctl(cmd, arg);
	case SHYPER_FID_CONFIG:
		return config_ioctl(cmd, arg);
	default:
		return result(hvc1(cmd, arg));
	}
}

static const struct file_operations shyper_fops = {
	.owner = THIS_MODULE,
	.read = shyper_read,
	.mmap = shyper_mmap,
	.unlocked_ioctl = shyper_ioctl,
	.compat_ioctl = shyper_ioctl,
};

static struct miscdevice shyper_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "shyper",
	.fops = &shyper_fops,
};

static void reboot_fn(struct work_struct *w)
{
	pr_info("shyper: reboot requested by the hypervisor\n");
	kernel_restart(NULL);
}

static void poweroff_fn(struct work_struct *w)
{
	pr_info("shyper: shutdown requested by the hypervisor\n");
	kernel_power_off();
}

static DECLARE_WORK(reboot_work, reboot_fn);
static DECLARE_WORK(poweroff_work, poweroff_fn);

static void handle_msg(const struct shyper_msg *m)
{
	if (m->fid == SHYPER_FID_VMM && m->event == 4) {
		schedule_work(&reboot_work);
	} else if (m->fid == SHYPER_FID_VMM && m->event == 3) {
		schedule_work(&poweroff_work);
	} else if (m->fid == SHYPER_FID_MEDIATED && m->event == 0x32) {
		mediated_drv_notify();
	} else if (m->fid == SHYPER_FID_CONFIG && m->event == 9) {
		/* The hypervisor wants vm_id's kernel uploaded again: the daemon's job. */
		WRITE_ONCE(pending_request, (m->vm_id << 16) | (m->fid << 8) | m->event);
		if (daemon_pid)
			kill_pid(daemon_pid, SIGUSR1, 1);
		else
			pr_warn("shyper: vm %llu needs its kernel uploaded and no daemon runs\n", m->vm_id);
	} else {
		pr_info("shyper: message fid %#llx event %#llx vm %llu\n", m->fid, m->event, m->vm_id);
	}
}

static irqreturn_t shyper_irq(int irq, void *dev)
{
	for (;;) {
		unsigned int next = (mq_slot + 1) % SLOTS;
		struct shyper_msg *slot = mq_page + next * SLOT_SIZE;
		struct shyper_msg m;

		if (READ_ONCE(slot->fid) == CONSUMED)
			break;
		m = *slot;
		WRITE_ONCE(slot->fid, CONSUMED);
		mq_slot = next;
		handle_msg(&m);
	}
	return IRQ_HANDLED;
}

static int __init shyper_init(void)
{
	struct device_node *np;
	u64 *id;
	int ret;

	id = kzalloc(sizeof(*id), GFP_KERNEL);
	if (!id)
		return -ENOMEM;
	if (hvc1(SHYPER_VMM_GET_VM_ID, ipa(id)) == HVC_ERR) {
		kfree(id);
		pr_err("shyper: no Shyper hypervisor answers HVC_VMM_GET_VM_ID\n");
		return -ENODEV;
	}
	self_vmid = *id;
	kfree(id);

	np = of_find_compatible_node(NULL, NULL, "shyper");
	if (np) {
		hvc_irq = irq_of_parse_and_map(np, 0);
		of_node_put(np);
	}
	if (hvc_irq > 0) {
		mq_page = (void *)get_zeroed_page(GFP_KERNEL);
		if (!mq_page)
			return -ENOMEM;
		memset(mq_page, 0xff, PAGE_SIZE);
		ret = request_irq(hvc_irq, shyper_irq, 0, "shyper", NULL);
		if (ret) {
			free_page((unsigned long)mq_page);
			return ret;
		}
		if (shyper_hvc(SHYPER_IVC_UPDATE_MQ, ipa(mq_page), ipa(mq_page), 0, 0, 0, 0, 0) == HVC_ERR)
			pr_warn("shyper: the hypervisor refused the message queue\n");
	} else {
		pr_warn("shyper: no shyper node with an interrupt in the device tree: no messages from the hypervisor\n");
	}

	ret = misc_register(&shyper_dev);
	if (ret) {
		if (hvc_irq > 0)
			free_irq(hvc_irq, NULL);
		/* mq_page stays: the hypervisor may still write to it. */
		return ret;
	}
	pr_info("shyper: /dev/shyper ready in vm %llu (HVC_IRQ %d)\n", self_vmid, hvc_irq);
	return 0;
}

static void __exit shyper_exit(void)
{
	misc_deregister(&shyper_dev);
	if (hvc_irq > 0)
		free_irq(hvc_irq, NULL);
	cancel_work_sync(&reboot_work);
	cancel_work_sync(&poweroff_work);
	put_pid(daemon_pid);
	/*
	 * The message page (and the mediated disks' pages and caches) are not freed: there is no call to unregister it and the hypervisor may
	 * still write a message there. Loading the module again registers a new one.
	 */
}

module_init(shyper_init);
module_exit(shyper_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Shyper hypervisor management interface (/dev/shyper)");
