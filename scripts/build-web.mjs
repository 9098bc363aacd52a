#!/usr/bin/env node
// Builds Soma Studio (src/entry/web) into dist/web with Vite. Run by `npm install` / `npm ci`
// (prepare) and by `npm start` (prestart); `--if-stale` skips the build when the sources, the lock
// and the output are unchanged since the last build.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(repo, 'src/entry/web');
const out = path.join(repo, 'dist/web');
const stampFile = path.join(out, '.build-stamp');

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? files(full) : [full];
  });
}

function inputsHash() {
  const hash = createHash('sha256');
  for (const file of [...files(source).sort(), path.join(repo, 'package-lock.json')]) {
    if (!existsSync(file)) continue;
    hash.update(path.relative(repo, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

const ifStale = process.argv.includes('--if-stale');
const stamp = inputsHash();
if (ifStale && existsSync(path.join(out, 'index.html')) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) process.exit(0);

let vite;
try {
  vite = await import('vite');
} catch {
  // An install without dev dependencies has no Vite: the server then explains how to build the UI.
  process.stderr.write('soma: Vite is not installed (npm install without --omit=dev builds Soma Studio); the API works without it\n');
  process.exit(0);
}
const started = performance.now();
await vite.build({ configFile: path.join(source, 'vite.config.ts'), logLevel: 'warn' });
writeFileSync(stampFile, stamp);
const size = files(out).filter((f) => !f.endsWith('.build-stamp')).reduce((sum, f) => sum + statSync(f).size, 0);
process.stderr.write(`soma: built Soma Studio into dist/web in ${Math.round(performance.now() - started)} ms (${(size / 1024).toFixed(0)} KiB)\n`);
