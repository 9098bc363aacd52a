export interface ScoredDraft {
  iteration: number;
  content: string;
  convergenceScore: number;
}

/**
 * The answer of a turn: the draft with the highest convergence score; on a tie the later one
 * (it has seen more). Empty drafts only win when there is nothing else.
 */
export function bestDraft<T extends ScoredDraft>(drafts: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const draft of drafts) {
    if (best === undefined) {
      best = draft;
      continue;
    }
    const emptyBest = best.content.trim() === '';
    const emptyDraft = draft.content.trim() === '';
    if (emptyBest && !emptyDraft) best = draft;
    else if (emptyDraft && !emptyBest) continue;
    else if (draft.convergenceScore >= best.convergenceScore) best = draft;
  }
  return best;
}
