import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StreamEventBatch } from '../../../ports/store.js';
import { packBatch, unpackEvents } from './stream-event-batch.js';

const event = fc.oneof(
  fc.record({ iteration: fc.integer({ min: 0, max: 3 }), text: fc.string() }).map((data) => ['iteration.delta', data] as [string, unknown]),
  // Deltas that are not plain: another key, a text that is no string — stored as they are.
  fc.record({ iteration: fc.integer({ min: 0, max: 3 }), text: fc.string(), extra: fc.boolean() }).map((data) => ['iteration.delta', data] as [string, unknown]),
  fc.record({ iteration: fc.integer({ min: 0, max: 3 }), text: fc.integer() }).map((data) => ['iteration.delta', data] as [string, unknown]),
  fc.constant(['iteration.delta', null] as [string, unknown]),
  fc.record({ iteration: fc.integer({ min: 0, max: 3 }) }).map((data) => ['iteration.started', data] as [string, unknown]),
  fc.record({ iteration: fc.integer({ min: 0, max: 3 }), confidence: fc.double({ noNaN: true }) }).map((data) => ['iteration.completed', data] as [string, unknown]),
);

describe('stored SSE batches', () => {
  it('reads back every event of a batch, in order, whatever runs of deltas it holds', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 80 }), fc.integer({ min: 1, max: 1000 }), (events, first) => {
        const batch: StreamEventBatch = { first, last: first + events.length - 1, events };
        const stored = JSON.parse(JSON.stringify(packBatch(batch))) as StreamEventBatch;
        expect(stored.first).toBe(batch.first);
        expect(stored.last).toBe(batch.last);
        expect(unpackEvents(stored)).toEqual(JSON.parse(JSON.stringify(events)));
      }),
      { numRuns: 500 },
    );
  });

  it("stores an iteration's streamed draft as one entry", () => {
    const words = 'Draft v1: The answer is built from first principles, checked against the constraints.'.match(/\S+\s*/g)!;
    const events: [string, unknown][] = [['iteration.started', { iteration: 0 }], ...words.map((text) => ['iteration.delta', { iteration: 0, text }] as [string, unknown]), ['iteration.completed', { iteration: 0 }]];
    const packed = packBatch({ first: 2, last: 2 + events.length - 1, events });
    expect(packed.events).toHaveLength(3);
    expect(JSON.stringify(packed).length).toBeLessThan(JSON.stringify(events).length / 2);
    expect(unpackEvents(packed)).toEqual(events);
  });
});
