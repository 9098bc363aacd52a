import type { AppContext } from '../context.js';
import { SomaError } from '../../shared/errors.js';
import { withTimeout } from './with-timeout.js';
import type { PublishTurnMetricsResponse } from '../../ports/brain.js';
import type { Learner, LearnResult } from './types.js';

/**
 * The live learner (the brain adapters record learning latency and skips): one synchronous `publish_turn_metrics` per iteration with a tight timeout. A
 * failure marks the brain unhealthy and the iteration goes on with `learning = "skipped"`.
 */
export function createBrainLearner(ctx: Pick<AppContext, 'brain' | 'health' | 'settings'>, scope: { tenantId: string; capsuleId: string; seed: number }): Learner {
  return {
    async learn({ metrics, persist }): Promise<LearnResult> {
      // With the in-process brain the iteration row commits inside the learning step's transaction.
      // Once that persist has begun the step is waited for (it owns the write); a step that times
      // out before it is abandoned, so it can never write the iteration a second time.
      let persistStarted = false;
      let abandoned = false;
      const step = ctx.brain.publishTurnMetrics(
        { ...metrics, seed: scope.seed, capsule_id: scope.capsuleId, tenant: scope.tenantId },
        {
          persist: async (answer, transaction) => {
            if (abandoned) throw new SomaError('BRAIN_UNAVAILABLE', 'learning step abandoned after its timeout');
            persistStarted = true;
            await persist(toLearnResult(answer), transaction);
          },
        },
      );
      let result: LearnResult;
      try {
        const response = await withTimeout(step, ctx.settings.brainTimeoutMs, 'publish_turn_metrics').catch((cause: unknown) => {
          if (persistStarted) return step;
          throw cause;
        });
        ctx.health.report('brain', true);
        result = toLearnResult(response);
        if (response.persisted) return result;
      } catch (cause) {
        abandoned = true;
        if (persistStarted) throw cause; // the iteration's own write failed: a database fault, not a brain one
        ctx.health.report('brain', false);
        result = { status: 'skipped', reason: (cause as Error).message };
      }
      await persist(result);
      return result;
    },
  };
}

function toLearnResult(response: PublishTurnMetricsResponse): LearnResult {
  if (response.status !== 'success' || !response.before) return { status: 'skipped', reason: 'the brain did not apply the step' };
  return {
    status: response.learned === false ? 'gated' : 'applied',
    before: response.before,
    after: response.after ?? { weights: response.weights, neuromodulators: response.neuromodulators, rewardBaseline: response.before.rewardBaseline },
    reward: response.reward ?? 0,
    advantage: response.advantage ?? 0,
    ...(response.seq !== undefined ? { seq: response.seq } : {}),
  };
}
