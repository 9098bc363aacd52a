import { freshDatabase } from './databases.js';
import { startProxy } from './tcp-proxy.js';

/**
 * A fresh PostgreSQL database reached through a TCP proxy the test controls: `db` is the test's own
 * view around the proxy, `proxied` the URL a server under test connects to.
 */
export async function proxiedPostgres() {
  const db = await freshDatabase('postgres');
  const target = new URL(db.url!);
  const proxy = await startProxy({ host: target.hostname, port: Number(target.port) });
  const proxied = new URL(db.url!);
  proxied.port = String(proxy.port);
  return { db, proxy, proxied };
}
