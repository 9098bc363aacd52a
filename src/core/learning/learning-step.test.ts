import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { neuromodulatorNames, weightNames, type LearnedState } from '../../ports/learning.js';
import { isSomaError } from '../../shared/errors.js';
import { mulberry32 } from '../../shared/mulberry32.js';
import { defaultLearnedState } from './default-learned-state.js';
import { learningConstants } from './learning-constants.js';
import { learningStep, type LearningStepResult } from './learning-step.js';
import type { LearningMetrics } from './compute-reward.js';
import { resolveLearningConfig } from './resolve-learning-config.js';
import { explorationSigns, explorationWeights } from './exploration-weights.js';
import { feedbackStep } from './feedback-step.js';

/** SPEC §5's literal fixed-gain rule, still selectable per capsule (with self-confidence at full weight, as §5 wrote it). */
const gainRule = resolveLearningConfig({ update_rule: 'gain', self_confidence_weight: 1 });
/** SPEC §5's reward read literally (self-confidence at full weight) under the default rule. */
const literalReward = resolveLearningConfig({ self_confidence_weight: 1 });

const quiet: LearningMetrics = {
  confidence: 0.5,
  convergence_score: 0.5,
  tool_success_rate: 1,
  latency_ms: 1000,
  prompt_tokens: 1000,
  completion_tokens: 200,
  novelty: 0.8,
  tools_used: [],
};

/** A small seeded PRNG so long streams are reproducible. */
const prng = mulberry32;

const metricsArbitrary: fc.Arbitrary<LearningMetrics> = fc.record({
  confidence: fc.option(fc.double({ min: -1, max: 2, noNaN: true }), { nil: null }),
  convergence_score: fc.double({ min: -1, max: 2, noNaN: true }),
  tool_success_rate: fc.double({ min: -1, max: 2, noNaN: true }),
  latency_ms: fc.double({ min: -1000, max: 120_000, noNaN: true }),
  prompt_tokens: fc.integer({ min: -10, max: 200_000 }),
  completion_tokens: fc.integer({ min: -10, max: 50_000 }),
  novelty: fc.double({ min: -1, max: 2, noNaN: true }),
  tools_used: fc.array(fc.constantFrom('calculator', 'http_fetch'), { maxLength: 3 }),
  seed: fc.option(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { nil: undefined }),
});

const stateArbitrary: fc.Arbitrary<LearnedState> = fc.record({
  weights: fc.record({
    alpha: fc.double({ min: 0.1, max: 5, noNaN: true }),
    beta: fc.double({ min: 0, max: 1, noNaN: true }),
    gamma: fc.double({ min: 0, max: 1, noNaN: true }),
    tau: fc.double({ min: 0.05, max: 2, noNaN: true }),
    lambda: fc.double({ min: 0.1, max: 5, noNaN: true }),
    mu: fc.double({ min: 0.01, max: 5, noNaN: true }),
    nu: fc.double({ min: 0.01, max: 5, noNaN: true }),
  }),
  neuromodulators: fc.record({
    dopamine: fc.double({ min: 0.2, max: 0.8, noNaN: true }),
    serotonin: fc.double({ min: 0, max: 1, noNaN: true }),
    norepinephrine: fc.double({ min: 0, max: 0.1, noNaN: true }),
    acetylcholine: fc.double({ min: 0, max: 0.1, noNaN: true }),
  }),
  rewardBaseline: fc.double({ min: -0.4, max: 1.5, noNaN: true }),
});

function expectWithinBounds(state: LearnedState): void {
  for (const name of weightNames) {
    const rule = learningConstants.weights[name];
    expect(state.weights[name]).toBeGreaterThanOrEqual(rule.min);
    expect(state.weights[name]).toBeLessThanOrEqual(rule.max);
  }
  for (const name of neuromodulatorNames) {
    const range = learningConstants.neuromodulators[name];
    expect(state.neuromodulators[name]).toBeGreaterThanOrEqual(range.min);
    expect(state.neuromodulators[name]).toBeLessThanOrEqual(range.max);
  }
}

function atBound(state: LearnedState): string[] {
  return weightNames.filter((name) => {
    const rule = learningConstants.weights[name];
    return rule.rate > 0 && (state.weights[name] <= rule.min || state.weights[name] >= rule.max);
  });
}

describe('learningStep with the gain rule (SPEC §5 literal)', () => {
  it('computes SPEC §5 steps 1–5 on a worked example', () => {
    const result = learningStep({
      state: defaultLearnedState(),
      metrics: { ...quiet, confidence: 0.9, latency_ms: 3000, prompt_tokens: 4500, completion_tokens: 500, novelty: 0.5, tools_used: ['calculator'] },
      config: gainRule,
    });
    // r = 0.9 + 0.5·1 − 0.02·(3 − 2) − 0.02·(5000 − 4000)/1000 = 1.36; r̄ was 1.0.
    expect(result.reward).toBeCloseTo(1.36, 12);
    expect(result.advantage).toBeCloseTo(0.36, 12);
    expect(result.salience).toBeCloseTo(0.5 * 0.5 + 0.5 * 0.36, 12);
    expect(result.learned).toBe(true);
    expect(result.effectiveLearningRate).toBeCloseTo(0.045, 12);
    expect(result.state.rewardBaseline).toBeCloseTo(1.072, 12);
    const w = result.state.weights;
    expect(w.alpha).toBeCloseTo(1 + 0.045 * 0.36, 12);
    expect(w.beta).toBe(0.2);
    expect(w.gamma).toBeCloseTo(0.1 - 0.045 * 0.5 * 0.36, 12);
    expect(w.tau).toBe(0.7);
    expect(w.lambda).toBeCloseTo(1 + 0.045 * 0.36, 12);
    expect(w.mu).toBeCloseTo(0.1 - 0.045 * 0.25 * 0.36, 12);
    expect(w.nu).toBeCloseTo(0.05 - 0.045 * 0.25 * 0.36, 12);
    expect(result.deltas.alpha).toBeCloseTo(0.045 * 0.36, 12);
    expect(result.deltas.beta).toBe(0);
    const n = result.state.neuromodulators;
    expect(n.dopamine).toBeCloseTo(0.48, 12);
    expect(n.serotonin).toBeCloseTo(0.54, 12);
    expect(n.norepinephrine).toBe(0);
    expect(n.acetylcholine).toBeCloseTo(0.01, 12);
  });

  it('uses the convergence score when confidence is null', () => {
    const withNull = learningStep({ state: defaultLearnedState(), metrics: { ...quiet, confidence: null, convergence_score: 0.7 }, config: gainRule });
    const withConfidence = learningStep({ state: defaultLearnedState(), metrics: { ...quiet, confidence: 0.7, convergence_score: 0.1 }, config: gainRule });
    expect(withNull.reward).toBe(withConfidence.reward);
    expect(withNull.state).toEqual(withConfidence.state);
  });

  it('leaves weights and baseline alone when salience is below the threshold, but still updates neuromodulators', () => {
    const start = defaultLearnedState();
    const result = learningStep({
      state: start,
      metrics: { ...quiet, confidence: 0.7, novelty: 0.1, latency_ms: 8000, tools_used: ['calculator'] },
      config: gainRule,
    });
    // r = 0.7 + 0.5 − 0.12 = 1.08, a = 0.08, salience = 0.05 + 0.04 = 0.09.
    expect(result.learned).toBe(false);
    expect(result.state.weights).toEqual(start.weights);
    expect(result.state.rewardBaseline).toBe(start.rewardBaseline);
    expect(Object.values(result.deltas).every((d) => d === 0)).toBe(true);
    expect(result.state.neuromodulators.norepinephrine).toBeCloseTo(0.01, 12);
    expect(result.state.neuromodulators.acetylcholine).toBeCloseTo(0.01, 12);
    expect(result.state.neuromodulators.dopamine).toBeCloseTo(0.44, 12);
  });

  it('moves the weights against their gains when the iteration was worse than expected', () => {
    const result = learningStep({ state: defaultLearnedState(), metrics: { ...quiet, confidence: 0.1, tool_success_rate: 0 }, config: gainRule });
    expect(result.advantage).toBeLessThan(0);
    expect(result.deltas.alpha).toBeLessThan(0);
    expect(result.deltas.gamma).toBeGreaterThan(0);
    expect(result.deltas.mu).toBeGreaterThan(0);
  });

  it('decays τ on learned steps when tau_decay is configured, never below τ_min', () => {
    const config = resolveLearningConfig({ tau_decay: 0.5 });
    let state = defaultLearnedState({ config });
    state = learningStep({ state, metrics: quiet, config }).state;
    expect(state.weights.tau).toBeCloseTo(0.35, 12);
    for (let i = 0; i < 20; i += 1) state = learningStep({ state, metrics: quiet, config }).state;
    expect(state.weights.tau).toBe(0.05);
    expect(learningStep({ state: defaultLearnedState(), metrics: quiet }).state.weights.tau).toBe(0.7);
  });

  it('rejects non-finite metrics and state with a validation error naming the field', () => {
    const call = (): LearningStepResult => learningStep({ state: defaultLearnedState(), metrics: { ...quiet, latency_ms: Number.NaN } });
    expect(call).toThrow(/latency_ms/);
    try {
      call();
    } catch (error) {
      expect(isSomaError(error) && error.code).toBe('VALIDATION_FAILED');
    }
    const broken = defaultLearnedState();
    broken.weights.gamma = Number.POSITIVE_INFINITY;
    expect(() => learningStep({ state: broken, metrics: quiet })).toThrow(/weights\.gamma/);
  });

  it('keeps every weight and neuromodulator within its bounds for any metric stream', () => {
    fc.assert(
      fc.property(stateArbitrary, fc.array(metricsArbitrary, { minLength: 1, maxLength: 60 }), (start, stream) => {
        let state = start;
        for (const metrics of stream) {
          state = learningStep({ state, metrics }).state;
          expectWithinBounds(state);
          expect(Number.isFinite(state.rewardBaseline)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives bit-identical results for the same state and metrics', () => {
    fc.assert(
      fc.property(stateArbitrary, metricsArbitrary, (state, metrics) => {
        const first = learningStep({ state: structuredClone(state), metrics: structuredClone(metrics) });
        const second = learningStep({ state: structuredClone(state), metrics: structuredClone(metrics) });
        for (const name of weightNames) {
          expect(Object.is(first.state.weights[name], second.state.weights[name])).toBe(true);
          expect(Object.is(first.deltas[name], second.deltas[name])).toBe(true);
        }
        for (const name of neuromodulatorNames) {
          expect(Object.is(first.state.neuromodulators[name], second.state.neuromodulators[name])).toBe(true);
        }
        for (const field of ['reward', 'advantage', 'salience', 'learned', 'effectiveLearningRate'] as const) {
          expect(Object.is(first[field], second[field])).toBe(true);
        }
        expect(Object.is(first.state.rewardBaseline, second.state.rewardBaseline)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('does not drift any weight to a bound over 2,000 steps of zero-mean rewards', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.double({ min: 0.1, max: 0.9, noNaN: true }),
        fc.double({ min: 0.05, max: 0.3, noNaN: true }),
        (seed, mean, spread) => {
          const random = prng(seed);
          let state = defaultLearnedState();
          const alphaAt: number[] = [];
          for (let k = 0; k < 2000; k += 1) {
            const confidence = Math.min(1, Math.max(0, mean + (random() * 2 - 1) * spread));
            // Novelty independent of the reward and spread over [0, 1], so the gate opens on some steps and not others.
            state = learningStep({ state, metrics: { ...quiet, confidence, novelty: random() }, config: gainRule }).state;
            expect(atBound(state)).toEqual([]);
            if (k === 999 || k === 1999) alphaAt.push(state.weights.alpha);
          }
          // Settled, not drifting: the second thousand steps move α far less than one learning step's worth per 10 steps.
          expect(Math.abs(alphaAt[1]! - alphaAt[0]!)).toBeLessThan(0.1);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('settles under a symmetric alternating confidence', () => {
    let state = defaultLearnedState();
    for (let k = 0; k < 2000; k += 1) {
      state = learningStep({ state, metrics: { ...quiet, confidence: k % 2 === 0 ? 0.9 : 0.1 }, config: gainRule }).state;
      expect(atBound(state)).toEqual([]);
    }
    expect(state.weights.alpha).toBeGreaterThan(0.9);
    expect(state.weights.alpha).toBeLessThan(1.1);
    expect(state.weights.gamma).toBeGreaterThan(0.05);
  });

  it('keeps every weight on the line p = p₀ + (lr_base·f₀/baseline_rate)·gain·(r̄ − r̄₀) for any stream', () => {
    const slope = (learningConstants.lr_base * 0.9) / learningConstants.baseline_rate;
    fc.assert(
      fc.property(fc.array(metricsArbitrary, { minLength: 1, maxLength: 200 }), (stream) => {
        const start = defaultLearnedState();
        let state = start;
        for (const metrics of stream) {
          state = learningStep({ state, metrics, config: gainRule }).state;
          const shift = state.rewardBaseline - start.rewardBaseline;
          for (const name of weightNames) {
            const expected = start.weights[name] + slope * learningConstants.weights[name].gain * shift;
            expect(Math.abs(state.weights[name] - expected)).toBeLessThan(1e-9);
          }
        }
        expect(state.weights.alpha).toBeGreaterThanOrEqual(0.685 - 1e-9);
        expect(state.weights.alpha).toBeLessThanOrEqual(1.1125 + 1e-9);
      }),
      { numRuns: 300 },
    );
  });

  it('makes r̄ track the mean reward', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.double({ min: 0.1, max: 0.9, noNaN: true }), (seed, mean) => {
        const random = prng(seed);
        let state = defaultLearnedState();
        let baselineSum = 0;
        for (let k = 0; k < 1000; k += 1) {
          const confidence = mean + (random() * 2 - 1) * 0.1;
          state = learningStep({ state, metrics: { ...quiet, confidence, novelty: 0.7 }, config: literalReward }).state;
          if (k >= 500) baselineSum += state.rewardBaseline;
        }
        // Mean reward = mean confidence + 0.5 (every tool succeeded, no penalty).
        expect(Math.abs(baselineSum / 500 - (mean + 0.5))).toBeLessThan(0.02);
      }),
      { numRuns: 30 },
    );
  });

  it('does not saturate α under an always-positive constant confidence: the advantage decays to 0', () => {
    let state = defaultLearnedState();
    let result: LearningStepResult | undefined;
    const advantages: number[] = [];
    for (let k = 0; k < 500; k += 1) {
      result = learningStep({ state, metrics: { ...quiet, confidence: 0.95 }, config: gainRule });
      advantages.push(result.advantage);
      state = result.state;
    }
    expect(advantages[0]).toBeCloseTo(0.45, 12);
    expect(Math.abs(advantages.at(-1)!)).toBeLessThan(1e-9);
    expect(state.rewardBaseline).toBeCloseTo(1.45, 9);
    // Total move of α = lr_eff·Σa ≈ 0.049·0.45/0.2 ≈ 0.11 — nowhere near the plan's saturation at 5.
    expect(state.weights.alpha).toBeGreaterThan(1.05);
    expect(state.weights.alpha).toBeLessThan(1.2);
    expect(state.weights.gamma).toBeGreaterThan(0.04);
    expect(Math.abs(result!.deltas.alpha)).toBeLessThan(1e-9);
  });
});

describe('learningStep with the perturbation rule (default)', () => {
  const c = learningConstants;
  /** A rule that decides on the first credit: one step shows the move's size and direction. */
  const eager = resolveLearningConfig({ evidence_min_samples: 1, evidence_z: 0.5 });

  it('gathers a·ε as evidence and moves a weight by lr_eff·step·rate·scale only once the evidence is significant', () => {
    const seed = 12345;
    const eps = explorationSigns({ seed });
    const metrics = { ...quiet, confidence: 0.9, novelty: 0.5, seed };
    const result = learningStep({ state: defaultLearnedState(), metrics });
    // r = (0.5 + 0.5·0.4) + 0.5 = 1.2, a = 0.2; one credit (n = 1) is below evidence_min_samples: nothing moves yet.
    expect(result.advantage).toBeCloseTo(0.2, 12);
    expect(result.credited).toBe(true);
    expect(result.state.weights).toEqual(defaultLearnedState().weights);
    const alpha = result.state.evidence!.alpha!;
    expect(alpha).toMatchObject({ n: 1, step: c.step_initial, last: 0 });
    expect(alpha.sum).toBeCloseTo(result.advantage * eps.alpha, 12);
    expect(alpha.sum_sq).toBeCloseTo(result.advantage ** 2, 12);
    // With a test that decides at once, α moves towards the side it explored, by lr_eff·step_initial·rate·scale.
    const moved = learningStep({ state: defaultLearnedState(), metrics, config: eager });
    expect(moved.state.weights.alpha).toBeCloseTo(1 + eps.alpha * 0.045 * c.step_initial * 1 * 1.5, 12);
    expect(moved.state.weights.gamma).toBeCloseTo(0.1 + eps.gamma * 0.045 * c.step_initial * 0.5 * 1, 12);
    expect(moved.state.evidence!.alpha).toMatchObject({ n: 0, sum: 0, sum_sq: 0, last: eps.alpha });
  });

  it('moves a weight only when its evidence passes the test, in the evidence’s direction, whatever the stream', () => {
    fc.assert(
      fc.property(fc.array(metricsArbitrary, { minLength: 1, maxLength: 120 }), (stream) => {
        let state = defaultLearnedState();
        for (const metrics of stream) {
          const before = state;
          const result = learningStep({ state, metrics: { ...metrics, seed: metrics.seed ?? 7 } });
          state = result.state;
          for (const name of weightNames) {
            const delta = state.weights[name] - before.weights[name];
            if (delta === 0) continue;
            const prior = before.evidence?.[name] ?? { n: 0, sum: 0, sum_sq: 0 };
            const g = result.advantage * result.exploration[name];
            const sum = prior.sum + g;
            const sumSq = prior.sum_sq + g * g;
            expect(prior.n + 1).toBeGreaterThanOrEqual(c.evidence_min_samples);
            expect(Math.abs(sum) / Math.sqrt(sumSq)).toBeGreaterThan(c.evidence_z);
            expect(Math.sign(delta)).toBe(Math.sign(sum));
          }
          expectWithinBounds(state);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('credits only the weights whose sign mattered to the lane, and only the first iteration', () => {
    const metrics: LearningMetrics = { ...quiet, confidence: 0.9, seed: 99, lane_sensitive: ['alpha'] };
    const result = learningStep({ state: defaultLearnedState(), metrics });
    expect(Object.keys(result.state.evidence!)).toEqual(['alpha']);
    const later = learningStep({ state: defaultLearnedState(), metrics, creditExploration: false });
    expect(later.credited).toBe(false);
    expect(later.state.evidence).toBeUndefined();
  });

  it('does not move the weights of a default capsule when the turn has no seed (nothing was explored)', () => {
    const result = learningStep({ state: defaultLearnedState(), metrics: { ...quiet, confidence: 0.95, novelty: 0.9 }, config: eager });
    expect(result.learned).toBe(true);
    expect(result.state.weights).toEqual(defaultLearnedState().weights);
    expect(result.state.rewardBaseline).not.toBe(1);
  });

  it('heads towards the optimum of a world that rewards the recall weights, from either side', () => {
    for (const optimum of [3, 0.4]) {
      const random = prng(7);
      let state = defaultLearnedState();
      let tail = 0;
      for (let turn = 0; turn < 2000; turn += 1) {
        const seed = Math.floor(random() * 2 ** 31);
        const used = explorationWeights({ weights: state.weights, seed }).weights;
        const confidence = Math.max(0, Math.min(1, 0.9 - 0.05 * (used.alpha - optimum) ** 2 + (random() * 2 - 1) * 0.1));
        state = learningStep({ state, metrics: { ...quiet, confidence, novelty: 0.8, seed } }).state;
        if (turn >= 1800) tail += state.weights.alpha / 200;
      }
      if (optimum > 1) expect(tail).toBeGreaterThan(2);
      else expect(tail).toBeLessThan(0.8);
      expectWithinBounds(state);
    }
  });

  // This property once failed on a random seed: the former rule (every step moved by lr·a·ε, pulled back
  // by a prior) is a mean-reverting random walk under such rewards, whose tail reaches α's lower bound in
  // about 0.2% of 2,000-step runs (4 of 2,000 seeds measured), so 15 random runs failed about 3% of the
  // time. The evidence rule moves only on significant evidence; what is left is probabilistic too (a
  // rare false move of one small step), so the runs are pinned to fixed seeds.
  it('keeps every weight within 2% of its range of the start when rewards carry no information (fixed seeds)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.double({ min: 0.2, max: 0.8, noNaN: true }), (seed, mean) => {
        const random = prng(seed);
        let state = defaultLearnedState();
        const start = state.weights;
        for (let k = 0; k < 2000; k += 1) {
          const confidence = Math.min(1, Math.max(0, mean + (random() * 2 - 1) * 0.3));
          state = learningStep({ state, metrics: { ...quiet, confidence, novelty: random(), seed: Math.floor(random() * 2 ** 31) } }).state;
          expect(atBound(state)).toEqual([]);
        }
        for (const name of weightNames) {
          const rule = c.weights[name];
          expect(Math.abs(state.weights[name] - start[name]) / (rule.max - rule.min)).toBeLessThan(0.02);
        }
      }),
      { numRuns: 20, seed: 20261201 },
    );
  });
});

describe('feedbackStep', () => {
  const eager = resolveLearningConfig({ evidence_min_samples: 1, evidence_z: 0.5 });

  it("credits the change of the turn's feedback total to its exploration draw, and nothing when it did not change", () => {
    const seed = 4242;
    const eps = explorationSigns({ seed });
    const up = feedbackStep({ state: defaultLearnedState(), total: 1, credited: 0, seed, config: eager });
    expect(up.advantage).toBe(1);
    expect(Math.sign(up.deltas.alpha)).toBe(eps.alpha);
    expect(up.state.rewardBaseline).toBe(1);
    expect(up.state.neuromodulators).toEqual(defaultLearnedState().neuromodulators);
    const same = feedbackStep({ state: up.state, total: 1, credited: 1, seed, config: eager });
    expect(same.advantage).toBe(0);
    expect(same.state).toBe(up.state);
    const down = feedbackStep({ state: defaultLearnedState(), total: -1, credited: 0, seed, config: eager });
    expect(Math.sign(down.deltas.alpha)).toBe(-eps.alpha);
  });

  it('is pure: the same inputs give bit-identical states', () => {
    fc.assert(
      fc.property(stateArbitrary, fc.double({ min: -5, max: 5, noNaN: true }), fc.double({ min: -5, max: 5, noNaN: true }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (state, total, credited, seed) => {
        const a = feedbackStep({ state: structuredClone(state), total, credited, seed, config: eager });
        const b = feedbackStep({ state: structuredClone(state), total, credited, seed, config: eager });
        expect(a.state).toEqual(b.state);
        expectWithinBounds(a.state);
      }),
      { numRuns: 200 },
    );
  });
});

describe('explorationWeights', () => {
  it('nudges each learned weight by ±exploration·scale, leaves a weight of rate 0 alone, and stays within bounds', () => {
    const noBeta = resolveLearningConfig({ weights: { beta: { rate: 0 } } });
    expect(explorationSigns({ seed: 3, config: noBeta }).beta).toBe(0);
    fc.assert(
      fc.property(stateArbitrary, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (state, seed) => {
        const { weights, nudge, signs } = explorationWeights({ weights: state.weights, seed });
        for (const name of weightNames) {
          const rule = learningConstants.weights[name];
          expect(weights[name]).toBeGreaterThanOrEqual(rule.min);
          expect(weights[name]).toBeLessThanOrEqual(rule.max);
          expect(nudge[name]).toBe(weights[name] - state.weights[name]);
          if (rule.rate > 0) {
            expect(Math.abs(signs[name])).toBe(1);
            const intended = state.weights[name] + signs[name] * learningConstants.exploration * rule.scale;
            if (intended >= rule.min && intended <= rule.max) expect(weights[name]).toBeCloseTo(intended, 12);
          }
        }
        expect(explorationWeights({ weights: state.weights, seed })).toEqual({ weights, nudge, signs });
      }),
      { numRuns: 300 },
    );
  });

  it('draws each sign about half the time over many turns, independently per weight', () => {
    const counts = { alpha: 0, gamma: 0, lambda: 0, mu: 0, nu: 0 };
    let agree = 0;
    for (let seed = 0; seed < 4000; seed += 1) {
      const signs = explorationSigns({ seed: seed * 7919 });
      for (const name of Object.keys(counts) as (keyof typeof counts)[]) if (signs[name] > 0) counts[name] += 1;
      if (signs.alpha === signs.gamma) agree += 1;
    }
    for (const count of Object.values(counts)) expect(Math.abs(count / 4000 - 0.5)).toBeLessThan(0.04);
    expect(Math.abs(agree / 4000 - 0.5)).toBeLessThan(0.04);
  });

  it('does not nudge under the gain rule, with exploration 0, or without a seed', () => {
    const weights = defaultLearnedState().weights;
    expect(explorationWeights({ weights, seed: 5, config: gainRule }).weights).toEqual(weights);
    expect(explorationWeights({ weights, seed: 5, config: resolveLearningConfig({ exploration: 0 }) }).weights).toEqual(weights);
    expect(explorationWeights({ weights, seed: undefined }).weights).toEqual(weights);
    expect(explorationWeights({ weights, seed: 5 }).weights).not.toEqual(weights);
  });
});
