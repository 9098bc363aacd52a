import type { LlmOutput } from '../../ports/chat-model.js';

/**
 * Confidence of one model output in [0,1]:
 * 1. from token log-probabilities when the provider gave them: `exp(mean logprob)`, clamped;
 * 2. else the model's verbalised self-assessment;
 * 3. else `null` (unknown). Never from the length of the response.
 */
export function confidenceOf(output: Pick<LlmOutput, 'logprobs' | 'verbalConfidence'>): number | null {
  const { logprobs, verbalConfidence } = output;
  if (logprobs && logprobs.count > 0 && Number.isFinite(logprobs.sum)) {
    return clamp01(Math.exp(logprobs.sum / logprobs.count));
  }
  if (verbalConfidence !== null && Number.isFinite(verbalConfidence)) return clamp01(verbalConfidence);
  return null;
}

export function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}
