// The house rules of DESIGN.md, checked on the code's own imports: the hypervisor sees the
// hardware only through the EL2 port (emulator/arm64/el2.ts) plus pure libraries (the FDT codec,
// board data); nothing under emulator/ imports hypervisor/ or src/; boards/ is data.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((f) => {
    const p = join(dir, f);
    return statSync(join(ROOT, p)).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Repository-relative paths a file imports (static imports and re-exports). */
function importsOf(file: string): string[] {
  const src = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/^(?:import|export)[^;]*?from '(\.[^']+)'/gms)) out.push(relative(ROOT, resolve(ROOT, dirname(file), m[1]!)));
  return out;
}

describe('layering', () => {
  it('hypervisor/ imports only the EL2 port, the FDT codec, the PSCI numbers and board data from outside itself', () => {
    const allowed = new Set(['emulator/arm64/el2.ts', 'emulator/fdt/fdt.ts', 'emulator/firmware/psci-abi.ts', 'boards/types.ts']);
    const bad = files('hypervisor').flatMap((f) => importsOf(f).filter((i) => !i.startsWith('hypervisor/') && !allowed.has(i)).map((i) => `${f} -> ${i}`));
    expect(bad).toEqual([]);
    // The scan sees imports at all (the port is imported).
    expect(files('hypervisor').flatMap(importsOf)).toContain('emulator/arm64/el2.ts');
  });

  it('emulator/ never imports hypervisor/ or src/', () => {
    const bad = files('emulator').flatMap((f) => importsOf(f).filter((i) => i.startsWith('hypervisor/') || i.startsWith('src/')).map((i) => `${f} -> ${i}`));
    expect(bad).toEqual([]);
  });

  it('boards/ is data: it imports nothing but its own types', () => {
    const bad = files('boards').flatMap((f) => importsOf(f).filter((i) => !i.startsWith('boards/')).map((i) => `${f} -> ${i}`));
    expect(bad).toEqual([]);
  });
});
