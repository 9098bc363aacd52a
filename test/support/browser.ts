import { existsSync } from 'node:fs';
import { requireServices } from './services.js';

/**
 * Debian's Chromium for the browser tests (`scripts/chromium.sh` installs it and prints its path;
 * `SOMA_TEST_CHROMIUM` names it, else `/usr/bin/chromium`). Missing, the tests are skipped locally
 * but fail when `SOMA_TEST_REQUIRE_SERVICES=1` (CI), like the other test services.
 */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.SOMA_TEST_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((c): c is string => Boolean(c));
  const found = candidates.find((c) => existsSync(c));
  if (found) return found;
  if (requireServices) throw new Error('Chromium is required for the browser tests (SOMA_TEST_REQUIRE_SERVICES=1) but not installed: run scripts/chromium.sh');
  return undefined;
}

/** Launch flags for Chromium on a machine whose only network is loopback (see scripts/chromium.sh). */
export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
