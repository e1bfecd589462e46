/* SPDX-License-Identifier: GPL-2.0 */
/* What the parts of shyper.ko share: the hypercall, IPAs, and the mediated disks' entry points. */
#ifndef SHYPER_INTERNAL_H
#define SHYPER_INTERNAL_H

#include <linux/fs.h>
#include <linux/io.h>
#include <linux/uaccess.h>

#define HVC_ERR (~0UL)

/* HVC #0 with x7 = cmd, x0..x6 = a0..a6; returns x0. */
unsigned long shyper_hvc(unsigned long cmd, unsigned long a0, unsigned long a1, unsigned long a2, unsigned long a3,
			 unsigned long a4, unsigned long a5, unsigned long a6);

/* In a VM the kernel's physical addresses are IPAs. */
static inline u64 ipa(const void *p)
{
	return virt_to_phys(p);
}

static inline long result(unsigned long r)
{
	return r == HVC_ERR ? -EINVAL : 0;
}

#define COPY_ARG(s, arg)                                                  \
	do {                                                              \
		if (copy_from_user(&(s), (void __user *)(arg), sizeof(s))) \
			return -EFAULT;                                   \
	} while (0)

/* mediated.c */
long mediated_append(unsigned long arg);
long mediated_ioctl(unsigned int cmd, unsigned long arg);
void mediated_drv_notify(void);
ssize_t shyper_read(struct file *file, char __user *buf, size_t len, loff_t *off);
int shyper_mmap(struct file *file, struct vm_area_struct *vma);

#endif
