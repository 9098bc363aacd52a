#!/usr/bin/env node
// The `soma` command: runs the TypeScript sources through tsx, so it works right after `npm install`.
import { register } from 'tsx/esm/api';

register();
await import('../src/entry/cli/main.ts');
