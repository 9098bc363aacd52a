import type { PolicyDecision, PolicyEngine, PolicyInput } from '../../../ports/tools.js';

export interface OpaHttpPolicyOptions {
  /** OPA server base URL (`OPA_URL`), e.g. `http://127.0.0.1:8181`. */
  url: string;
  /** Per-decision deadline; past it the tool is denied. */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
}

/**
 * OPA server: `POST {url}/v1/data/soma/tools`. Fails closed — unreachable, non-200, timeout or a
 * missing/odd result all deny with `policy engine unavailable: …`; it never throws.
 */
export function createOpaHttpPolicy({ url, timeoutMs = 2_000, fetch = globalThis.fetch }: OpaHttpPolicyOptions): PolicyEngine {
  const endpoint = `${url.replace(/\/+$/, '')}/v1/data/soma/tools`;
  const name = 'opa-http';
  const unavailable = (why: string): PolicyDecision => ({ allow: false, engine: name, reason: `policy engine unavailable: ${why}` });

  return {
    name,
    async decide(input: PolicyInput): Promise<PolicyDecision> {
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ input }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const timedOut = (error as Error).name === 'TimeoutError';
        return unavailable(timedOut ? `no answer from ${endpoint} within ${timeoutMs} ms` : `${endpoint} unreachable (${describe(error)})`);
      }
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        return unavailable(`${endpoint} answered ${response.status}`);
      }
      let body: unknown;
      try {
        body = await response.json();
      } catch (error) {
        return unavailable(`${endpoint} answered without a JSON body (${describe(error)})`);
      }
      const result = (body as { result?: { allow?: unknown; reason?: unknown } } | null)?.result;
      if (result === undefined || result === null || typeof result.allow !== 'boolean') {
        return unavailable(`no soma.tools decision in the answer of ${endpoint} (is the policy loaded?)`);
      }
      if (result.allow) return { allow: true, engine: name };
      return { allow: false, engine: name, reason: typeof result.reason === 'string' ? result.reason : 'denied by soma.tools policy' };
    },
  };
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
