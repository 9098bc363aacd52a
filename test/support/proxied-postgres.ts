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
  /**
   * The test's teardown: `server` closed first (its error is the test's), then each of `lenient`
   * (a pool whose connections the proxy cut may fail to close), the proxy, and the database dropped.
   */
  const dispose = async (server?: Closable, ...lenient: Closable[]) => {
    try {
      await server?.close();
    } finally {
      for (const opened of lenient) await opened.close().catch(() => undefined);
      await proxy.close();
      await db.drop().catch(() => undefined);
    }
  };
  return { db, proxy, proxied, dispose };
}

interface Closable {
  close(): Promise<unknown>;
}
