import { describe, expect, it } from 'vitest';
import { bestDraft, confidenceOf, convergenceScore, decideExit, hasPlateaued, isBudgetExhausted, isRepeatedDraft, iterationLimits, type ExitInput } from './index.js';

describe('confidenceOf', () => {
  it('is exp(mean logprob) when log-probabilities are given', () => {
    expect(confidenceOf({ logprobs: { count: 2, sum: -0.2 }, verbalConfidence: 0.1 })).toBeCloseTo(Math.exp(-0.1), 12);
  });
  it('falls back to the verbalised self-assessment, then null', () => {
    expect(confidenceOf({ logprobs: null, verbalConfidence: 0.7 })).toBe(0.7);
    expect(confidenceOf({ logprobs: null, verbalConfidence: null })).toBeNull();
  });
  it('never depends on the length of the response', () => {
    const short = confidenceOf({ logprobs: { count: 3, sum: -3 }, verbalConfidence: null });
    const long = confidenceOf({ logprobs: { count: 300, sum: -300 }, verbalConfidence: null });
    expect(short).toBe(long);
  });
});

describe('convergenceScore', () => {
  it('is 0 while tool calls are pending', () => {
    expect(convergenceScore({ confidence: 1, stability: 1, toolSuccessRate: 1, toolCallsPending: true })).toBe(0);
  });
  it('combines confidence, stability and tool success', () => {
    expect(convergenceScore({ confidence: 1, stability: 1, toolSuccessRate: 1, toolCallsPending: false })).toBe(1);
    expect(convergenceScore({ confidence: 0.5, stability: 0.5, toolSuccessRate: 0, toolCallsPending: false })).toBeCloseTo(0.425, 12);
  });
  it('cannot pass 0.9 on a first draft (no stability yet)', () => {
    expect(convergenceScore({ confidence: 1, stability: null, toolSuccessRate: 1, toolCallsPending: false })).toBeLessThan(0.9);
  });
});

const base: ExitInput = { iteration: 0, minIterations: 1, maxIterations: 10, threshold: 0.9, scores: [0.5], final: false, toolCallsPending: false, loopDetected: false, budgetExhausted: false };

describe('decideExit', () => {
  it('follows SPEC order: converged before llm_completed before plateau before loop before budget before max', () => {
    const all = { ...base, iteration: 9, scores: [0.95, 0.95, 0.95], final: true, loopDetected: true, budgetExhausted: true };
    expect(decideExit(all)).toBe('converged');
    expect(decideExit({ ...all, scores: [0.5, 0.5, 0.5] })).toBe('llm_completed');
    expect(decideExit({ ...all, scores: [0.5, 0.5, 0.5], final: false })).toBe('plateau');
    expect(decideExit({ ...all, scores: [0.1, 0.3, 0.5], final: false })).toBe('loop_detected');
    expect(decideExit({ ...all, scores: [0.1, 0.3, 0.5], final: false, loopDetected: false })).toBe('budget_exhausted');
    expect(decideExit({ ...all, scores: [0.1, 0.3, 0.5], final: false, loopDetected: false, budgetExhausted: false })).toBe('max_iterations');
    expect(decideExit({ ...all, iteration: 2, scores: [0.1, 0.3, 0.5], final: false, loopDetected: false, budgetExhausted: false })).toBe('continue');
  });
  it('waits for the minimum number of iterations before quality exits', () => {
    expect(decideExit({ ...base, minIterations: 2, scores: [0.99] })).toBe('continue');
    expect(decideExit({ ...base, iteration: 1, minIterations: 2, scores: [0.5, 0.99] })).toBe('converged');
    expect(decideExit({ ...base, minIterations: 3, budgetExhausted: true })).toBe('budget_exhausted');
  });
  it('does not accept a final answer while tool calls are pending', () => {
    expect(decideExit({ ...base, final: true, toolCallsPending: true, scores: [0] })).toBe('continue');
  });
  it('detects a plateau only over the last two iterations', () => {
    expect(hasPlateaued([0.5, 0.6])).toBe(false);
    expect(hasPlateaued([0.5, 0.6, 0.505])).toBe(true);
    expect(hasPlateaued([0.5, 0.6, 0.7])).toBe(false);
  });
});

describe('budget, drafts, limits', () => {
  it('is exhausted by tokens or by the deadline', () => {
    expect(isBudgetExhausted({ tokenBudget: 100, deadline: 1000 }, { tokensUsed: 100, now: 0 })).toBe(true);
    expect(isBudgetExhausted({ tokenBudget: 100, deadline: 1000 }, { tokensUsed: 1, now: 1000 })).toBe(true);
    expect(isBudgetExhausted({ tokenBudget: 100, deadline: 1000 }, { tokensUsed: 99, now: 999 })).toBe(false);
  });
  it('picks the highest-scoring draft, the later one on ties, a non-empty one over an empty one', () => {
    const drafts = [
      { iteration: 0, content: 'a', convergenceScore: 0.5 },
      { iteration: 1, content: 'b', convergenceScore: 0.8 },
      { iteration: 2, content: 'c', convergenceScore: 0.8 },
      { iteration: 3, content: 'd', convergenceScore: 0.3 },
    ];
    expect(bestDraft(drafts)?.iteration).toBe(2);
    expect(bestDraft([{ iteration: 0, content: 'x', convergenceScore: 0 }, { iteration: 1, content: ' ', convergenceScore: 0.9 }])?.iteration).toBe(0);
    expect(bestDraft([])).toBeUndefined();
  });
  it('sees a repeated draft through whitespace differences', () => {
    expect(isRepeatedDraft(['The answer  is 42.'], 'The answer is 42.\n')).toBe(true);
    expect(isRepeatedDraft(['The answer is 42.'], 'The answer is 43.')).toBe(false);
    expect(isRepeatedDraft([''], '')).toBe(false);
  });
  it('runs exactly one iteration when any single-shot switch is on, and applies env overrides', () => {
    const capsule = { rlmEnabled: true, maxIterations: 10, minIterations: 1, threshold: 0.9 };
    expect(iterationLimits({ capsule, env: { enabled: false, singleShot: false } }).maxIterations).toBe(1);
    expect(iterationLimits({ capsule, env: { enabled: true, singleShot: true } }).maxIterations).toBe(1);
    expect(iterationLimits({ capsule: { ...capsule, rlmEnabled: false }, env: { enabled: true, singleShot: false } }).maxIterations).toBe(1);
    expect(iterationLimits({ capsule, env: { enabled: true, singleShot: false, maxIterations: 4, convergenceThreshold: 0.5 } })).toEqual({ minIterations: 1, maxIterations: 4, threshold: 0.5, singleShot: false });
  });
});
