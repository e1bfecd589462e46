// Rust-Shyper's hypercall ABI (src/kernel/hvc.rs): `HVC #0` with x7 = fid << 8 | event, arguments
// in x0..x6, the result in x0 — 0 or a value on success, all-ones (HVC_ERR) on error. This file
// holds the numbers, the error a handler throws, and the one way handlers touch the caller's
// memory: every guest pointer is an IPA checked against the caller's RAM before a byte moves, so
// a bad pointer is an error returned to the guest, never a host exception.
import type { Vm } from '../vm.ts';

export const HVC_ERR = (1n << 64n) - 1n;

export const FID = { SYS: 0, VMM: 1, IVC: 2, MEDIATED: 3, CONFIG: 0x11 } as const;

export const SYS = { REBOOT: 0, SHUTDOWN: 1, UPDATE: 3, TEST: 4, UPDATE_MEM_MAP: 5 } as const;

export const VMM = {
  LIST_VM: 0,
  GET_VM_STATE: 1,
  BOOT_VM: 2,
  SHUTDOWN_VM: 3,
  REBOOT_VM: 4,
  GET_VM_DEF_CFG: 5,
  GET_VM_CFG: 6,
  SET_VM_CFG: 7,
  GET_VM_ID: 8,
  TRACE_VMEXIT: 9,
  VM_REMOVE: 16,
} as const;

export const IVC = { UPDATE_MQ: 0, SEND_MSG: 1, BROADCAST_MSG: 2, INIT_KEEP_ALIVE: 3, KEEP_ALIVE: 4, ACK: 5, GET_TIME: 6, SHARE_MEM: 7 } as const;

export const MEDIATED = { DEV_APPEND: 0x30, DEV_NOTIFY: 0x31, DRV_NOTIFY: 0x32 } as const;

export const CONFIG = {
  ADD_VM: 0,
  DELETE_VM: 1,
  CPU: 2,
  MEMORY_REGION: 3,
  EMULATED_DEVICE: 4,
  PASSTHROUGH_DEVICE_REGION: 5,
  PASSTHROUGH_DEVICE_IRQS: 6,
  PASSTHROUGH_DEVICE_STREAMS_IDS: 7,
  DTB_DEVICE: 8,
  UPLOAD_KERNEL_IMAGE: 9,
  MEMORY_COLOR_BUDGET: 10,
  UPLOAD_DEVICE_TREE: 11,
} as const;

/** VMInfo.vm_state (Rust-Shyper VmState). */
export const VM_STATE = { INV: 0, PENDING: 1, ACTIVE: 2 } as const;
/** VMInfo.vm_type and HVC_CONFIG_ADD_VM's type (Rust-Shyper VmType). */
export const VM_TYPE = { LINUX: 0, BMA: 1, FREERTOS: 2 } as const;
/** VMInfoList: vm_num u64, then VM_NUM_MAX VMInfo {id u32, name[32], type u32, state u32}. */
export const VMINFO_SIZE = 44;
export const VMINFO_LIST_SIZE = 8 + 8 * VMINFO_SIZE;
export const NAME_MAX_LEN = 32;

/** A hypercall that fails: x0 = HVC_ERR, and the reason goes to the hypervisor's log. */
export class HvcError extends Error {}

export function fail(reason: string): never {
  throw new HvcError(reason);
}

export const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

/** A 64-bit argument that must be an address, length or count (below 2^53). */
export function num(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} ${hex(v)} is out of range`);
  return Number(v);
}

/** Host physical address of [ipa, ipa+len) in the caller's RAM, or an error naming the argument. */
export function guestRange(vm: Vm, ipa: bigint, len: number, what: string): number {
  const a = num(ipa, what);
  const pa = len === 0 ? vm.ipaToPa(a, 1) : vm.ipaToPa(a, len);
  if (pa < 0) fail(`${what} ${hex(ipa)}+${hex(len)} is not in the caller's memory`);
  return pa;
}

export function readGuest(vm: Vm, ipa: bigint, len: number, what: string): Uint8Array {
  const pa = guestRange(vm, ipa, len, what);
  const out = new Uint8Array(len);
  vm.machine.readPhys(pa, out);
  return out;
}

export function writeGuest(vm: Vm, ipa: bigint, data: Uint8Array, what: string): void {
  vm.machine.writePhys(guestRange(vm, ipa, data.length, what), data);
}

/** `n` little-endian u64s at ipa (at most `max`). */
export function readU64s(vm: Vm, ipa: bigint, n: bigint, max: number, what: string): bigint[] {
  if (n > BigInt(max)) fail(`${what}: ${n} entries, at most ${max}`);
  const count = Number(n);
  if (count === 0) return [];
  const b = readGuest(vm, ipa, count * 8, what);
  const dv = new DataView(b.buffer);
  return Array.from({ length: count }, (_, i) => dv.getBigUint64(i * 8, true));
}

/** A NUL-terminated string at ipa, at most max bytes before the NUL (Rust-Shyper CStr::from_ptr, bounded). */
export function readCString(vm: Vm, ipa: bigint, max: number, what: string): string {
  const a = num(ipa, what);
  const r = vm.ram.find((m) => a >= m.ipa && a < m.ipa + m.size);
  if (r === undefined) fail(`${what} ${hex(ipa)} is not in the caller's memory`);
  // Up to max + 1 bytes, stopping at the end of the RAM region holding the first one.
  const len = Math.min(max + 1, r.ipa + r.size - a);
  const bytes = readGuest(vm, ipa, len, what);
  const end = bytes.indexOf(0);
  if (end < 0) fail(`${what} at ${hex(ipa)}: no NUL within ${len} bytes`);
  return new TextDecoder().decode(bytes.subarray(0, end));
}
