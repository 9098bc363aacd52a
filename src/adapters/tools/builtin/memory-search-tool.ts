import type { RecalledMemory } from '../../../ports/brain.js';
import type { CapabilityConfig, Tool } from '../../../ports/tools.js';

/** `Brain['recall']` bound to one tenant and capsule. */
export type MemoryRecall = (query: { query: string; top_k: number }) => Promise<RecalledMemory[]>;

/** `memory_search {query, top_k?}` → `{results: [{key, content, score}]}` from the capsule's memory. */
export function createMemorySearchTool({ capability, recall }: { capability: CapabilityConfig; recall: MemoryRecall }): Tool {
  return {
    capability,
    definition: {
      name: capability.name,
      description: capability.description ?? "Searches this agent's long-term memory and returns the most relevant stored memories.",
      inputSchema: {
        type: 'object',
        properties: {
          query: { type: 'string', minLength: 1, maxLength: 2000, description: 'What to look for' },
          top_k: { type: 'integer', minimum: 1, maximum: 20, description: 'How many memories to return (default 5)' },
        },
        required: ['query'],
        additionalProperties: false,
      },
    },
    async execute(args) {
      const { query, top_k = 5 } = args as { query: string; top_k?: number };
      const memories = await recall({ query, top_k });
      return { results: memories.slice(0, top_k).map(({ key, content, score }) => ({ key, content, score })) };
    },
  };
}
