import { feedbackStep, resolveLearningConfig, type LearningConfig } from '../../core/learning/index.js';
import type { Weights } from '../../ports/learning.js';
import type { LearningUpdateRecord } from '../../ports/store.js';
import type { ReplayDifference } from './replay-difference.js';
import { sameValue } from './same-value.js';

/**
 * Recomputes each feedback step of a turn (SPEC §13.2 "replayable") from its recorded before-state and
 * inputs — the feedback total, what was credited before, the seed, the lane-sensitive weights and the
 * capsule's learning config at that time — and reports every after-state that differs.
 */
export function replayFeedback(updates: readonly LearningUpdateRecord[], fallback: LearningConfig): ReplayDifference[] {
  const differences: ReplayDifference[] = [];
  for (const update of updates) {
    if (update.kind !== 'learn' || update.source !== 'feedback') continue;
    const inputs = update.inputs as { feedback_total?: number; credited_before?: number; seed?: number; lane_sensitive?: (keyof Weights)[] | null; learning_config?: Record<string, unknown> };
    const config = inputs.learning_config ? resolveLearningConfig(Object.keys(inputs.learning_config).length === 0 ? undefined : inputs.learning_config) : fallback;
    const before = {
      weights: update.weightsBefore,
      neuromodulators: update.neuromodulatorsBefore,
      rewardBaseline: update.baselineBefore,
      ...(Object.keys(update.evidenceBefore).length > 0 ? { evidence: update.evidenceBefore } : {}),
    };
    const step = feedbackStep({
      state: before,
      total: inputs.feedback_total ?? 0,
      credited: inputs.credited_before ?? 0,
      seed: inputs.seed ?? 0,
      laneSensitive: inputs.lane_sensitive ?? undefined,
      config,
    });
    const field = `feedback ${update.iterationNumber}`;
    if (!sameValue(update.weightsAfter, step.state.weights)) differences.push({ iteration: 'turn', field: `${field} weights_after`, recorded: update.weightsAfter, replayed: step.state.weights });
    if (!sameValue(update.evidenceAfter, step.state.evidence ?? {})) differences.push({ iteration: 'turn', field: `${field} evidence_after`, recorded: update.evidenceAfter, replayed: step.state.evidence ?? {} });
  }
  return differences;
}
