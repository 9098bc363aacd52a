import { z } from 'zod';
import { neuromodulatorNames, weightNames } from '../../ports/learning.js';
import { SomaError, type Failure } from '../../shared/errors.js';
import { ok, refuse, type Result } from '../../shared/result.js';
import { learningConstants, type LearningConfig } from './learning-constants.js';

const finite = z.number();
const nonNegative = z.number().min(0);
const positive = z.number().gt(0);
const unit = z.number().min(0).max(1);

const weightRuleOverride = z.strictObject({
  default: finite.optional(),
  min: finite.optional(),
  max: finite.optional(),
  gain: finite.optional(),
  rate: nonNegative.optional(),
  scale: positive.optional(),
});

const rangeOverride = z.strictObject({
  default: finite.optional(),
  min: finite.optional(),
  max: finite.optional(),
});

const weightsOverride = z.strictObject({
  alpha: weightRuleOverride.optional(),
  beta: weightRuleOverride.optional(),
  gamma: weightRuleOverride.optional(),
  tau: weightRuleOverride.optional(),
  lambda: weightRuleOverride.optional(),
  mu: weightRuleOverride.optional(),
  nu: weightRuleOverride.optional(),
});

const neuromodulatorsOverride = z.strictObject({
  dopamine: rangeOverride.optional(),
  serotonin: rangeOverride.optional(),
  norepinephrine: rangeOverride.optional(),
  acetylcholine: rangeOverride.optional(),
});

/**
 * A capsule's scorer (SPEC §13.2): a regular expression (RE2 syntax, linear time) or a JSON Schema the
 * answer must satisfy (score 1, else 0), or a judge model the operator configured, named here. Its score
 * becomes the reward's quality instead of self-confidence.
 */
export const scorerSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('regex'), pattern: z.string().min(1).max(1000), flags: z.string().regex(/^[ims]*$/, 'flags may be i, m, s').optional() }),
  z.strictObject({ type: z.literal('json_schema'), schema: z.record(z.string(), z.unknown()) }),
  z.strictObject({ type: z.literal('judge'), judge: z.string().min(1).max(64) }),
]);

/** Schema of a capsule's `learning_config` jsonb: every field optional, unknown fields rejected. */
export const learningConfigOverridesSchema = z.strictObject({
  update_rule: z.enum(['perturbation', 'gain']).optional(),
  exploration: unit.optional(),
  prior_strength: nonNegative.optional(),
  evidence_z: positive.optional(),
  evidence_min_samples: z.number().int().min(1).max(100_000).optional(),
  evidence_window: z.number().int().min(1).max(1_000_000).optional(),
  step_initial: positive.optional(),
  step_growth: z.number().min(1).max(10).optional(),
  step_shrink: z.number().gt(0).max(1).optional(),
  step_max: positive.optional(),
  step_min: positive.optional(),
  self_confidence_weight: unit.optional(),
  feedback_weight: nonNegative.optional(),
  memory_scope: z.enum(['user', 'capsule']).optional(),
  memory_limit: z.number().int().min(1).max(1_000_000).optional(),
  memory_min_quality: unit.optional(),
  scorer: scorerSchema.optional(),
  weights: weightsOverride.optional(),
  neuromodulators: neuromodulatorsOverride.optional(),
  lr_base: nonNegative.optional(),
  baseline_rate: z.number().gt(0).max(1).optional(),
  initial_reward_baseline: finite.optional(),
  learn_threshold: finite.optional(),
  salience_novelty_weight: nonNegative.optional(),
  salience_advantage_weight: nonNegative.optional(),
  dopamine_factor_min: positive.optional(),
  dopamine_factor_max: positive.optional(),
  tau_decay: z.number().min(0).lt(1).optional(),
  reward: z
    .strictObject({
      tool_success_weight: nonNegative.optional(),
      latency_free_s: nonNegative.optional(),
      latency_penalty_per_s: nonNegative.optional(),
      latency_penalty_max: nonNegative.optional(),
      cost_free_tokens: nonNegative.optional(),
      cost_penalty_per_1k_tokens: nonNegative.optional(),
      cost_penalty_max: nonNegative.optional(),
    })
    .optional(),
  neuromodulator_rules: z
    .strictObject({
      dopamine_base: finite.optional(),
      dopamine_slope: finite.optional(),
      serotonin_base: finite.optional(),
      serotonin_slope: finite.optional(),
      norepinephrine_latency_ms: nonNegative.optional(),
      norepinephrine_step: nonNegative.optional(),
      acetylcholine_step: nonNegative.optional(),
      decay_factor: unit.optional(),
    })
    .optional(),
  recency_half_life_s: positive.optional(),
  tau_drives_temperature: z.boolean().optional(),
  // Turn settings that live in the same jsonb (the turn reads them; learning ignores them).
  temperature: z.number().min(0).max(2).optional(),
  message_overflow: z.enum(['refuse', 'truncate']).optional(),
});

/** The `learning_config` jsonb a capsule may carry (all fields optional). */
export type LearningConfigOverrides = z.infer<typeof learningConfigOverridesSchema>;

/**
 * Merges a capsule's `learning_config` jsonb over {@link learningConstants}.
 * `null`/`undefined` mean "no overrides". Invalid input throws `SomaError('VALIDATION_FAILED')`
 * whose message names every offending field (e.g. `learning_config.weights.alpha.min: …`).
 */
export function resolveLearningConfig(overrides: unknown): LearningConfig {
  const parsed = parseLearningConfig(overrides);
  if (!parsed.ok) throw new SomaError(parsed.error.code, parsed.error.message, { details: parsed.error.details });
  return parsed.value;
}

/** {@link resolveLearningConfig} with invalid input as a returned `VALIDATION_FAILED` failure (a tenant's capsule body). */
export function parseLearningConfig(overrides: unknown): Result<LearningConfig, Failure> {
  if (overrides === null || overrides === undefined) return ok(cloneConfig(learningConstants));
  const parsed = learningConfigOverridesSchema.safeParse(overrides);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${fieldPath(issue.path)}: ${issue.message}`);
    return invalid(problems, parsed.error.issues);
  }
  const o = parsed.data;
  const base = learningConstants;
  const config: LearningConfig = {
    update_rule: o.update_rule ?? base.update_rule,
    exploration: o.exploration ?? base.exploration,
    prior_strength: o.prior_strength ?? base.prior_strength,
    evidence_z: o.evidence_z ?? base.evidence_z,
    evidence_min_samples: o.evidence_min_samples ?? base.evidence_min_samples,
    evidence_window: o.evidence_window ?? base.evidence_window,
    step_initial: o.step_initial ?? base.step_initial,
    step_growth: o.step_growth ?? base.step_growth,
    step_shrink: o.step_shrink ?? base.step_shrink,
    step_max: o.step_max ?? base.step_max,
    step_min: o.step_min ?? base.step_min,
    self_confidence_weight: o.self_confidence_weight ?? base.self_confidence_weight,
    feedback_weight: o.feedback_weight ?? base.feedback_weight,
    memory_scope: o.memory_scope ?? base.memory_scope,
    memory_limit: o.memory_limit ?? base.memory_limit,
    memory_min_quality: o.memory_min_quality ?? base.memory_min_quality,
    ...(o.scorer ? { scorer: o.scorer } : {}),
    weights: {
      alpha: { ...base.weights.alpha, ...o.weights?.alpha },
      beta: { ...base.weights.beta, ...o.weights?.beta },
      gamma: { ...base.weights.gamma, ...o.weights?.gamma },
      tau: { ...base.weights.tau, ...o.weights?.tau },
      lambda: { ...base.weights.lambda, ...o.weights?.lambda },
      mu: { ...base.weights.mu, ...o.weights?.mu },
      nu: { ...base.weights.nu, ...o.weights?.nu },
    },
    neuromodulators: {
      dopamine: { ...base.neuromodulators.dopamine, ...o.neuromodulators?.dopamine },
      serotonin: { ...base.neuromodulators.serotonin, ...o.neuromodulators?.serotonin },
      norepinephrine: { ...base.neuromodulators.norepinephrine, ...o.neuromodulators?.norepinephrine },
      acetylcholine: { ...base.neuromodulators.acetylcholine, ...o.neuromodulators?.acetylcholine },
    },
    lr_base: o.lr_base ?? base.lr_base,
    baseline_rate: o.baseline_rate ?? base.baseline_rate,
    initial_reward_baseline: o.initial_reward_baseline ?? base.initial_reward_baseline,
    learn_threshold: o.learn_threshold ?? base.learn_threshold,
    salience_novelty_weight: o.salience_novelty_weight ?? base.salience_novelty_weight,
    salience_advantage_weight: o.salience_advantage_weight ?? base.salience_advantage_weight,
    dopamine_factor_min: o.dopamine_factor_min ?? base.dopamine_factor_min,
    dopamine_factor_max: o.dopamine_factor_max ?? base.dopamine_factor_max,
    tau_decay: o.tau_decay ?? base.tau_decay,
    reward: { ...base.reward, ...o.reward },
    neuromodulator_rules: { ...base.neuromodulator_rules, ...o.neuromodulator_rules },
    recency_half_life_s: o.recency_half_life_s ?? base.recency_half_life_s,
    tau_drives_temperature: o.tau_drives_temperature ?? base.tau_drives_temperature,
  };

  const problems: string[] = [];
  for (const name of weightNames) {
    const rule = config.weights[name];
    if (rule.min > rule.max) problems.push(`learning_config.weights.${name}: min ${rule.min} is above max ${rule.max}`);
    else if (rule.default < rule.min || rule.default > rule.max) {
      problems.push(`learning_config.weights.${name}.default: ${rule.default} is outside [${rule.min}, ${rule.max}]`);
    }
  }
  if (config.weights.tau.min <= 0) problems.push(`learning_config.weights.tau.min: must be above 0 (τ divides the recall scores)`);
  for (const name of neuromodulatorNames) {
    const range = config.neuromodulators[name];
    if (range.min > range.max) problems.push(`learning_config.neuromodulators.${name}: min ${range.min} is above max ${range.max}`);
    else if (range.default < range.min || range.default > range.max) {
      problems.push(`learning_config.neuromodulators.${name}.default: ${range.default} is outside [${range.min}, ${range.max}]`);
    }
  }
  if (config.step_min > config.step_max) problems.push(`learning_config.step_min: ${config.step_min} is above step_max ${config.step_max}`);
  if (config.dopamine_factor_min > config.dopamine_factor_max) {
    problems.push(`learning_config.dopamine_factor_min: ${config.dopamine_factor_min} is above dopamine_factor_max ${config.dopamine_factor_max}`);
  }
  if (problems.length > 0) return refuse('INVALID_COMBINATION', `Invalid learning_config — ${problems.join('; ')}`, problems);
  return ok(config);
}

function fieldPath(path: readonly PropertyKey[]): string {
  return ['learning_config', ...path.map(String)].join('.');
}

function invalid(problems: string[], details: unknown): Result<never, Failure> {
  return refuse('VALIDATION_FAILED', `Invalid learning_config — ${problems.join('; ')}`, details);
}

/** The constants as JSON, parsed for a fresh copy (a capsule without overrides: every turn). */
let constantsJson: string | undefined;

function cloneConfig(config: LearningConfig): LearningConfig {
  if (config === learningConstants) return JSON.parse((constantsJson ??= JSON.stringify(learningConstants))) as LearningConfig;
  return structuredClone(config);
}
