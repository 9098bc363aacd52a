#!/usr/bin/env node
// The `soma` command. It runs the compiled build (dist/, made by `npm install` through `prepare`, or by
// `npm run build`) when that build is current — it starts faster — and otherwise the TypeScript
// sources through tsx, so it also works right after an edit.
import { pathToFileURL } from 'node:url';
import { buildIsCurrent, entry } from './compiled-build.mjs';
import { execWithMallocSettings, wantsMallocSettings } from './malloc-settings.mjs';

if (wantsMallocSettings()) execWithMallocSettings();

if (buildIsCurrent()) {
  await import(pathToFileURL(entry).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/entry/cli/main.ts');
}
