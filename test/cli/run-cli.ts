// Running the command line as a user does (`node bin/shyper-emu.js ...`) and checking the
// contract of DESIGN.md "Command line": the exit code, one clear stderr line on errors, never a
// JavaScript stack trace, never the exit-3 safety net.
import { spawn } from 'node:child_process';
import { expect } from 'vitest';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { input?: string | Buffer; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn('node', ['bin/shyper-emu.js', ...args], { stdio: ['pipe', 'pipe', 'pipe'], cwd: opts.cwd });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      if (stdout.length < 1 << 20) stdout += d;
    });
    p.stderr.on('data', (d) => {
      if (stderr.length < 1 << 20) stderr += d;
    });
    p.stdin.on('error', () => {});
    p.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Run `jobs` with at most `n` at a time (the machine is small; processes are the cost). */
export async function pool<T, R>(items: T[], n: number, job: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await job(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/** A stack frame line ("    at foo (file:1:2)") or Node's uncaught-error banner. */
export const STACK = /^\s+at .+|^Node\.js v\d|^\S+Error: |\[ERR_/m;

/** No trace of a JavaScript exception, and not the exit-3 safety net. */
export function expectNoCrash(r: CliResult, what: string): void {
  expect(r.stderr, `${what}: stack trace on stderr`).not.toMatch(STACK);
  expect(r.stderr, `${what}: internal error`).not.toContain('internal error');
  expect(r.code, `${what}: exit 3 is for emulator bugs only`).not.toBe(3);
  expect(r.signal, `${what}: killed (timeout?)`).toBeNull();
}

/** Exit `code` with exactly one stderr line matching `line`. */
export function expectOneLine(r: CliResult, code: number, line: RegExp, what: string): void {
  expectNoCrash(r, what);
  expect(r.code, `${what}: exit code (stderr: ${r.stderr})`).toBe(code);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines, `${what}: one stderr line`).toHaveLength(1);
  expect(lines[0], what).toMatch(line);
}

/** A shell pipeline (bash -c), asynchronously: a blocked test worker misses vitest's RPC deadlines. */
export function sh(cmd: string, timeoutMs = 200_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
