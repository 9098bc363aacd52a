import { isIP } from 'node:net';
import type { CapabilityConfig, Tool } from '../../../ports/tools.js';

export interface HttpFetchConfig {
  /** Hosts that may be fetched: `example.org` (any port) or `example.org:8080`. Empty ⇒ nothing. */
  allowed_hosts?: string[];
  /** Largest body returned; the rest is cut off (`truncated: true`). Default 256 KiB. */
  max_bytes?: number;
  /** Deadline for the whole fetch including redirects. Default 10 s. */
  timeout_ms?: number;
  /**
   * Headers sent with each request to the URL's origin (e.g. `authorization` of an API), never to
   * another origin a redirect leads to. Write-only: shown as `"***"` everywhere (SPEC §13.1).
   */
  headers?: Record<string, string>;
}

/** Headers a capability may not set: the connection's own, which the client manages. */
const reservedHeaders = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'keep-alive', 'expect']);

/** The capability's headers, checked; a wrong one is a configuration error of every call (never echoing a value). */
function configuredHeaders(headers: unknown): Record<string, string> | Error {
  if (headers === undefined || headers === null) return {};
  if (typeof headers !== 'object' || Array.isArray(headers)) return new Error('config.headers must map header names to strings');
  const checked: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(lower)) return new Error(`config.headers: ${JSON.stringify(name.slice(0, 64))} is not a header name`);
    if (reservedHeaders.has(lower) || lower.startsWith('proxy-')) return new Error(`config.headers: ${lower} cannot be set by a capability`);
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) return new Error(`config.headers: the value of ${lower} must be a single-line string`);
    checked[lower] = value;
  }
  return checked;
}

const maxRedirects = 5;

/**
 * `http_fetch {url}` → `{url, status, content_type, body, truncated}`: GET only, hosts from the
 * capability's allow-list only (on every redirect too). `fetch` is the egress policy's: it connects
 * only to public addresses or those the operator allows (SPEC §13.1), so the capsule's allow-list can
 * only narrow what the operator permits.
 */
export function createHttpFetchTool({ capability, fetch }: { capability: CapabilityConfig; fetch: typeof globalThis.fetch }): Tool {
  const config = (capability.config ?? {}) as HttpFetchConfig;
  const allowed = new Set((config.allowed_hosts ?? []).map(allowListEntry));
  const maxBytes = config.max_bytes ?? 256 * 1024;
  const timeoutMs = config.timeout_ms ?? 10_000;
  const isAllowed = (url: URL) => allowed.has(url.host.toLowerCase()) || allowed.has(url.hostname.toLowerCase());
  const headers = configuredHeaders(config.headers);

  return {
    capability,
    definition: {
      name: capability.name,
      description:
        capability.description ??
        `Fetches a web page or API response with HTTP GET and returns its status, content type and text body. Allowed hosts: ${[...allowed].join(', ') || 'none'}.`,
      inputSchema: {
        type: 'object',
        properties: { url: { type: 'string', minLength: 1, maxLength: 2048, description: 'Absolute http(s) URL' } },
        required: ['url'],
        additionalProperties: false,
      },
    },
    async execute(args, context) {
      if (headers instanceof Error) throw headers;
      let url = parseUrl((args as { url: string }).url);
      if (!isAllowed(url)) throw new Error(`host ${url.host} is not on the allow-list of ${capability.name}`);
      const origin = url.origin;
      const signal = AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)]);
      for (let redirects = 0; ; redirects += 1) {
        const own = url.origin === origin ? headers : {};
        const response = await fetch(url, { method: 'GET', redirect: 'manual', signal, headers: { accept: 'text/*, application/json;q=0.9, */*;q=0.5', ...own } });
        const location = response.headers.get('location');
        if (response.status >= 300 && response.status < 400 && location !== null) {
          await response.body?.cancel();
          const next = parseUrl(new URL(location, url).href);
          if (!isAllowed(next)) throw new Error(`redirect from ${url.host} to ${next.host} refused: not on the allow-list of ${capability.name}`);
          if (redirects + 1 > maxRedirects) throw new Error(`more than ${maxRedirects} redirects`);
          url = next;
          continue;
        }
        const { text, truncated } = await readText(response, maxBytes);
        return { url: url.href, status: response.status, content_type: response.headers.get('content-type') ?? '', body: text, truncated };
      }
    },
  };
}

/**
 * An allow-list entry spelt as a URL spells its host, so that any spelling of an address matches:
 * `[::ffff:127.0.0.1]` and `::ffff:127.0.0.1` → `[::ffff:7f00:1]`, `Example.ORG` → `example.org`.
 * A port stays as written.
 */
function allowListEntry(entry: string): string {
  const trimmed = entry.trim();
  const [, host = trimmed, port = ''] = isIP(trimmed) === 6 ? [trimmed, `[${trimmed}]`] : (/^(.*?)(:\d+)?$/.exec(trimmed) ?? []);
  try {
    return `${new URL(`http://${host}/`).hostname}${port}`;
  } catch {
    return trimmed.toLowerCase();
  }
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`not an absolute URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`only http and https URLs can be fetched, not ${url.protocol}`);
  if (url.username || url.password) throw new Error('URLs with credentials are not fetched');
  return url;
}

/** Reads at most `maxBytes` of the body as UTF-8 text, cancelling the rest. */
async function readText(response: Response, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: '', truncated: false };
  const reader = response.body.getReader();
  const decoder = new TextDecoder('utf-8');
  let text = '';
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: text + decoder.decode(), truncated: false };
    if (received + value.byteLength > maxBytes) {
      // stream: true keeps a character cut at the limit out of the text instead of emitting U+FFFD.
      text += decoder.decode(value.subarray(0, maxBytes - received), { stream: true });
      await reader.cancel();
      return { text, truncated: true };
    }
    received += value.byteLength;
    text += decoder.decode(value, { stream: true });
  }
}
