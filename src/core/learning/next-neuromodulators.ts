import { neuromodulatorNames, type Neuromodulators } from '../../ports/learning.js';
import { clamp } from './clamp.js';
import { qualityOf, type LearningMetrics } from './compute-reward.js';
import { learningConstants, type LearningConfig } from './learning-constants.js';

/**
 * SPEC §5 step 5. Dopamine and serotonin are set from the iteration's quality (the reward's quality
 * term: the answer's real score, else reduced self-confidence); norepinephrine rises by a step when the iteration took
 * longer than the threshold, else decays; acetylcholine rises when tools ran (`tools_used` non-empty),
 * else decays. Every level is clamped to its range.
 */
export function nextNeuromodulators({
  neuromodulators,
  metrics,
  config = learningConstants,
}: {
  neuromodulators: Neuromodulators;
  metrics: Pick<LearningMetrics, 'confidence' | 'convergence_score' | 'answer_score' | 'latency_ms' | 'tools_used'>;
  config?: LearningConfig;
}): Neuromodulators {
  const rule = config.neuromodulator_rules;
  const quality = qualityOf(metrics, config);
  const raw: Neuromodulators = {
    dopamine: rule.dopamine_base + (quality - 0.5) * rule.dopamine_slope,
    serotonin: rule.serotonin_base + (quality - 0.5) * rule.serotonin_slope,
    norepinephrine:
      metrics.latency_ms > rule.norepinephrine_latency_ms
        ? neuromodulators.norepinephrine + rule.norepinephrine_step
        : neuromodulators.norepinephrine * rule.decay_factor,
    acetylcholine:
      metrics.tools_used.length > 0 ? neuromodulators.acetylcholine + rule.acetylcholine_step : neuromodulators.acetylcholine * rule.decay_factor,
  };
  const out = { ...raw };
  for (const name of neuromodulatorNames) {
    const range = config.neuromodulators[name];
    out[name] = clamp(raw[name], range.min, range.max);
  }
  return out;
}
