import type { CapabilityRecord, CapsuleSettings } from '../../ports/store.js';
import { restoreMaskedSecrets } from '../../shared/mask-secrets.js';
import type { Failure } from '../../shared/errors.js';
import { ok, type Result } from '../../shared/result.js';
import type { AppContext, Caller, StoreContext } from '../context.js';
import { recordEvent } from '../events.js';
import type { CapsuleInput, ToolInput } from './capsule-input.js';
import { capsuleView, newCapabilities, type CapsuleView } from './capsule-view.js';
import { loadCapsule } from './get-capsule.js';
import { splitLearningConfig, validateCapsuleInput, validateLimits } from './validate-capsule.js';

/**
 * Write-only secrets (SPEC §13.1): a tool sent back with `"***"` where its stored config (the stored
 * tool of the same name) has a secret keeps the stored value; a new value replaces it.
 */
function keepStoredSecrets(tools: ToolInput[], stored: CapabilityRecord[]): ToolInput[] {
  const byName = new Map(stored.map((capability) => [capability.name, capability.config]));
  return tools.map((tool) => (tool.config === undefined ? tool : { ...tool, config: restoreMaskedSecrets(tool.config, byName.get(tool.name)) }));
}

/** The settings a patch changes, by their stored names. */
function changedSettings(input: Partial<CapsuleInput>): Partial<CapsuleSettings> {
  return {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.system_prompt !== undefined ? { systemPrompt: input.system_prompt } : {}),
    ...(input.model !== undefined ? { model: input.model } : {}),
    ...(input.allowed_models !== undefined ? { allowedModels: input.allowed_models } : {}),
    ...(input.rlm_enabled !== undefined ? { rlmEnabled: input.rlm_enabled } : {}),
    ...(input.rlm_max_iterations !== undefined ? { rlmMaxIterations: input.rlm_max_iterations } : {}),
    ...(input.rlm_min_iterations !== undefined ? { rlmMinIterations: input.rlm_min_iterations } : {}),
    ...(input.rlm_convergence_threshold !== undefined ? { rlmConvergenceThreshold: input.rlm_convergence_threshold } : {}),
    ...(input.learning_config !== undefined ? { learningConfig: input.learning_config } : {}),
    ...(input.tool_policy !== undefined ? { toolPolicy: input.tool_policy } : {}),
    ...(input.tools !== undefined ? { toolRegistry: input.tools.map((t) => t.name) } : {}),
  };
}

/**
 * `PATCH /v1/capsules/:id`: validates, then in one transaction re-reads the capsule, bumps its
 * version, applies the change (a `tools` list replaces every capability) and writes `capsule.changed`.
 */
export async function patchCapsule(
  ctx: StoreContext & Pick<AppContext, 'builtinTools' | 'admission' | 'logger'>,
  { caller, id, input }: { caller: Caller; id: string; input: Partial<CapsuleInput> },
): Promise<Result<CapsuleView, Failure>> {
  if (input.learning_config !== undefined) {
    const split = splitLearningConfig(input.learning_config);
    if (!split.ok) return split;
  }
  const admitted = validateCapsuleInput(input, ctx);
  if (!admitted.ok) return admitted;
  const patched = await ctx.store.transaction(async (tx): Promise<Result<CapsuleView, Failure>> => {
    const current = await loadCapsule(tx, caller, id);
    if (!current.ok) return current;
    const limits = validateLimits(input.rlm_min_iterations ?? current.value.rlmMinIterations, input.rlm_max_iterations ?? current.value.rlmMaxIterations);
    if (!limits.ok) return limits;
    const version = current.value.version + 1;
    const updated = await tx.capsules.update(id, {
      settings: changedSettings(input),
      version,
      updatedAt: new Date(ctx.clock.now()),
      ...(input.tools !== undefined ? { capabilities: newCapabilities(ctx.ids, keepStoredSecrets(input.tools, current.value.capabilities)) } : {}),
    });
    const view = capsuleView(updated);
    await recordEvent(tx, ctx, { eventType: 'capsule.changed', tenantId: caller.tenantId, capsuleId: id, subject: `${id}:${version}`, payload: { changed: Object.keys(input), capsule: view } });
    return ok(view);
  });
  if (patched.ok) {
    ctx.logger.info({ tenant_id: caller.tenantId, user_id: caller.userId, capsule_id: id, version: patched.value.version, changed: Object.keys(input) }, 'capsule changed');
  }
  return patched;
}
