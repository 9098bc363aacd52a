/**
 * `/readyz` probe of an HTTP dependency (OPA server, remote brain): resolves when `url` answers 2xx
 * within `timeoutMs`, else rejects saying why.
 */
export async function probeHttp(url: string, { timeoutMs = 2_000, fetch = globalThis.fetch }: { timeoutMs?: number; fetch?: typeof globalThis.fetch } = {}): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new Error((error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'unreachable', { cause: error });
  }
  await response.body?.cancel().catch(() => undefined);
  if (!response.ok) throw new Error(`answered ${response.status}`);
}
