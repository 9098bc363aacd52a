import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { compactHeap, compactWhenIdle } from './idle-heap.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A stand-in for the HTTP server: emits `request` with a response that can be closed. */
function fakeServer() {
  const server = new EventEmitter();
  const request = (url: string) => {
    const res = new EventEmitter();
    server.emit('request', { url } as IncomingMessage, res as unknown as ServerResponse);
    return { close: () => res.emit('close') };
  };
  return { server: server as unknown as Parameters<typeof compactWhenIdle>[0], request };
}

describe('compacting the heap while the server idles', () => {
  it('gives garbage back to the system', () => {
    const made = (() => Array.from({ length: 200_000 }, (_, i) => ({ i, s: `item ${i}` })).length)();
    expect(made).toBe(200_000); // built and dropped: garbage now
    const before = process.memoryUsage().heapUsed;
    compactHeap();
    expect(process.memoryUsage().heapUsed).toBeLessThan(before);
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined(); // nothing is left exposed
  });

  it('compacts once after start, never while a request runs, and again once traffic has been quiet', async () => {
    const { server, request } = fakeServer();
    const compactions: number[] = [];
    const stop = compactWhenIdle(server, { afterStartMs: 20, quietMs: 80, onCompact: (info) => compactions.push(info.pauseMs) });
    try {
      await sleep(60);
      expect(compactions).toHaveLength(1);
      const turn = request('/v1/conversations/c/messages');
      await sleep(150);
      expect(compactions).toHaveLength(1); // a request is in flight
      turn.close();
      await sleep(30);
      expect(compactions).toHaveLength(1); // not quiet long enough yet
      await sleep(120);
      expect(compactions).toHaveLength(2);
    } finally {
      stop();
    }
  });

  it('does not count health probes and scrapes as traffic', async () => {
    const { server, request } = fakeServer();
    let compactions = 0;
    const stop = compactWhenIdle(server, { afterStartMs: 10, quietMs: 40, onCompact: () => compactions++ });
    try {
      await sleep(40);
      expect(compactions).toBe(1);
      for (const url of ['/healthz', '/readyz', '/metrics']) request(url).close();
      await sleep(100);
      expect(compactions).toBe(1);
    } finally {
      stop();
    }
  });

  it('stops when asked', async () => {
    const { server } = fakeServer();
    let compactions = 0;
    const stop = compactWhenIdle(server, { afterStartMs: 20, onCompact: () => compactions++ });
    stop();
    await sleep(60);
    expect(compactions).toBe(0);
  });
});
