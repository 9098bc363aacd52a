import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { authenticate, createFirstTenant, type Caller } from '../../app/tenancy.js';
import type { Config } from '../../config.js';
import type { Soma } from '../../main.js';

/**
 * Who an in-process `soma eval` runs as: the owner of `apiKey` (the same key `soma chat` uses, so the
 * Studio signed in with it shows the run). On a new embedded database it creates tenant "default"
 * and writes its key to `<SOMA_DATA_DIR>/api-key`, as `soma serve` does.
 */
export async function callerForEval(soma: Soma, cfg: Config, apiKey: string | undefined): Promise<Caller> {
  if (apiKey) {
    const caller = await authenticate(soma.ctx, { apiKey });
    if (!caller.ok) throw new Error('the API key is not valid on this database (pass --api-key or set SOMA_API_KEY)');
    return caller.value;
  }
  if (soma.database.driver === 'pglite') {
    const tenant = await createFirstTenant(soma.ctx, { name: 'default' });
    if (tenant) {
      mkdirSync(cfg.dataDir, { recursive: true });
      writeFileSync(path.join(cfg.dataDir, 'api-key'), `${tenant.api_key}\n`, { mode: 0o600 });
      return { tenantId: tenant.id, userId: tenant.user_id };
    }
  }
  throw new Error('no API key: pass --api-key or set SOMA_API_KEY (an embedded database writes one to <SOMA_DATA_DIR>/api-key on first use)');
}
