import type { AppContext } from '../context.js';
import { SomaError, hasErrorCode } from '../../shared/errors.js';
import { withTimeout } from './with-timeout.js';
import type { PublishTurnMetricsResponse } from '../../ports/brain.js';
import type { Learner, LearnResult } from './types.js';

/**
 * Waits before each new attempt of an iteration's write while the database cannot be reached
 * (≈ 3.9 s in all); then the turn ends (`DATABASE_UNAVAILABLE`) and closes once the database is back.
 */
export const ITERATION_WRITE_RETRY_MS = [100, 250, 500, 1_000, 2_000];

/**
 * The live learner (the brain adapters record learning latency and skips): one synchronous `publish_turn_metrics` per iteration with a tight timeout. A
 * failure marks the brain unhealthy and the iteration goes on with `learning = "skipped"`. When the
 * iteration's own write fails because the database went away, the step and the write are tried
 * again with backoff ({@link ITERATION_WRITE_RETRY_MS}; nothing committed, so nothing is doubled).
 */
export function createBrainLearner(ctx: Pick<AppContext, 'brain' | 'health' | 'settings'>, scope: { tenantId: string; capsuleId: string; seed: number }, retryMs: readonly number[] = ITERATION_WRITE_RETRY_MS): Learner {
  const learnOnce: Learner['learn'] = async ({ metrics, persist, appendOnly }) => {
    // With the in-process brain the iteration row commits inside the learning step's transaction.
    // Once that persist has begun the step is waited for (it owns the write); a step that times
    // out before it is abandoned, so it can never write the iteration a second time.
    let persistStarted = false;
    let abandoned = false;
    const step = ctx.brain.publishTurnMetrics(
      { ...metrics, seed: scope.seed, capsule_id: scope.capsuleId, tenant: scope.tenantId },
      {
        appendOnly: appendOnly ?? false,
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
  };
  return {
    groupsWrites: ctx.brain.groupsSteps === true,
    async learn(input): Promise<LearnResult> {
      for (let attempt = 0; ; attempt++) {
        try {
          const result = await learnOnce(input);
          if (attempt > 0) ctx.health.report('database', true);
          return result;
        } catch (cause) {
          if (!hasErrorCode(cause, 'DATABASE_UNAVAILABLE')) throw cause;
          ctx.health.report('database', false);
          const wait = retryMs[attempt];
          if (wait === undefined) throw new SomaError('DATABASE_UNAVAILABLE', `the database stayed unreachable; iteration ${input.iteration} could not be stored`, { retryable: true, cause });
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
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
