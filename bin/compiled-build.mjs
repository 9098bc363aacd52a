// Where the compiled build of the sources is (`npm run build` → dist/server/; the Studio builds into dist/web/) and whether it is current.
// Shared by bin/soma.mjs (which runs it when it is current) and scripts/build.mjs (which writes it).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const entry = path.join(root, 'dist', 'server', 'entry', 'cli', 'main.js');
export const stampFile = path.join(root, 'dist', 'server', 'build-info.json');

/** The newest modification time of the TypeScript sources (and the build settings). */
export function sourcesMtimeMs() {
  let newest = 0;
  const walk = (dir) => {
    for (const item of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, item.name);
      if (item.isDirectory()) walk(file);
      else if (item.name.endsWith('.ts')) newest = Math.max(newest, statSync(file).mtimeMs);
    }
  };
  walk(path.join(root, 'src'));
  for (const file of ['tsconfig.json', 'tsconfig.build.json']) newest = Math.max(newest, statSync(path.join(root, file)).mtimeMs);
  return newest;
}

/** True when dist/ was built from the sources as they are now. */
export function buildIsCurrent() {
  try {
    if (!existsSync(entry)) return false;
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
    return typeof stamp.sourcesMtimeMs === 'number' && stamp.sourcesMtimeMs >= sourcesMtimeMs();
  } catch {
    return false;
  }
}
