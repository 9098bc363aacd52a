import type { Clock } from '../../../ports/clock.js';
import type { CapabilityConfig, Tool } from '../../../ports/tools.js';
import { SomaError } from '../../../shared/errors.js';
import { createCalculatorTool } from './calculator-tool.js';
import { createCurrentTimeTool } from './current-time-tool.js';
import { createHttpFetchTool } from './http-fetch-tool.js';
import { createMemorySearchTool, type MemoryRecall } from './memory-search-tool.js';

export interface BuiltinToolDependencies {
  clock: Clock;
  /** Memory recall bound to the capsule whose tools are being built. */
  recall: MemoryRecall;
  /** The egress policy's fetch (`http_fetch` connects only where it allows). */
  fetch: typeof globalThis.fetch;
}

const factories = {
  calculator: ({ capability }) => createCalculatorTool({ capability }),
  current_time: ({ capability, clock }) => createCurrentTimeTool({ capability, clock }),
  memory_search: ({ capability, recall }) => createMemorySearchTool({ capability, recall }),
  http_fetch: ({ capability, fetch }) => createHttpFetchTool({ capability, fetch }),
} satisfies Record<string, (options: BuiltinToolDependencies & { capability: CapabilityConfig }) => Tool>;

export type BuiltinToolName = keyof typeof factories;

/** Names of the tools Soma ships. */
export const builtinToolNames = Object.keys(factories) as BuiltinToolName[];

export function isBuiltinToolName(name: string): name is BuiltinToolName {
  return Object.hasOwn(factories, name);
}

/** Builds the built-in tool a capability names; an unknown name is a configuration fault. */
export function createBuiltinTool({ capability, ...dependencies }: BuiltinToolDependencies & { capability: CapabilityConfig }): Tool {
  if (!isBuiltinToolName(capability.name)) {
    throw new SomaError('CONFIG_INVALID', `unknown built-in tool "${capability.name}" (built-in tools: ${builtinToolNames.join(', ')})`, {
      details: { tool: capability.name, builtin: builtinToolNames },
    });
  }
  return factories[capability.name]({ capability, ...dependencies });
}
