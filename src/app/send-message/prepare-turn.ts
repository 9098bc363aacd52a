import { truncateToTokens, userMessageTokenLimit } from '../../core/context/index.js';
import { iterationLimits, type IterationLimits } from '../../core/turn/index.js';
import type { ChatModel } from '../../ports/chat-model.js';
import type { CapsuleRecord, MessageRecord } from '../../ports/store.js';
import type { CapabilityConfig } from '../../ports/tools.js';
import type { Failure } from '../../shared/errors.js';
import { ok, refuse, type Result } from '../../shared/result.js';
import { capabilityConfigs, capsuleFound, splitLearningConfig, type SplitLearningConfig } from '../capsules/index.js';
import type { AppContext, Caller } from '../context.js';
import { conversationAccess } from '../conversations.js';
import { routeModel } from '../model-router.js';
import { checkTokenQuota } from '../quotas.js';
import type { AnswerScorer } from '../turn/index.js';
import { createAnswerScorer } from './answer-scorer.js';

/** How many earlier messages of the conversation a turn sees. */
export const HISTORY_MESSAGES = 20;

/** A validated turn request: nothing is written yet. */
export interface PreparedTurn {
  text: string;
  conversationId: string;
  capsule: CapsuleRecord;
  split: SplitLearningConfig;
  enabledCapabilities: CapabilityConfig[];
  model: ChatModel;
  limits: IterationLimits;
  /** The capsule's scorer of answers, when it has one. */
  scorer?: AnswerScorer;
  /** The conversation's latest messages the turn sees, oldest first. */
  recent: Array<Pick<MessageRecord, 'id' | 'role' | 'content'>>;
  /** Set when the message was cut to fit the context (`learning_config.message_overflow: "truncate"`): its full size. */
  truncatedFromTokens?: number;
}

/**
 * The user message within the context: as is when it fits its lane ({@link userMessageTokenLimit});
 * else refused with PAYLOAD_TOO_LARGE, or cut to the lane when the capsule says `truncate`.
 */
function fitMessage(text: string, { model, contextTokens, overflow }: { model: ChatModel; contextTokens: number; overflow: SplitLearningConfig['messageOverflow'] }): Result<{ text: string; truncatedFromTokens?: number }, Failure> {
  const limit = userMessageTokenLimit(contextTokens);
  const tokens = model.countTokens(text);
  if (tokens <= limit) return ok({ text });
  if (overflow === 'refuse') {
    return refuse(
      'PAYLOAD_TOO_LARGE',
      `the message takes ${tokens} tokens, more than the ${limit} this capsule's context (${contextTokens} tokens) lets in for it; shorten it, or set learning_config.message_overflow to "truncate" to cut it`,
      { tokens, limit },
    );
  }
  return ok({ text: truncateToTokens(text, limit, (part) => model.countTokens(part)), truncatedFromTokens: tokens });
}

/**
 * Everything that can refuse a message (empty content, unknown conversation, observer, no model that
 * fits, invalid capsule settings, the tenant's quotas last — the minute's turn is taken by the write
 * that starts the turn, see start-turn), checked before anything is written — so
 * the HTTP layer can answer a refusal with a plain 4xx before it opens a stream.
 */
export async function prepareTurn(
  ctx: Pick<AppContext, 'store' | 'models' | 'settings' | 'clock'>,
  { caller, conversationId, content }: { caller: Caller; conversationId: string; content: string },
): Promise<Result<PreparedTurn, Failure>> {
  const text = content.trim();
  if (text === '') return refuse('VALIDATION_FAILED', 'content must not be empty');
  // The conversation, the caller's role in it, its capsule and its history in one read; the refusals
  // are those of loadConversation and loadCapsule.
  const found = await ctx.store.conversations.findForTurn(caller.tenantId, caller.userId, conversationId, HISTORY_MESSAGES);
  const access = conversationAccess(found, conversationId, { forSend: true });
  if (!access.ok) return access;
  const loaded = capsuleFound(found!.capsule, access.value.conversation.capsuleId);
  if (!loaded.ok) return loaded;
  const { recent } = found!;
  const capsule = loaded.value;
  const split = splitLearningConfig(capsule.learningConfig);
  if (!split.ok) return split;
  const scorer = createAnswerScorer(ctx, split.value.learning.scorer);
  if (!scorer.ok) return scorer;
  const enabledCapabilities = capabilityConfigs(capsule.capabilities).filter((c) => c.enabled);
  const model = routeModel({
    capsuleModel: capsule.model,
    allowedModels: capsule.allowedModels,
    defaultModel: ctx.settings.defaultModel,
    required: enabledCapabilities.length > 0 ? { tools: true } : {},
    factory: ctx.models,
  });
  if (!model.ok) return model;
  // A local model counts tokens with its own tokenizer once it is loaded, so it is loaded here (the
  // first draft would load it anyway): the first message of a fresh server is then not counted with a
  // tiktoken encoder built for it (≈ 0.6–0.8 s and ~140 MB). A failed load is the turn's to report.
  await model.value.warmUp?.().catch(() => undefined);
  const fitted = fitMessage(text, { model: model.value, contextTokens: ctx.settings.contextTokens, overflow: split.value.messageOverflow });
  if (!fitted.ok) return fitted;
  const { rlmEnabled, rlmMaxIterations: maxIterations, rlmMinIterations: minIterations, rlmConvergenceThreshold: threshold } = capsule;
  const limits = iterationLimits({ capsule: { rlmEnabled, maxIterations, minIterations, threshold }, env: ctx.settings.rlm });
  const tokens = await checkTokenQuota(ctx, caller);
  if (!tokens.ok) return tokens;
  return ok({ ...fitted.value, conversationId, recent, capsule, split: split.value, enabledCapabilities, model: model.value, limits, ...(scorer.value ? { scorer: scorer.value } : {}) });
}
