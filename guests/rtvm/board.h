/* Board constants of the real-time test guest: one build per board (build.sh -DBOARD_...). */
#ifndef RTVM_BOARD_H
#define RTVM_BOARD_H

#if defined(BOARD_RK3588)
#define BOARD_NAME "rk3588"
#define GICD_BASE 0xfe600000UL /* GIC-600 distributor */
#define GICR_BASE 0xfe680000UL /* redistributors, 0x20000 apart */
#define UART_BASE 0xfeb50000UL /* UART2, DW-APB 8250, reg-shift 2 */
#define UART_8250 1
/*
 * big.LITTLE: booted natively on core 0 (a Cortex-A55), the guest hands the measurement loop to
 * core 7 (a Cortex-A76, MPIDR Aff1 = 7) with PSCI CPU_ON, the core the default VM set gives VM3,
 * so that native and VM figures come from the same core type.
 */
#define LITTLE_PARTNUM 0xd05
#define BIG_CORE_MPIDR 0x700UL
#elif defined(BOARD_QEMU_VIRT)
#define BOARD_NAME "qemu-virt"
#define GICD_BASE 0x08000000UL
#define GICR_BASE 0x080a0000UL
#define UART_BASE 0x09000000UL /* PL011 */
#define UART_PL011 1
#else
#error "build with -DBOARD_RK3588 or -DBOARD_QEMU_VIRT (guests/rtvm/build.sh)"
#endif

#endif
