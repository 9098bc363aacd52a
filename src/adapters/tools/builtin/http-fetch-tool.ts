import type { CapabilityConfig, Tool } from '../../../ports/tools.js';

export interface HttpFetchConfig {
  /** Hosts that may be fetched: `example.org` (any port) or `example.org:8080`. Empty ⇒ nothing. */
  allowed_hosts?: string[];
  /** Largest body returned; the rest is cut off (`truncated: true`). Default 256 KiB. */
  max_bytes?: number;
  /** Deadline for the whole fetch including redirects. Default 10 s. */
  timeout_ms?: number;
}

const maxRedirects = 5;

/**
 * `http_fetch {url}` → `{url, status, content_type, body, truncated}`: GET only, hosts from the
 * capability's allow-list only, redirects followed only on the same host.
 */
export function createHttpFetchTool({ capability, fetch = globalThis.fetch }: { capability: CapabilityConfig; fetch?: typeof globalThis.fetch }): Tool {
  const config = (capability.config ?? {}) as HttpFetchConfig;
  const allowed = new Set((config.allowed_hosts ?? []).map((host) => host.toLowerCase()));
  const maxBytes = config.max_bytes ?? 256 * 1024;
  const timeoutMs = config.timeout_ms ?? 10_000;
  const isAllowed = (url: URL) => allowed.has(url.host.toLowerCase()) || allowed.has(url.hostname.toLowerCase());

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
      let url = parseUrl((args as { url: string }).url);
      if (!isAllowed(url)) throw new Error(`host ${url.host} is not on the allow-list of ${capability.name}`);
      const signal = AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)]);
      for (let redirects = 0; ; redirects += 1) {
        const response = await fetch(url, { method: 'GET', redirect: 'manual', signal, headers: { accept: 'text/*, application/json;q=0.9, */*;q=0.5' } });
        const location = response.headers.get('location');
        if (response.status >= 300 && response.status < 400 && location !== null) {
          await response.body?.cancel();
          const next = parseUrl(new URL(location, url).href);
          if (next.host.toLowerCase() !== url.host.toLowerCase()) throw new Error(`redirect from ${url.host} to another host (${next.host}) refused`);
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
