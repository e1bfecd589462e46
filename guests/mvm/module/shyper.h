/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * /dev/shyper's interface (Rust-Shyper's shyper.ko and CLI, reference/rust-shyper-behaviour.md
 * section 6): the ioctl number is (fid << 8) | event. fid 0x10 is handled by the module itself;
 * every other fid becomes a hypercall with x7 = the ioctl number. The argument is a value (a vm id,
 * force << 16 | vm id) or a pointer to one of the structs below, whose pointers are user addresses:
 * the module copies what they point to into kernel memory and passes its IPA to the hypervisor.
 * Shared by the module and the CLI.
 */
#ifndef SHYPER_H
#define SHYPER_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
typedef uint64_t u64;
typedef uint32_t u32;
typedef int32_t s32;
#endif

#define SHYPER_FID_SYS 0x00
#define SHYPER_FID_VMM 0x01
#define SHYPER_FID_IVC 0x02
#define SHYPER_FID_MEDIATED 0x03
#define SHYPER_FID_LOCAL 0x10 /* handled by the module */
#define SHYPER_FID_CONFIG 0x11

#define SHYPER_CMD(fid, event) (((fid) << 8) | (event))

/* SYS */
#define SHYPER_SYS_REBOOT SHYPER_CMD(0x00, 0)
#define SHYPER_SYS_SHUTDOWN SHYPER_CMD(0x00, 1)
#define SHYPER_SYS_TEST SHYPER_CMD(0x00, 4)
/* VMM: LIST takes a struct shyper_vm_info_list *, GET_VM_ID a u32 *, the others a value */
#define SHYPER_VMM_LIST_VM SHYPER_CMD(0x01, 0)
#define SHYPER_VMM_GET_VM_STATE SHYPER_CMD(0x01, 1) /* returns the state */
#define SHYPER_VMM_BOOT_VM SHYPER_CMD(0x01, 2)
#define SHYPER_VMM_SHUTDOWN_VM SHYPER_CMD(0x01, 3) /* force << 16 | vmid */
#define SHYPER_VMM_REBOOT_VM SHYPER_CMD(0x01, 4)   /* force << 16 | vmid */
#define SHYPER_VMM_GET_VM_ID SHYPER_CMD(0x01, 8)
#define SHYPER_VMM_VM_REMOVE SHYPER_CMD(0x01, 16)
/* IVC */
#define SHYPER_IVC_UPDATE_MQ SHYPER_CMD(0x02, 0)
/* local */
#define SHYPER_LOCAL_SET_DAEMON_PID SHYPER_CMD(0x10, 2)
#define SHYPER_LOCAL_GET_VMID SHYPER_CMD(0x10, 4)
#define SHYPER_LOCAL_SET_KERNEL_IMG_NAME SHYPER_CMD(0x10, 5)
#define SHYPER_LOCAL_GET_KERNEL_IMG_NAME SHYPER_CMD(0x10, 6)
#define SHYPER_LOCAL_MEDIATED_APPEND SHYPER_CMD(0x10, 0x10) /* struct shyper_mediated_cfg * */
/* MEDIATED: DEV_NOTIFY takes blk_id | (failed << 16); the module passes the disk's page IPA */
#define SHYPER_MEDIATED_DEV_APPEND SHYPER_CMD(0x03, 0x30)
#define SHYPER_MEDIATED_DEV_NOTIFY SHYPER_CMD(0x03, 0x31)
#define SHYPER_MEDIATED_DRV_NOTIFY SHYPER_CMD(0x03, 0x32) /* the hypervisor's message */
/* CONFIG */
#define SHYPER_CONFIG_ADD_VM SHYPER_CMD(0x11, 0)
#define SHYPER_CONFIG_DELETE_VM SHYPER_CMD(0x11, 1) /* value: vmid */
#define SHYPER_CONFIG_CPU SHYPER_CMD(0x11, 2)
#define SHYPER_CONFIG_MEMORY_REGION SHYPER_CMD(0x11, 3)
#define SHYPER_CONFIG_EMULATED_DEVICE SHYPER_CMD(0x11, 4)
#define SHYPER_CONFIG_PASSTHROUGH_DEVICE_REGION SHYPER_CMD(0x11, 5)
#define SHYPER_CONFIG_PASSTHROUGH_DEVICE_IRQS SHYPER_CMD(0x11, 6)
#define SHYPER_CONFIG_PASSTHROUGH_DEVICE_STREAMS_IDS SHYPER_CMD(0x11, 7)
#define SHYPER_CONFIG_DTB_DEVICE SHYPER_CMD(0x11, 8)
#define SHYPER_CONFIG_UPLOAD_KERNEL_IMAGE SHYPER_CMD(0x11, 9)
#define SHYPER_CONFIG_MEMORY_COLOR_BUDGET SHYPER_CMD(0x11, 10)
#define SHYPER_CONFIG_UPLOAD_DEVICE_TREE SHYPER_CMD(0x11, 11)

#define SHYPER_VM_NUM_MAX 8
#define SHYPER_NAME_MAX_LEN 32
#define SHYPER_CFG_MAX_NUM 16
/* Longest list (IRQs, stream ids, colours) the module copies in one call. */
#define SHYPER_LIST_MAX 1024

/* HVC_VMM_LIST_VM: 360 bytes. */
struct shyper_vm_info {
	u32 id;
	char name[SHYPER_NAME_MAX_LEN];
	u32 type;  /* 0 Linux, 1 bare-metal app, 2 FreeRTOS */
	u32 state; /* 0 inactive, 1 pending, 2 active */
} __attribute__((packed));

struct shyper_vm_info_list {
	u64 vm_num;
	struct shyper_vm_info info[SHYPER_VM_NUM_MAX];
} __attribute__((packed));

struct shyper_add_vm_arg {
	u64 name_addr, name_len, type, cmdline_addr, cmdline_len, kernel_load_ipa, device_tree_load_ipa, ramdisk_load_ipa;
	u64 vm_id_addr; /* u64 *: receives the new VM's id */
};

struct shyper_cpu_arg {
	u64 vmid;
	u32 num;
	u32 allocate_bitmap;
	s32 master; /* -1: none */
};

struct shyper_color_budget_arg {
	u64 vmid, color_num, color_array_addr;
	u32 budget;
};

struct shyper_emulated_device_arg {
	u64 vmid, name_addr, name_len, base_ipa, length, irq_id, cfg_list_addr, cfg_list_len, emu_type;
};

struct shyper_memory_region_arg {
	u64 vmid, ipa_start, length;
};

struct shyper_passthrough_region_arg {
	u64 vmid, base_ipa, base_pa, length;
};

/* PASSTHROUGH_DEVICE_IRQS and _STREAMS_IDS: a list of u64. */
struct shyper_list_arg {
	u64 vmid, addr, len;
};

struct shyper_dtb_device_arg {
	u64 vmid, name_addr, name_len, dev_type, irq_list_addr, irq_list_len, addr_region_ipa, addr_region_length;
};

/* UPLOAD_KERNEL_IMAGE and UPLOAD_DEVICE_TREE: len bytes at user address cache_addr go to offset. */
struct shyper_upload_arg {
	u64 vmid, img_size, cache_addr, load_offset, load_size;
};

struct shyper_kernel_image_info {
	u64 vm_id;
	char image_name[SHYPER_NAME_MAX_LEN];
};

/*
 * A mediated disk (Rust-Shyper struct mediated_blk_cfg; its shared page holds u64 nreq, then this
 * at offset 8, then the request at 0x80). The daemon fills name, dev_path, block_num and idx; the
 * module allocates the cache (physically contiguous, mmap()ed by the daemon at offset
 * idx * SHYPER_MEDIATED_CACHE_STRIDE) and fills dma_block_max, cache_size, cache_ipa; the
 * hypervisor fills cache_pa.
 */
struct shyper_mediated_cfg {
	char name[32];
	char dev_path[32];
	u64 block_num;
	u64 dma_block_max;
	u64 cache_size;
	uint16_t idx;
	uint8_t pcache;
	uint8_t pad[5];
	u64 cache_va, cache_ipa, cache_pa;
};

struct shyper_mediated_req {
	u32 type; /* 0 read, 1 write */
	u32 pad;
	u64 sector, count;
};

#define SHYPER_MEDIATED_DISKS_MAX 8
#define SHYPER_MEDIATED_CACHE_STRIDE (4UL << 20)

/* What the daemon read()s from /dev/shyper for each request (Rust-Shyper's BlkArg, 40 bytes). */
struct shyper_blk_arg {
	u64 fid;   /* 3 */
	u64 event; /* 0x32 */
	uint16_t blk_id;
	uint16_t pad;
	u32 type;
	u64 sector, count;
};

#endif
