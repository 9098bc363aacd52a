import type { AppContext } from '../context.js';
import { SomaError } from '../../shared/errors.js';
import type { Learner, LearnResult } from './types.js';

/** Rejects with BRAIN_UNAVAILABLE-style error when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new SomaError('BRAIN_UNAVAILABLE', `${what} timed out after ${ms} ms`, { retryable: true })), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/**
 * The live learner (the brain adapters record learning latency and skips): one synchronous `publish_turn_metrics` per iteration with a tight timeout. A
 * failure marks the brain unhealthy and the iteration goes on with `learning = "skipped"`.
 */
export function createBrainLearner(ctx: AppContext, scope: { tenantId: string; capsuleId: string; seed: number }): Learner {
  return {
    async learn({ metrics }): Promise<LearnResult> {
      try {
        const response = await withTimeout(
          ctx.brain.publishTurnMetrics({ ...metrics, seed: scope.seed, capsule_id: scope.capsuleId, tenant: scope.tenantId } as never),
          ctx.settings.brainTimeoutMs,
          'publish_turn_metrics',
        );
        ctx.health.report('brain', true);
        if (response.status !== 'success' || !response.before) {
          return { status: 'skipped', reason: 'the brain did not apply the step' };
        }
        return {
          status: response.learned === false ? 'gated' : 'applied',
          before: response.before,
          after: response.after ?? { weights: response.weights, neuromodulators: response.neuromodulators, rewardBaseline: response.before.rewardBaseline },
          reward: response.reward ?? 0,
          advantage: response.advantage ?? 0,
          ...(response.seq !== undefined ? { seq: response.seq } : {}),
        };
      } catch (cause) {
        ctx.health.report('brain', false);
        return { status: 'skipped', reason: (cause as Error).message };
      }
    },
  };
}
