import type { StreamEventBatch } from '../../../ports/store.js';

/**
 * How a batch of SSE events is stored. A model streams an iteration's draft as many `iteration.delta`
 * events (one per word or token: 51 for a 350-byte draft, each `["iteration.delta",{"iteration":k,"text":…}]`),
 * so a run of them — consecutive, of one iteration, nothing but `iteration` and `text` — is stored as one
 * entry `["iteration.delta*", {"iteration": k, "texts": […]}]` (3.4 → 0.9 KB a batch). Reading expands
 * it back, each delta keeping its id (`first` + its place); batches stored before are read as they are.
 */
const DELTA = 'iteration.delta';
const DELTAS = 'iteration.delta*';

function deltaOf(event: string, data: unknown): { iteration: number; text: string } | undefined {
  if (event !== DELTA || data === null || typeof data !== 'object') return undefined;
  const { iteration, text, ...rest } = data as Record<string, unknown>;
  if (typeof iteration !== 'number' || typeof text !== 'string') return undefined;
  for (const _ in rest) return undefined;
  return { iteration, text };
}

/** The batch as stored: runs of plain deltas of one iteration as one entry each. */
export function packBatch(batch: StreamEventBatch): StreamEventBatch {
  const events: [string, unknown][] = [];
  let run: { iteration: number; texts: string[] } | undefined;
  for (const [event, data] of batch.events) {
    const delta = deltaOf(event, data);
    if (delta && run && run.iteration === delta.iteration) {
      run.texts.push(delta.text);
      continue;
    }
    run = undefined;
    if (delta) {
      run = { iteration: delta.iteration, texts: [delta.text] };
      events.push([DELTAS, run]);
    } else events.push([event, data]);
  }
  return { first: batch.first, last: batch.last, events };
}

/** The events of a stored batch, runs of deltas expanded: `[event, data]` of ids `first`, `first + 1`, … */
export function unpackEvents(batch: StreamEventBatch): [string, unknown][] {
  if (!batch.events.some(([event]) => event === DELTAS)) return batch.events;
  const events: [string, unknown][] = [];
  for (const [event, data] of batch.events) {
    if (event !== DELTAS) {
      events.push([event, data]);
      continue;
    }
    const { iteration, texts } = data as { iteration: number; texts: string[] };
    for (const text of texts) events.push([DELTA, { iteration, text }]);
  }
  return events;
}
