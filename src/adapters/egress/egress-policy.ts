import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Agent } from 'undici';
import { addressCategory, inAllowedRange, parseEgressAllowList } from './address-category.js';

/** An address a host name resolved to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses (the default is the system resolver, `/etc/hosts` included). */
export type Resolve = (hostname: string) => Promise<ResolvedAddress[]>;

export interface EgressPolicyOptions {
  /** `SOMA_EGRESS_ALLOW`: host names, IP addresses and CIDR ranges reachable although not public. */
  allow?: readonly string[];
  /** Name resolution (replaceable in tests). */
  resolve?: Resolve;
  /** Deadline of one resolution. */
  resolveTimeoutMs?: number;
  /** Deadline of one TCP/TLS connection. */
  connectTimeoutMs?: number;
  /** Redirects followed by `fetch` (each one checked again). */
  maxRedirects?: number;
}

/**
 * Where tools may connect (SPEC §13.1): public unicast addresses, plus what the operator lists in
 * `SOMA_EGRESS_ALLOW`. Every connection of {@link EgressPolicy.fetch} resolves the host once, checks
 * every address it resolves to, and connects to a checked address (no second lookup); redirects are
 * followed by hand, each hop connecting through the same check.
 */
export interface EgressPolicy {
  /** Why connecting to `address` (resolved from `hostname`) is refused, or null when allowed. */
  refusal(address: string, hostname?: string): string | null;
  /** Resolves `hostname` and checks every address; throws {@link EgressRefusedError} when one is refused. */
  check(hostname: string): Promise<ResolvedAddress[]>;
  /**
   * A `fetch` that connects only where the policy allows. `redirect: "follow"` (the default) follows
   * at most `maxRedirects` redirects by hand; `"manual"` returns the 3xx response.
   */
  fetch: typeof globalThis.fetch;
  /** Closes pooled connections. */
  close(): Promise<void>;
}

/** A connection the egress policy refused; nothing was sent, no connection was opened. */
export class EgressRefusedError extends Error {
  override name = 'EgressRefusedError';
  readonly code = 'EGRESS_REFUSED';
}

const defaultResolve: Resolve = async (hostname) =>
  (await dnsLookup(hostname, { all: true, order: 'ipv4first' })).map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));

/** Builds the egress policy of the process (one pool of connections). */
export function createEgressPolicy({
  allow = [],
  resolve = defaultResolve,
  resolveTimeoutMs = 5_000,
  connectTimeoutMs = 10_000,
  maxRedirects = 5,
}: EgressPolicyOptions = {}): EgressPolicy {
  const allowList = parseEgressAllowList(allow);

  const refusal = (address: string, hostname?: string): string | null => {
    const host = hostname?.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
    if (host !== undefined && allowList.hosts.has(host)) return null;
    if (inAllowedRange(address, allowList.ranges)) return null;
    const category = addressCategory(address);
    if (category === 'unicast') return null;
    const what = host !== undefined && host !== address.replace(/^\[(.*)\]$/, '$1') ? `${host} resolves to ${address}, which is` : `${address} is`;
    return `${what} not a public address (${category}); the operator can allow it in SOMA_EGRESS_ALLOW`;
  };

  const check = async (hostname: string): Promise<ResolvedAddress[]> => {
    const host = hostname.replace(/^\[(.*)\]$/, '$1');
    const family = isIP(host);
    let addresses: ResolvedAddress[];
    if (family !== 0) addresses = [{ address: host, family: family === 6 ? 6 : 4 }];
    else {
      let timer: NodeJS.Timeout | undefined;
      try {
        addresses = await Promise.race([
          resolve(host),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`resolving ${host} timed out`)), resolveTimeoutMs);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
      if (addresses.length === 0) throw new Error(`${host} does not resolve`);
    }
    for (const { address } of addresses) {
      const why = refusal(address, host);
      if (why !== null) throw new EgressRefusedError(`egress refused: ${why}`);
    }
    return addresses;
  };

  // Every new connection of the pool comes through here: resolve once, check, connect to the
  // checked address (undici's connector gets the IP, and the name only for TLS and the Host header).
  // undici (about 30 MB) loads on the first fetch: a process whose tools never fetch does not pay.
  let client: Promise<{ agent: Agent; fetch: typeof import('undici').fetch }> | undefined;
  const undici = () =>
    (client ??= import('undici').then(({ Agent: UndiciAgent, buildConnector, fetch: undiciFetch }) => {
      const connectTo = buildConnector({ timeout: connectTimeoutMs });
      const agent = new UndiciAgent({
        connect: (options, callback) => {
          check(options.hostname).then(
            ([first]) => connectTo({ ...options, hostname: first!.address, servername: options.servername ?? undefined }, callback),
            (error: Error) => callback(error, null),
          );
        },
      });
      return { agent, fetch: undiciFetch };
    }));

  const fetch = (async (input: string | URL | Request, init: RequestInit = {}) => {
    if (typeof input !== 'string' && !(input instanceof URL)) throw new TypeError('the egress fetch takes a URL, not a Request');
    let url = new URL(input);
    const follow = (init.redirect ?? 'follow') === 'follow';
    let method = (init.method ?? 'GET').toUpperCase();
    let body = init.body;
    const headers = new Headers(init.headers);
    const { agent, fetch: undiciFetch } = await undici();
    for (let hop = 0; ; hop += 1) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new EgressRefusedError(`egress refused: only http and https URLs, not ${url.protocol}`);
      let response: Response;
      try {
        response = (await undiciFetch(url, {
          ...(init as object),
          method,
          body: body as never,
          headers,
          redirect: 'manual',
          dispatcher: agent,
        })) as unknown as Response;
      } catch (error) {
        throw unwrapFetchError(error);
      }
      const location = response.headers.get('location');
      if (!follow || response.status < 300 || response.status >= 400 || location === null) return response;
      await response.body?.cancel().catch(() => undefined);
      if (hop >= maxRedirects) throw new EgressRefusedError(`egress refused: more than ${maxRedirects} redirects`);
      const next = new URL(location, url);
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
        for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) headers.delete(name);
      }
      if (next.origin !== url.origin) for (const name of ['authorization', 'cookie', 'proxy-authorization']) headers.delete(name);
      url = next;
    }
  }) as typeof globalThis.fetch;

  return { refusal, check, fetch, close: async () => void (client && (await (await client).agent.close())) };
}

/** undici reports connection failures as `TypeError("fetch failed", {cause})`: surface the real reason. */
function unwrapFetchError(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    if (current instanceof EgressRefusedError) return current;
    current = current.cause;
  }
  return error;
}
