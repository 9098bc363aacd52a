/** The lanes of a prompt, each with a share of the context window (SPEC §3). */
export type Lane = 'system' | 'history' | 'memory' | 'tools' | 'tool_results' | 'buffer';

export type LaneBudgets = Record<Lane, number>;

/** Shares of the context window in normal mode. */
export const normalShares: LaneBudgets = { system: 0.15, history: 0.25, memory: 0.25, tools: 0.2, tool_results: 0.1, buffer: 0.05 };
/** Shares in degraded mode (a critical service is known unhealthy): no tools, more buffer. */
export const degradedShares: LaneBudgets = { system: 0.4, history: 0.1, memory: 0.15, tools: 0, tool_results: 0, buffer: 0.35 };
/** Token minimums per lane. */
export const laneMinimums: Partial<LaneBudgets> = { system: 200, memory: 50, buffer: 200 };

export interface AllocateLanesInput {
  /** Context window of the model in tokens. */
  totalTokens: number;
  degraded: boolean;
  /** The memory lane is off (brain unhealthy): its share goes to history. */
  memoryOff?: boolean;
}

/**
 * Token budget per lane. Minimums are honoured first and taken from the lanes without a minimum,
 * so the budgets never sum to more than `totalTokens` when it is large enough to hold the minimums.
 */
export function allocateLanes({ totalTokens, degraded, memoryOff = false }: AllocateLanesInput): LaneBudgets {
  const shares = { ...(degraded ? degradedShares : normalShares) };
  if (memoryOff) {
    shares.history += shares.memory;
    shares.memory = 0;
  }
  const budgets = {} as LaneBudgets;
  for (const lane of Object.keys(shares) as Lane[]) budgets[lane] = Math.floor(totalTokens * shares[lane]);
  let deficit = 0;
  for (const lane of Object.keys(laneMinimums) as Lane[]) {
    if (lane === 'memory' && memoryOff) continue;
    const minimum = laneMinimums[lane]!;
    if (budgets[lane] < minimum) {
      deficit += minimum - budgets[lane];
      budgets[lane] = minimum;
    }
  }
  const flexible = (['history', 'tools', 'tool_results'] as Lane[]).filter((lane) => budgets[lane] > 0);
  const flexibleTotal = flexible.reduce((sum, lane) => sum + budgets[lane], 0);
  if (deficit > 0 && flexibleTotal > 0) {
    for (const lane of flexible) {
      budgets[lane] = Math.max(0, budgets[lane] - Math.ceil((deficit * budgets[lane]) / flexibleTotal));
    }
  }
  return budgets;
}

/**
 * How many tokens the user message of a turn may take: it is the newest message of the history
 * lane, so at most that lane's normal-mode budget (25% of the window: 2,048 of 8,192). Older
 * history gets what the message leaves of the lane (see `buildContext`).
 */
export function userMessageTokenLimit(totalTokens: number): number {
  return allocateLanes({ totalTokens, degraded: false }).history;
}
