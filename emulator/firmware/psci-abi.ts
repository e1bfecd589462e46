// PSCI function IDs and return codes (ARM DEN 0022D, SMC Calling Convention numbering): one table
// for both implementations of PSCI, the native firmware (psci.ts) and the hypervisor's per-VM
// PSCI (hypervisor/psci.ts). A spec table, no behaviour.

export const PSCI = {
  VERSION: 0x84000000,
  CPU_SUSPEND_32: 0x84000001,
  CPU_SUSPEND_64: 0xc4000001,
  CPU_OFF: 0x84000002,
  CPU_ON_32: 0x84000003,
  CPU_ON_64: 0xc4000003,
  AFFINITY_INFO_32: 0x84000004,
  AFFINITY_INFO_64: 0xc4000004,
  MIGRATE_INFO_TYPE: 0x84000006,
  SYSTEM_OFF: 0x84000008,
  SYSTEM_RESET: 0x84000009,
  FEATURES: 0x8400000a,
  SMCCC_VERSION: 0x80000000,
} as const;

export const PSCI_RET = {
  SUCCESS: 0,
  NOT_SUPPORTED: -1,
  INVALID_PARAMETERS: -2,
  DENIED: -3,
  ALREADY_ON: -4,
  ON_PENDING: -5,
  INTERNAL_FAILURE: -6,
  NOT_PRESENT: -7,
  DISABLED: -8,
} as const;
