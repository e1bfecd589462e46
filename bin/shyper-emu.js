#!/usr/bin/env node
// Launcher. A fresh clone needs no build step: the first run bundles the TypeScript sources into
// node_modules/.cache/shyper-emu/cli-*.mjs (bin/bundle.js, ~1 s) and later runs load that one file
// (~0.1 s to start instead of ~0.5 s through tsx's loader), rebuilding it when a source changed.
// If the bundle cannot be built (read-only clone, esbuild missing, a syntax error) the sources run
// through tsx as before, which also reports source errors the usual way. SHYPER_BUNDLE=0 forces
// tsx; SHYPER_DEBUG=1 says why a build failed and maps bundle stack frames back to the sources.
import { pathToFileURL } from 'node:url';
import { BUNDLE, ROOT, build, isFresh } from './bundle.js';

async function bundle() {
  if (process.env.SHYPER_BUNDLE === '0') return null;
  if (isFresh()) return BUNDLE;
  try {
    return await build();
  } catch (e) {
    if (process.env.SHYPER_DEBUG) console.error(`shyper-emu: bundle not built, running through tsx: ${e?.message ?? e}`);
    return null;
  }
}

const file = await bundle();
if (file) {
  if (process.env.SHYPER_DEBUG) process.setSourceMapsEnabled(true);
  await import(pathToFileURL(file).href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    // No bundle and no tsx: the clone's packages were never installed (one line, exit 2).
    process.stderr.write(`shyper-emu: its npm packages are not installed: run \`npm ci\` in ${ROOT}\n`);
    process.exit(2);
  }
  register();
  await import('../src/cli.ts');
}
