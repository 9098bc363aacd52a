/** Per-turn limits: tokens spent across all iterations, and a wall-clock deadline. */
export interface TurnBudget {
  tokenBudget: number;
  /** Epoch milliseconds after which no new iteration starts. */
  deadline: number;
}

export interface BudgetUse {
  tokensUsed: number;
  now: number;
}

/** True when the turn has spent its tokens or passed its deadline. */
export function isBudgetExhausted(budget: TurnBudget, use: BudgetUse): boolean {
  return use.tokensUsed >= budget.tokenBudget || use.now >= budget.deadline;
}
