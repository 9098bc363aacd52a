#!/usr/bin/env node
// Completes package-lock.json with entries for optional platform packages that the registry
// reachable here does not serve (or did not serve when the lock was written).
//
//   node scripts/complete-lock.mjs [--check] [lockfile]
//
// A package in the lock may list optional dependencies that npm could not fetch (404): npm then
// leaves them out of the lock, and `npm ci` calls the lock out of sync with package.json. Such a
// dependency is only ever installed on another platform (Windows, macOS, another CPU), so its entry
// needs no more than the version, `optional` and the platform it is for; npm skips it here without
// fetching it, and a user on that platform gets it from the registry by version.
//
// Only names whose platform can be read from the name are completed (…-win32-x64, …-darwin-arm64,
// mac-…, win-…, linux-riscv64…); anything else that is missing is left alone, so `npm ci` still
// fails when the lock is genuinely out of date. With --check nothing is written; the exit code is 1
// when an entry would be added.
import { readFileSync, writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
const check = args.includes('--check');
const file = args.find((a) => !a.startsWith('--')) ?? 'package-lock.json';
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages ?? {};

const osWords = [
  [/(^|[-_])(win32|win|windows)([-_]|$)/, 'win32'],
  [/(^|[-_])(darwin|mac|macos)([-_]|$)/, 'darwin'],
  [/(^|[-_])(android)([-_]|$)/, 'android'],
  [/(^|[-_])(freebsd)([-_]|$)/, 'freebsd'],
  [/(^|[-_])(openbsd)([-_]|$)/, 'openbsd'],
  [/(^|[-_])(sunos)([-_]|$)/, 'sunos'],
  [/(^|[-_])(aix)([-_]|$)/, 'aix'],
  [/(^|[-_])(openharmony)([-_]|$)/, 'openharmony'],
  [/(^|[-_])(linux)([-_]|$)/, 'linux'],
];
const cpuWords = [
  [/(^|[-_])(x64|amd64|x86_64)([-_]|$)/, 'x64'],
  [/(^|[-_])(arm64|aarch64)([-_]|$)/, 'arm64'],
  [/(^|[-_])(ia32|x86)([-_]|$)/, 'ia32'],
  [/(^|[-_])(armv7l|arm|armhf|arm-gnueabihf|arm-musleabihf|arm-eabi)([-_]|$)/, 'arm'],
  [/(^|[-_])(riscv64)([-_]|$)/, 'riscv64'],
  [/(^|[-_])(loong64)([-_]|$)/, 'loong64'],
  [/(^|[-_])(ppc64|ppc64le)([-_]|$)/, 'ppc64'],
  [/(^|[-_])(s390x)([-_]|$)/, 's390x'],
];

/** The platform a package is built for, read from its name; undefined when the name does not say. */
export function platformOf(name) {
  const base = name.split('/').pop();
  const os = osWords.find(([re]) => re.test(base))?.[1];
  const cpu = cpuWords.find(([re]) => re.test(base))?.[1];
  if (!os && !cpu) return undefined;
  return { ...(os ? { os: [os] } : {}), ...(cpu ? { cpu: [cpu] } : {}) };
}

function matchesHere(platform) {
  if (platform.os && !platform.os.includes(process.platform)) return false;
  if (platform.cpu && !platform.cpu.includes(process.arch)) return false;
  return true;
}

const added = [];
for (const [location, entry] of Object.entries(packages)) {
  const optional = entry.optionalDependencies ?? {};
  for (const [name, range] of Object.entries(optional)) {
    const nested = `${location ? `${location}/` : ''}node_modules/${name}`;
    const hoisted = `node_modules/${name}`;
    if (packages[nested] || packages[hoisted]) continue;
    const platform = platformOf(name);
    if (!platform || matchesHere(platform)) continue; // not ours to complete: leave it to npm
    if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(range)) continue; // only exact versions can be written down
    packages[hoisted] = { version: range, license: entry.license, optional: true, ...platform };
    added.push(`${name}@${range}`);
  }
}

if (added.length > 0 && !check) {
  lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
}
for (const name of added) console.log(`${check ? 'missing' : 'added'} ${name}`);
process.exit(check && added.length > 0 ? 1 : 0);
