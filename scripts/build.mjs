#!/usr/bin/env node
// Compiles src/ to dist/server/ (tsconfig.build.json) and stamps the build with the sources' newest mtime,
// so bin/soma.mjs runs it only while it matches the sources.
//
//   node scripts/build.mjs                 `npm run build`: a compile error fails
//   node scripts/build.mjs --if-possible   `prepare` (after npm install): a failure only warns; soma
//                                          then runs from the sources through tsx
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { root, sourcesMtimeMs, stampFile } from '../bin/compiled-build.mjs';

const optional = process.argv.includes('--if-possible');
const sourcesBefore = sourcesMtimeMs();
rmSync(path.join(root, 'dist', 'server'), { recursive: true, force: true });
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.warn('soma build: typescript is not installed (production install); soma runs from the sources');
  process.exit(optional ? 0 : 1);
}
const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
if (result.status !== 0) {
  rmSync(path.join(root, 'dist', 'server'), { recursive: true, force: true });
  console.warn(`soma build: tsc failed (exit ${result.status}); soma runs from the sources through tsx`);
  process.exit(optional ? 0 : 1);
}
// The embedded database's template (a migrated empty cluster a new data folder is copied from, instead
// of initdb at first start). Without it soma still works: a first start then runs initdb.
const template = spawnSync(
  process.execPath,
  ['--input-type=module', '-e', `const { createPgliteTemplate } = await import(${JSON.stringify(pathToFileURL(path.join(root, 'dist', 'server', 'adapters', 'store', 'pglite-cluster.js')).href)}); await createPgliteTemplate();`],
  { stdio: 'inherit', cwd: root },
);
if (template.status !== 0) console.warn('soma build: the embedded database template was not made; a first start on a new data folder runs initdb');
writeFileSync(stampFile, `${JSON.stringify({ sourcesMtimeMs: sourcesBefore, builtAt: new Date().toISOString() })}\n`);
