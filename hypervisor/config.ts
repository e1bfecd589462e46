// VM configuration: `--config FILE` or a board's default set (boards/vms/<board>.json), read with
// Rust-Shyper's VM config JSON keys (cli/src/config.rs, reference/rust-shyper-behaviour.md §1, §6)
// and checked against the board, into typed VmConfig objects the hypervisor builds VMs from.
//
// The file is a JSON list of VMs (config-schema.json documents every key, ours included). What a
// schema cannot say is decided here:
// - Memory: each VM has its own IPA space, backed by distinct host RAM, so regions of different
//   VMs may share IPAs (Rust-Shyper's GVMs all sit at 0x80000000). What must fit is the demand:
//   every region is placed first-fit, in VM order, in the board's RAM above the hypervisor's
//   reserved 16 MiB (MemoryRegion.pa, congruent with the IPA modulo 2 MiB so stage 2 can use
//   blocks). Within one VM, regions must not overlap each other or the VM's device windows.
// - Cores: Rust-Shyper lets several VMs share a core (round-robin). Here a core given to two VMs
//   is an error unless both set cpu.shared; an RTVM's cores are never shared. cpu.num above the
//   bitmap's population is lowered as Rust-Shyper does (with a warning); above the board's cores
//   it is an error.
// - The GIC is implicit: every VM gets the emulated GICD (and GICR, sized for its vCPUs, on
//   GICv3) at the board's addresses unless it lists them (Rust-Shyper files do; then they must
//   sit there); on GICv2 the hypervisor maps the physical GICV at the board's GICC address.
// Errors are one line: `FILE: vm ID "NAME": FIELD: what`, thrown as ConfigError (exit 2).
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BoardDescription } from '../boards/types.ts';

/** Largest config file read (src/input.ts INPUT_LIMITS.config, the CLI's other inputs' limits). */
const MAX_CONFIG_BYTES = 1 << 20;

/** The text of a FIFO or pipe, refused once it passes `limit` bytes (it may never end). */
function readStream(path: string, label: string, limit: number): string {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(64 << 10);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > limit) throw new ConfigError(`${label}: larger than the ${limit >> 20} MiB a config file may have`);
      chunks.push(buf.subarray(0, n));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
import { checkSchema, isObject, schemaDef } from './config-schema.ts';
import { ConfigError, VM_NUM_MAX, type VmConfig, type VmConfigOptions } from './config-types.ts';
import { buildVm, checkAcrossVms, fileImages, placeMemory, type Env, type ImageSource, type RawVm } from './config-vm.ts';

export * from './config-types.ts';
export type { ImageProbe, ImageSource } from './config-vm.ts';

/** Read and check `--config FILE`. */
export function loadVmConfig(path: string, board: BoardDescription, opts: VmConfigOptions = {}): VmConfig[] {
  const label = opts.label ?? path;
  let text: string;
  try {
    // Size limit checked before the file is read whole (issue 14): /dev/zero or a huge file is
    // one line, not host memory growing without bound. Pipes and FIFOs are read up to the limit.
    const st = statSync(path);
    if (st.isCharacterDevice() || st.isSocket()) throw new ConfigError(`${label}: is a device, not a file`);
    if (st.isFile() && st.size > MAX_CONFIG_BYTES) throw new ConfigError(`${label}: ${st.size} bytes is larger than the ${MAX_CONFIG_BYTES >> 20} MiB a config file may have`);
    if (st.isDirectory()) throw new ConfigError(`${label}: is a directory`);
    text = st.isFile() ? readFileSync(path, 'utf8') : readStream(path, label, MAX_CONFIG_BYTES);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`${label}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseVmConfig(text, board, { ...opts, label, imageDir: opts.imageDir ?? dirname(resolve(path)) });
}

const REPO = fileURLToPath(new URL('..', import.meta.url));

/**
 * The board's full VM set (boards/vms/<board>.json): the MVM and every GVM, booted directly by the
 * hypervisor (`--config boards/vms/<board>.json`). Image names are relative to the file.
 */
export function defaultVmSet(board: BoardDescription, opts: VmConfigOptions = {}): VmConfig[] {
  return boardSet(board, `${board.name}.json`, opts);
}

/**
 * The default run (boards/vms/<board>-mvm.json): VM 0 alone, as Rust-Shyper boots; its initramfs
 * configures and boots the GVMs of the full set through shyper.ko and the shyper CLI.
 */
export function mvmVmSet(board: BoardDescription, opts: VmConfigOptions = {}): VmConfig[] {
  return boardSet(board, `${board.name}-mvm.json`, opts);
}

function boardSet(board: BoardDescription, file: string, opts: VmConfigOptions): VmConfig[] {
  const path = resolve(REPO, 'boards', 'vms', file);
  if (!existsSync(path)) throw new ConfigError(`board ${board.name} has no default VM set (boards/vms/${file}); give --config FILE`);
  return loadVmConfig(path, board, { label: relative(REPO, path), ...opts });
}

/** Parse and check the text of a VM config file. */
export function parseVmConfig(text: string, board: BoardDescription, opts: VmConfigOptions & { label: string; imageDir: string }): VmConfig[] {
  const env: Env = {
    board,
    label: opts.label,
    images: fileImages(opts.imageDir),
    ramBase: board.memory.base,
    ramSize: opts.ramSize ?? board.memory.defaultSize,
    gic: opts.gicVersion ?? board.gic.version,
    ncpus: opts.cpus ?? board.cpus.length,
    warn: opts.onWarning ?? (() => {}),
  };
  const doc = parseJson(text, env.label);
  if (!Array.isArray(doc)) {
    const hint = isObject(doc) && Array.isArray(doc.vms) ? ' (write the list itself, not {"vms": [...]})' : '';
    throw new ConfigError(`${env.label}: expected a JSON list of VMs [{...}, ...], got ${isObject(doc) ? 'an object' : JSON.stringify(doc)}${hint}`);
  }
  if (doc.length === 0) throw new ConfigError(`${env.label}: the list of VMs is empty (VM 0, the MVM, is needed)`);
  if (doc.length > VM_NUM_MAX) throw new ConfigError(`${env.label}: ${doc.length} VMs, at most ${VM_NUM_MAX} (Rust-Shyper's VM_NUM_MAX)`);

  const ids = assignIds(doc);
  const vmSchema = schemaDef('vm');
  const raws = doc.map((entry, i) => {
    const where = vmLabel(env, ids[i], entry, i);
    const issue = checkSchema(vmSchema, entry);
    if (issue) throw new ConfigError(`${where}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
    return entry as RawVm;
  });

  const seen = new Map<number, number>();
  raws.forEach((raw, i) => {
    const id = ids[i]!;
    const prev = seen.get(id);
    if (prev !== undefined) throw new ConfigError(`${vmLabel(env, id, raw, i)}: id: ${id} is already vm ${id} "${raws[prev]!.name}"'s id (entry ${prev})`);
    seen.set(id, i);
  });
  if (ids[0] !== 0) throw new ConfigError(`${vmLabel(env, ids[0], raws[0], 0)}: id: the first VM must be VM 0, the MVM (Rust-Shyper adds it first)`);

  const vms = raws.map((raw, i) => buildVm(env, raw, ids[i]!));
  checkAcrossVms(env, vms);
  placeMemory(env, vms);
  return vms;
}


/**
 * Check one VM assembled at run time (the MVM's HVC_CONFIG calls, hypervisor/hvc/config.ts) by the
 * rules of a config file entry, beside the VMs that exist (`others`: cores, passthrough windows and
 * SPIs are checked across them unless acrossVms is false). `entry` is the JSON entry the calls
 * amount to; its images come from `images`. Memory is placed by the hypervisor's allocator when the
 * VM is built, not here.
 */
export function checkRuntimeVm(
  entry: unknown,
  id: number,
  others: VmConfig[],
  board: BoardDescription,
  opts: Omit<VmConfigOptions, 'imageDir'> & { label: string; images: ImageSource; acrossVms?: boolean },
): VmConfig {
  const env: Env = {
    board,
    label: opts.label,
    images: opts.images,
    ramBase: board.memory.base,
    ramSize: opts.ramSize ?? board.memory.defaultSize,
    gic: opts.gicVersion ?? board.gic.version,
    ncpus: opts.cpus ?? board.cpus.length,
    warn: opts.onWarning ?? (() => {}),
  };
  const issue = checkSchema(schemaDef('vm'), entry);
  if (issue) throw new ConfigError(`${vmLabel(env, id, entry, 0)}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
  const vm = buildVm(env, entry as RawVm, id);
  if (opts.acrossVms !== false) checkAcrossVms(env, [...others.filter((o) => o.id !== id), vm]);
  return vm;
}

// ---- internals ----

function parseJson(text: string, label: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    // V8 appends " in JSON at position N" or a quoted excerpt; line:column replaces both.
    // The excerpt may be cut short ("..."), and may hold newlines: the message stays one line.
    const what = msg.replace(/ in JSON at position \d+.*$/s, '').replace(/, "[^]*"(\.\.\.)? is not valid JSON$/s, '').split('\n')[0];
    throw new ConfigError(`${label}: ${lineColumn(text, errorOffset(text, msg))}: invalid JSON: ${what}`);
  }
}

/** Where JSON.parse gave up: its reported position, else the end of the longest viable prefix. */
function errorOffset(text: string, msg: string): number {
  const pos = /at position (\d+)/.exec(msg);
  if (pos) return Number(pos[1]);
  if (/end of JSON input/.test(msg)) return text.length;
  const viable = (n: number): boolean => {
    try {
      JSON.parse(text.slice(0, n));
      return true;
    } catch (e) {
      const m = (e as Error).message;
      const p = /at position (\d+)/.exec(m);
      return /end of JSON input/.test(m) || (p !== null && Number(p[1]) >= n);
    }
  };
  let [lo, hi] = [0, text.length]; // viable(lo); the whole text is not
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (viable(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

function lineColumn(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return `line ${line} column ${pos - before.lastIndexOf('\n')}`;
}

/** Explicit ids first, then the lowest free id for each other entry in order (Rust-Shyper). */
function assignIds(doc: unknown[]): (number | undefined)[] {
  const taken = new Set<number>();
  const explicit = doc.map((e) => {
    const id = isObject(e) ? e.id : undefined;
    if (typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < VM_NUM_MAX) {
      taken.add(id);
      return id;
    }
    return isObject(e) && 'id' in e ? null : undefined;
  });
  return explicit.map((id) => {
    if (id === null) return undefined; // an invalid id: the schema check reports it
    if (id !== undefined) return id;
    let n = 0;
    while (taken.has(n)) n++;
    taken.add(n);
    return n;
  });
}

function vmLabel(env: Env, id: number | undefined, entry: unknown, index: number): string {
  const name = isObject(entry) && typeof entry.name === 'string' ? ` "${entry.name}"` : '';
  return `${env.label}: ${id !== undefined ? `vm ${id}` : `entry ${index}`}${name}`;
}

