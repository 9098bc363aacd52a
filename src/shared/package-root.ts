import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of Soma's package.json, found upwards from a module's own file (`import.meta.url`), so
 * shipped files (migrations, the policy, the built Studio) are found the same from the sources
 * (src/…) and from the compiled build (dist/server/…).
 */
export function packageRoot(moduleUrl: string): string {
  let dir = path.dirname(fileURLToPath(moduleUrl));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'migrations'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Soma's package folder not found above ${fileURLToPath(moduleUrl)}`);
    dir = parent;
  }
}
