// vitest globalSetup: gives the test files a directory where describeOracle (test/oracles.ts)
// records the oracle suites it skipped, and at the end of the run prints ONE line naming them
// (nothing when every oracle ran). SHYPER_REQUIRE_ORACLES=1 turns a skip into a failure instead.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import type { SkipRecord } from './oracles.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    oracleSkipDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'shyper-oracle-skips-'));
  project.provide('oracleSkipDir', dir);
  return () => {
    const recs: SkipRecord[] = [];
    for (const f of readdirSync(dir)) {
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) if (line) recs.push(JSON.parse(line) as SkipRecord);
    }
    rmSync(dir, { recursive: true, force: true });
    if (recs.length === 0) return;
    const byFile = new Map<string, string[]>();
    for (const r of recs) byFile.set(r.file, [...(byFile.get(r.file) ?? []), r.suite]);
    const files = [...byFile.keys()].sort().map((f) => `${f} (${byFile.get(f)!.sort().map((n) => `"${n}"`).join(', ')})`);
    const missing = [...new Set(recs.flatMap((r) => r.missing))].sort();
    process.stdout.write(
      `oracle suites skipped: ${recs.length} — ${files.join('; ')} — missing ${missing.join(', ')} (.ci/run installs them; SHYPER_REQUIRE_ORACLES=1 makes this a failure)\n`,
    );
  };
}
