import { iterationLimits, type IterationLimits } from '../../core/turn/index.js';
import type { ChatModel } from '../../ports/chat-model.js';
import type { CapsuleRecord } from '../../ports/store.js';
import type { CapabilityConfig } from '../../ports/tools.js';
import type { Failure } from '../../shared/errors.js';
import { ok, refuse, type Result } from '../../shared/result.js';
import { capabilityConfigs, loadCapsule, splitLearningConfig, type SplitLearningConfig } from '../capsules/index.js';
import type { AppContext, Caller } from '../context.js';
import { loadConversation } from '../conversations.js';
import { routeModel } from '../model-router.js';

/** A validated turn request: nothing is written yet. */
export interface PreparedTurn {
  text: string;
  conversationId: string;
  capsule: CapsuleRecord;
  split: SplitLearningConfig;
  enabledCapabilities: CapabilityConfig[];
  model: ChatModel;
  limits: IterationLimits;
}

/**
 * Everything that can refuse a message (empty content, unknown conversation, observer, no model that
 * fits, invalid capsule settings), checked before anything is written — so the HTTP layer can answer
 * a refusal with a plain 4xx before it opens a stream.
 */
export async function prepareTurn(
  ctx: Pick<AppContext, 'store' | 'models' | 'settings'>,
  { caller, conversationId, content }: { caller: Caller; conversationId: string; content: string },
): Promise<Result<PreparedTurn, Failure>> {
  const text = content.trim();
  if (text === '') return refuse('VALIDATION_FAILED', 'content must not be empty');
  const found = await loadConversation(ctx.store, caller, conversationId, { forSend: true });
  if (!found.ok) return found;
  const capsule = await loadCapsule(ctx.store, caller, found.value.conversation.capsuleId);
  if (!capsule.ok) return capsule;
  const split = splitLearningConfig(capsule.value.learningConfig);
  if (!split.ok) return split;
  const enabledCapabilities = capabilityConfigs(capsule.value.capabilities).filter((c) => c.enabled);
  const model = routeModel({
    capsuleModel: capsule.value.model,
    allowedModels: capsule.value.allowedModels,
    defaultModel: ctx.settings.defaultModel,
    required: enabledCapabilities.length > 0 ? { tools: true } : {},
    factory: ctx.models,
  });
  if (!model.ok) return model;
  const { rlmEnabled, rlmMaxIterations: maxIterations, rlmMinIterations: minIterations, rlmConvergenceThreshold: threshold } = capsule.value;
  const limits = iterationLimits({ capsule: { rlmEnabled, maxIterations, minIterations, threshold }, env: ctx.settings.rlm });
  return ok({ text, conversationId, capsule: capsule.value, split: split.value, enabledCapabilities, model: model.value, limits });
}
