import type { IncomingMessage, ServerResponse } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's collector, reached without `--expose-gc` on the command line (as Jest's leak detector does). */
type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

let collect: Collect | undefined;
function collector(): Collect {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as Collect;
    setFlagsFromString('--no-expose-gc');
  }
  return collect;
}

/** One memory-reducing full collection: garbage, unused young-generation pages and pooled pages go back to the system. */
export function compactHeap(): void {
  collector()({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

/** Requests that do not count as traffic: probes and scrapes arrive all the time and allocate little. */
const opsPaths = /^\/(healthz|readyz|metrics)(\?|$)/;

export interface IdleHeapOptions {
  /** First compaction this long after start (start-up's garbage). */
  afterStartMs?: number;
  /** Later ones once no request has been running for this long after traffic. */
  quietMs?: number;
  onCompact?: (info: { rssBeforeMb: number; rssAfterMb: number; pauseMs: number }) => void;
}

/**
 * Gives memory back while the server idles. Start-up (and any burst of turns) grows Node 24's young
 * generation to 2 × 64 MB and leaves garbage behind; an idle process allocates nothing, so V8 never
 * collects and the resident size stays where the burst left it (measured ~410 MB for an idle
 * `soma serve` on PGlite). One memory-reducing collection shortly after start, and another once
 * traffic has stopped for `quietMs` with no request in flight, returns it (a pause of tens of ms,
 * only when nothing is running). Ops probes (`/healthz`, `/readyz`, `/metrics`) are not traffic.
 */
export function compactWhenIdle(
  server: { on(event: 'request', listener: (req: IncomingMessage, res: ServerResponse) => void): unknown },
  { afterStartMs = 1_000, quietMs = 30_000, onCompact }: IdleHeapOptions = {},
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let inFlight = 0;
  let stopped = false;
  const run = () => {
    timer = undefined;
    if (stopped || inFlight > 0) return;
    const before = process.memoryUsage.rss();
    const started = performance.now();
    compactHeap();
    const mb = (bytes: number) => Math.round(bytes / 1048576);
    onCompact?.({ rssBeforeMb: mb(before), rssAfterMb: mb(process.memoryUsage.rss()), pauseMs: Math.round(performance.now() - started) });
  };
  const arm = (ms: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(run, ms);
    timer.unref();
  };
  server.on('request', (req, res) => {
    if (opsPaths.test(req.url ?? '')) return;
    inFlight++;
    if (timer) clearTimeout(timer);
    timer = undefined;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) arm(quietMs);
    });
  });
  arm(afterStartMs);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
