import { describe, expect, it } from 'vitest';
import type { StoredIteration } from '../ports/store.js';
import { iterationView } from './trace.js';

const iteration = (n: number, metadata: Record<string, unknown>) =>
  ({
    id: `i${n}`,
    turnId: 't',
    conversationId: 'c',
    iterationNumber: n,
    content: `draft ${n}`,
    metadata,
    startedAt: new Date(0),
    completedAt: new Date(0),
    createdAt: new Date(0),
  }) as unknown as StoredIteration;

describe('iterationView', () => {
  const memories = [{ key: 'turn:a', content: 'Q: a\nA: b', score: 1 }];

  it("shows the turn's memories on an iteration that does not store them (only the first one does)", () => {
    expect(iterationView(iteration(2, { learning: 'applied' }), memories).metadata).toEqual({ learning: 'applied', memories });
  });

  it("keeps an iteration's own memories, and shows none when the turn recalled none", () => {
    const own = [{ key: 'turn:z', content: 'other', score: 0.5 }];
    expect(iterationView(iteration(0, { memories: own }), memories).metadata).toEqual({ memories: own });
    expect(iterationView(iteration(1, { learning: 'gated' })).metadata).toEqual({ learning: 'gated' });
  });
});
