import { describe, expect, it } from 'vitest';
import { isSomaError } from '../../shared/errors.js';
import { learningConstants } from './learning-constants.js';
import { resolveLearningConfig } from './resolve-learning-config.js';

function errorOf(overrides: unknown): { code: string; message: string } {
  try {
    resolveLearningConfig(overrides);
  } catch (error) {
    if (isSomaError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected resolveLearningConfig to throw');
}

describe('resolveLearningConfig', () => {
  it('returns the SPEC defaults when the capsule has no learning_config', () => {
    expect(resolveLearningConfig(null)).toEqual(learningConstants);
    expect(resolveLearningConfig(undefined)).toEqual(learningConstants);
    expect(resolveLearningConfig({})).toEqual(learningConstants);
  });

  it('holds SPEC §5 defaults, bounds and gains', () => {
    const w = learningConstants.weights;
    expect([w.alpha.default, w.beta.default, w.gamma.default, w.tau.default, w.lambda.default, w.mu.default, w.nu.default]).toEqual([
      1.0, 0.2, 0.1, 0.7, 1.0, 0.1, 0.05,
    ]);
    expect([w.alpha.gain, w.beta.gain, w.gamma.gain, w.tau.gain, w.lambda.gain, w.mu.gain, w.nu.gain]).toEqual([1, 0, -0.5, 0, 1, -0.25, -0.25]);
    expect([w.tau.min, w.tau.max, w.mu.min, w.nu.max]).toEqual([0.05, 2, 0.01, 5]);
    expect(learningConstants.neuromodulators.dopamine).toEqual({ default: 0.4, min: 0.2, max: 0.8 });
    expect(learningConstants.lr_base).toBe(0.05);
    expect(learningConstants.learn_threshold).toBe(0.3);
  });

  it('merges a partial override over the defaults, field by field', () => {
    const config = resolveLearningConfig({ weights: { alpha: { max: 3 } }, lr_base: 0.1, reward: { latency_free_s: 5 }, tau_drives_temperature: true });
    expect(config.weights.alpha).toEqual({ default: 1, min: 0.1, max: 3, gain: 1, rate: 1, scale: 1.5 });
    expect(config.weights.gamma).toEqual(learningConstants.weights.gamma);
    expect(config.lr_base).toBe(0.1);
    expect(config.reward.latency_free_s).toBe(5);
    expect(config.reward.cost_free_tokens).toBe(learningConstants.reward.cost_free_tokens);
    expect(config.tau_drives_temperature).toBe(true);
  });

  it('lists every bad field in one clear error', () => {
    const { code, message } = errorOf({ lr_base: -1, weights: { gamma: { min: 'low' } }, tau_decay: 1.5 });
    expect(code).toBe('VALIDATION_FAILED');
    expect(message).toContain('learning_config.lr_base');
    expect(message).toContain('learning_config.weights.gamma.min');
    expect(message).toContain('learning_config.tau_decay');
  });

  it('rejects unknown fields so a typo is not silently ignored', () => {
    expect(errorOf({ learn_treshold: 0.5 }).message).toMatch(/learn_treshold/);
    expect(errorOf({ weights: { omega: { gain: 1 } } }).message).toMatch(/learning_config\.weights.*omega/);
  });

  it('rejects inconsistent bounds and defaults, naming the weight', () => {
    expect(errorOf({ weights: { alpha: { min: 6 } } }).message).toMatch(/weights\.alpha: min 6 is above max 5/);
    expect(errorOf({ weights: { beta: { default: 2 } } }).message).toMatch(/weights\.beta\.default: 2 is outside \[0, 1\]/);
    expect(errorOf({ weights: { tau: { min: 0, default: 0.5 } } }).message).toMatch(/weights\.tau\.min: must be above 0/);
    expect(errorOf({ neuromodulators: { dopamine: { default: 0.9 } } }).message).toMatch(/neuromodulators\.dopamine\.default/);
    expect(errorOf('fast').message).toMatch(/learning_config/);
  });
});
