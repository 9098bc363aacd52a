import { defaultLearnedState } from '../../core/learning/index.js';
import { DEFAULT_CONVERGENCE_THRESHOLD } from '../../core/turn/index.js';
import type { Failure } from '../../shared/errors.js';
import { ok, type Result } from '../../shared/result.js';
import type { AppContext, Caller, StoreContext } from '../context.js';
import { recordEvent } from '../events.js';
import type { CapsuleInput } from './capsule-input.js';
import { capsuleView, newCapabilities, type CapsuleView } from './capsule-view.js';
import { splitLearningConfig, validateCapsuleInput, validateLimits } from './validate-capsule.js';

/**
 * `POST /v1/capsules`: validates the whole body (models and MCP servers against the operator's rules), then writes the capsule at the default learned state
 * of its learning config, its capabilities and `capsule.created` in one transaction.
 */
export async function createCapsule(
  ctx: StoreContext & Pick<AppContext, 'builtinTools' | 'admission' | 'logger'>,
  { caller, input }: { caller: Caller; input: CapsuleInput },
): Promise<Result<CapsuleView, Failure>> {
  const split = splitLearningConfig(input.learning_config);
  if (!split.ok) return split;
  const tools = input.tools ?? [];
  const admitted = validateCapsuleInput(input, ctx);
  if (!admitted.ok) return admitted;
  const limitsValid = validateLimits(input.rlm_min_iterations ?? 1, input.rlm_max_iterations ?? 10);
  if (!limitsValid.ok) return limitsValid;
  const state = defaultLearnedState({ config: split.value.learning });
  const id = ctx.ids.uuid();
  const view = await ctx.store.transaction(async (tx) => {
    const capsule = await tx.capsules.insert(
      {
        id,
        tenantId: caller.tenantId,
        name: input.name,
        systemPrompt: input.system_prompt,
        model: input.model ?? null,
        allowedModels: input.allowed_models ?? [],
        rlmEnabled: input.rlm_enabled ?? true,
        rlmMaxIterations: input.rlm_max_iterations ?? 10,
        rlmMinIterations: input.rlm_min_iterations ?? 1,
        rlmConvergenceThreshold: input.rlm_convergence_threshold ?? DEFAULT_CONVERGENCE_THRESHOLD,
        learningConfig: input.learning_config ?? {},
        toolRegistry: tools.map((t) => t.name),
        toolPolicy: input.tool_policy ?? {},
        learnedWeights: state.weights,
        neuromodulatorState: state.neuromodulators,
        rewardBaseline: state.rewardBaseline,
        createdAt: new Date(ctx.clock.now()),
      },
      newCapabilities(ctx.ids, tools),
    );
    const created = capsuleView(capsule);
    await recordEvent(tx, ctx, { eventType: 'capsule.created', tenantId: caller.tenantId, capsuleId: id, subject: `${id}:1`, payload: { capsule: created } });
    return created;
  });
  ctx.logger.info({ tenant_id: caller.tenantId, user_id: caller.userId, capsule_id: id, version: 1, tools: view.tools.map((t) => `${t.kind}:${t.name}`) }, 'capsule created');
  return ok(view);
}
