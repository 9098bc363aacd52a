import { describe, expect, it } from 'vitest';
import type { RecalledMemory } from '../../../ports/brain.js';
import { createMemorySearchTool } from './memory-search-tool.js';

const context = { tenantId: 't', capsuleId: 'c', userId: 'u', turnId: 'turn', iteration: 0, signal: new AbortController().signal };

describe('memory_search', () => {
  it('passes the query to the bound recall and returns key, content and score', async () => {
    const queries: unknown[] = [];
    const memories: RecalledMemory[] = [
      { key: 'k1', content: 'the user likes tea', score: 0.7, raw: 1.2 },
      { key: 'k2', content: 'the user lives in Lyon', score: 0.3, raw: 0.4 },
    ];
    const tool = createMemorySearchTool({
      capability: { name: 'memory_search', kind: 'builtin', enabled: true },
      recall: async (query) => {
        queries.push(query);
        return memories.slice(0, query.top_k);
      },
    });
    expect(await tool.execute({ query: 'drinks' }, context)).toEqual({
      results: [
        { key: 'k1', content: 'the user likes tea', score: 0.7 },
        { key: 'k2', content: 'the user lives in Lyon', score: 0.3 },
      ],
    });
    expect(await tool.execute({ query: 'drinks', top_k: 1 }, context)).toEqual({ results: [{ key: 'k1', content: 'the user likes tea', score: 0.7 }] });
    expect(queries).toEqual([{ query: 'drinks', top_k: 5 }, { query: 'drinks', top_k: 1 }]);
  });
});
