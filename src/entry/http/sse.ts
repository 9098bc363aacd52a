import type { Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import type { LoggedEvent } from '../../app/turn-event-log.js';
import { toHttpError } from './http-errors.js';

/**
 * Streams a turn's events as SSE (SPEC §4, §13.4): each with `id: <n>`, and a `: ping` comment after
 * `pingMs` of silence so proxies keep the connection. `open` receives the stream's abort signal
 * (aborted when the client goes away or the stream ends) and gives the events; `onClientGone` runs
 * when the client disconnects.
 */
export function streamTurnEvents(c: Context, { pingMs, open, onClientGone }: { pingMs: number; open: (signal: AbortSignal) => AsyncIterable<LoggedEvent>; onClientGone?: () => void }) {
  return streamSSE(c, async (stream) => {
    const controller = new AbortController();
    stream.onAbort(() => {
      controller.abort(new DOMException('client disconnected', 'AbortError'));
      onClientGone?.();
    });
    const pings = keepAlive(stream, pingMs);
    try {
      for await (const event of open(controller.signal)) {
        if (stream.aborted) break;
        await pings.write(() => stream.writeSSE({ id: String(event.id), event: event.event, data: JSON.stringify(event.data) }));
      }
    } catch (err) {
      const { body } = toHttpError(err);
      if (!stream.aborted) await pings.write(() => stream.writeSSE({ event: 'error', data: JSON.stringify({ code: body.error.code, message: body.error.message }) }));
    } finally {
      pings.stop();
      controller.abort();
    }
  });
}

/** Writes `: ping` after every `pingMs` without a write; writes are serialised with the pings. */
function keepAlive(stream: SSEStreamingApi, pingMs: number) {
  let chain: Promise<unknown> = Promise.resolve();
  let last = performance.now();
  const serial = (write: () => Promise<unknown>) => {
    chain = chain.then(write).catch(() => undefined);
    return chain;
  };
  const timer = setInterval(() => {
    if (stream.aborted || performance.now() - last < pingMs) return;
    last = performance.now();
    void serial(() => stream.write(': ping\n\n'));
  }, Math.max(50, Math.floor(pingMs / 2)));
  timer.unref?.();
  return {
    write: (write: () => Promise<unknown>) => {
      last = performance.now();
      return serial(write);
    },
    stop: () => clearInterval(timer),
  };
}
