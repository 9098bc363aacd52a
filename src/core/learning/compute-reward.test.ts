import { describe, expect, it } from 'vitest';
import { computeReward, type LearningMetrics } from './compute-reward.js';
import { learningConstants } from './learning-constants.js';
import { nextNeuromodulators } from './next-neuromodulators.js';

const base: LearningMetrics = {
  confidence: 0.8,
  convergence_score: 0.4,
  tool_success_rate: 1,
  latency_ms: 0,
  prompt_tokens: 0,
  completion_tokens: 0,
  novelty: 0.5,
  tools_used: [],
};

describe('computeReward', () => {
  it('adds quality and half the tool success rate; self-confidence counts at half weight', () => {
    // quality = 0.5 + 0.5·(0.8 − 0.5) = 0.65; + 0.5·0.5.
    expect(computeReward({ metrics: { ...base, tool_success_rate: 0.5 } }).reward).toBeCloseTo(0.9, 12);
    expect(computeReward({ metrics: { ...base, confidence: null } }).quality).toBeCloseTo(0.45, 12);
    const full = { ...learningConstants, self_confidence_weight: 1 };
    expect(computeReward({ metrics: { ...base, confidence: null }, config: full }).quality).toBe(0.4);
  });

  it('takes a real answer score instead of self-confidence when there is one', () => {
    expect(computeReward({ metrics: { ...base, answer_score: 1 } }).quality).toBe(1);
    expect(computeReward({ metrics: { ...base, confidence: 0.99, answer_score: 0 } }).reward).toBe(0.5);
    // A confident nonsense answer no longer earns ~1.3: at most 0.75 + 0.5 from self-confidence.
    expect(computeReward({ metrics: { ...base, confidence: 0.99 } }).reward).toBeCloseTo(1.245, 12);
  });

  it('charges latency only beyond 2 s, 0.02 per second, at most 0.2', () => {
    const penalty = (latency_ms: number): number => computeReward({ metrics: { ...base, latency_ms } }).latencyPenalty;
    expect(penalty(2000)).toBe(0);
    expect(penalty(7000)).toBeCloseTo(0.1, 12);
    expect(penalty(12_000)).toBeCloseTo(0.2, 12);
    expect(penalty(600_000)).toBe(0.2);
  });

  it('charges tokens only beyond 4,000, 0.02 per 1,000, at most 0.2', () => {
    const penalty = (prompt_tokens: number, completion_tokens: number): number =>
      computeReward({ metrics: { ...base, prompt_tokens, completion_tokens } }).costPenalty;
    expect(penalty(3000, 1000)).toBe(0);
    expect(penalty(8000, 1000)).toBeCloseTo(0.1, 12);
    expect(penalty(100_000, 0)).toBe(0.2);
  });

  it('clamps out-of-range rates into [0, 1] and keeps the reward within [−0.4, 1.5]', () => {
    const high = computeReward({ metrics: { ...base, answer_score: 7, tool_success_rate: 3 } });
    expect(high.reward).toBe(1.5);
    const low = computeReward({ metrics: { ...base, answer_score: -2, tool_success_rate: -1, latency_ms: 1e9, prompt_tokens: 1e9 } });
    expect(low.reward).toBeCloseTo(-0.4, 12);
    expect(computeReward({ metrics: { ...base, confidence: 7, tool_success_rate: 3 } }).reward).toBe(1.25);
  });
});

describe('nextNeuromodulators', () => {
  const start = { dopamine: 0.4, serotonin: 0.5, norepinephrine: 0.05, acetylcholine: 0.05 };

  it('sets dopamine and serotonin from quality', () => {
    const next = nextNeuromodulators({ neuromodulators: start, metrics: { ...base, answer_score: 1 } });
    expect(next.dopamine).toBeCloseTo(0.5, 12);
    expect(next.serotonin).toBeCloseTo(0.55, 12);
    // Self-confidence at half weight: quality 0.25 from a convergence score of 0.
    const fromConvergence = nextNeuromodulators({ neuromodulators: start, metrics: { ...base, confidence: null, convergence_score: 0 } });
    expect(fromConvergence.dopamine).toBeCloseTo(0.35, 12);
  });

  it('raises norepinephrine after an iteration slower than 5 s, else decays it by 10%', () => {
    expect(nextNeuromodulators({ neuromodulators: start, metrics: { ...base, latency_ms: 5001 } }).norepinephrine).toBeCloseTo(0.06, 12);
    expect(nextNeuromodulators({ neuromodulators: start, metrics: { ...base, latency_ms: 5000 } }).norepinephrine).toBeCloseTo(0.045, 12);
  });

  it('raises acetylcholine when tools ran, else decays it by 10%', () => {
    expect(nextNeuromodulators({ neuromodulators: start, metrics: { ...base, tools_used: ['calculator'] } }).acetylcholine).toBeCloseTo(0.06, 12);
    expect(nextNeuromodulators({ neuromodulators: start, metrics: base }).acetylcholine).toBeCloseTo(0.045, 12);
  });

  it('clamps every level to its range', () => {
    let levels = start;
    for (let i = 0; i < 50; i += 1) {
      levels = nextNeuromodulators({ neuromodulators: levels, metrics: { ...base, latency_ms: 60_000, tools_used: ['calculator'] } });
    }
    expect(levels.norepinephrine).toBe(learningConstants.neuromodulators.norepinephrine.max);
    expect(levels.acetylcholine).toBe(learningConstants.neuromodulators.acetylcholine.max);
  });
});
